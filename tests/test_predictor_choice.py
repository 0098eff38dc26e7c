"""predictor auto (spectramind/evaluation/predictor_choice.py): the physics fit or V50 by
their out-of-fold scores on the train planets both predicted."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spectramind.evaluation.artifacts import ArtifactError
from spectramind.evaluation.predictor_choice import choose_predictor, read_choice
from spectramind.kaggle.layout import inference_artifacts

NAIVE = {"mean": 0.01, "sigma": 0.005}


def _validation(ids, truth, error_ppm: float, sigma_ppm: float, seed: int):
    rng = np.random.default_rng(seed)
    rows = truth[[list(ALL_IDS).index(i) for i in ids]]
    mu = rows + rng.normal(0, error_ppm * 1e-6, rows.shape)
    return ids, mu, np.full(rows.shape, sigma_ppm * 1e-6), rows


ALL_IDS = list(range(100, 120))
TRUTH = np.random.default_rng(0).uniform(0.005, 0.02, (20, 1))[:, [0] * 283]


def test_the_better_out_of_fold_score_wins_on_the_shared_planets():
    """V50 closer to the truth with an honest sigma: v50; the physics fit better: physics.
    Only planets both predicted count (V50 validated 12 of the 20)."""
    physics = _validation(ALL_IDS, TRUTH, 100, 100, 1)
    v50 = _validation(ALL_IDS[:12], TRUTH, 50, 50, 2)
    choice = choose_predictor({"physics": physics, "v50": v50}, NAIVE)
    assert choice["predictor"] == "v50" and choice["n_planets"] == 12
    assert choice["scores"]["v50"] > choice["scores"]["physics"]
    worse = _validation(ALL_IDS[:12], TRUTH, 300, 50, 2)  # confidently wrong
    assert choose_predictor({"physics": physics, "v50": worse}, NAIVE)["predictor"] == "physics"


def test_too_few_shared_planets_or_a_tie_is_the_physics_fit():
    physics = _validation(ALL_IDS, TRUTH, 100, 100, 1)
    few = _validation(ALL_IDS[:4], TRUTH, 10, 10, 2)
    choice = choose_predictor({"physics": physics, "v50": few}, NAIVE)
    assert choice["predictor"] == "physics" and "only 4" in choice["reason"]
    assert choose_predictor({"physics": physics, "v50": physics}, NAIVE)["predictor"] == "physics"


def test_a_choice_artifact_is_read_back_or_refused_with_its_path(tmp_path):
    path = tmp_path / "predictor_choice.json"
    path.write_text(json.dumps({"predictor": "v50", "scores": {}}))
    assert read_choice(path) == "v50"
    path.write_text(json.dumps({"predictor": "mamba"}))
    with pytest.raises(ArtifactError, match="predictor_choice.json.*mamba"):
        read_choice(path)
    path.write_text("{not json")
    with pytest.raises(ArtifactError, match="not a readable predictor choice"):
        read_choice(path)


def test_a_kaggle_bundle_of_predictor_auto_ships_the_model_and_the_choice():
    """auto's inference runs V50 (its per-planet fallback needs both) and reads the choice."""
    assert {"model/checkpoint.pt", "predictor_choice.json"} <= set(inference_artifacts("auto"))
    assert "predictor_choice.json" not in inference_artifacts("v50")
    assert "model/checkpoint.pt" not in inference_artifacts("physics")
