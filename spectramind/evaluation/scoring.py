"""Score the submitted predictions of simulated test planets against the simulator's truth."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spectramind.evaluation.baselines import public_baseline_prediction, white_light_depths
from spectramind.evaluation.metrics import (
    competition_score,
    error_summary,
    planet_scores,
    rmse_over_floor,
)
from spectramind.guards.fallback import naive_prediction
from spectramind.submission.format import read_submission

N_WORST = 10  # planets listed under "worst_planets"


def evaluate(
    predictions: Mapping[str, tuple[np.ndarray, np.ndarray]],
    truth: np.ndarray,
    naive: Mapping[str, float],
    noise_floor: np.ndarray | None = None,
    marginalised_floor: np.ndarray | None = None,
) -> dict[str, Any]:
    """Score, RMSE, bias, coverage and RMSE / noise floor (depth-only and, if given,
    marginalised: root-mean-squares over all planets and bins) of each named (mu, sigma);
    ``naive`` is the naive reference artifact (train ``mean`` and ``sigma``)."""
    mean, std = naive["mean"], naive["sigma"]
    report: dict[str, Any] = {"n_planets": int(truth.shape[0]), "naive_mean": mean,
                              "naive_sigma": std}  # fmt: skip
    for name, (mu, sigma) in predictions.items():
        summary = error_summary(truth, mu, sigma, noise_floor).as_dict()
        summary.pop("bias_per_bin")
        report[name] = {
            "score": competition_score(truth, mu, sigma, mean, std),
            "score_unclipped": competition_score(truth, mu, sigma, mean, std, clip=False),
            **summary,
        }
        if marginalised_floor is not None:
            ratio = rmse_over_floor(mu - truth, marginalised_floor)
            report[name]["rmse_over_marginalised_floor"] = ratio
    return report


def score_simulated_run(
    submission: str | Path,
    test_lightcurves: Sequence[str | Path],
    naive: Mapping[str, float],
    public_baseline: Mapping[str, float],
    test_labels: pd.DataFrame,
    noise_floor: pd.DataFrame,
    marginalised_floor: pd.DataFrame,
    predictor: str = "physics_fit",
    others: Mapping[str, tuple[list[int], np.ndarray, np.ndarray]] | None = None,
    guards: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """The submission (under the name of its ``predictor``) vs the naive and public
    baselines on the simulated test planets, and vs ``others`` (named ids, mu, sigma: the
    predictions before sigma calibration, the physics fit under a model); RMSE also relative
    to both Cramer-Rao floors (depth-only and marginalised). Planets without light curves
    (excluded by check_raw) get the naive prediction from every method, as the submission
    gives them. The submission's per-planet scores (aligned with ``planet_ids``) and its
    worst planets (``worst_planets``) are added, with their guard state and predictor when
    the guard table (``guards``) is given."""
    ids, mu, sigma = read_submission(submission)
    truth = test_labels.loc[ids].to_numpy()
    floor = noise_floor.loc[ids].to_numpy()
    naive_mu, naive_sigma = naive_prediction(naive["mean"], naive["sigma"], len(ids))
    white = white_light_depths(test_lightcurves)
    scale = public_baseline["depth_scale"]
    public_mu, public_sigma = public_baseline_prediction(
        np.array([scale * white.get(i, np.nan) for i in ids]), public_baseline["constant_sigma"]
    )
    missing = ~np.isfinite(public_mu[:, 0])
    public_mu[missing], public_sigma[missing] = naive_mu[missing], naive_sigma[missing]
    methods = {
        predictor: (mu, sigma),
        "naive": (naive_mu, naive_sigma),
        "public_baseline": (public_mu, public_sigma),
    }
    for name, (other_ids, other_mu, other_sigma) in (others or {}).items():
        row = {planet: k for k, planet in enumerate(other_ids)}
        filled_mu, filled_sigma = naive_mu.copy(), naive_sigma.copy()
        for k, planet in enumerate(ids):
            if planet in row:
                filled_mu[k], filled_sigma[k] = other_mu[row[planet]], other_sigma[row[planet]]
        methods[name] = (filled_mu, filled_sigma)
    report = evaluate(
        methods,
        truth,
        naive,
        floor,
        marginalised_floor.loc[ids].to_numpy(),
    )
    report["public_baseline"].update(public_baseline)
    scores = planet_scores(truth, mu, sigma, naive["mean"], naive["sigma"])
    report[predictor]["per_planet_score"] = scores.tolist()
    report["worst_planets"] = worst_scored(ids, scores, guards)
    report["predictor"] = predictor
    report["planet_ids"] = ids
    report["planets_without_lightcurves"] = [i for i in ids if i not in white]
    return report


def worst_scored(
    ids: Sequence[int], scores: np.ndarray, guards: pd.DataFrame | None = None, n: int = N_WORST
) -> list[dict[str, Any]]:
    """The ``n`` lowest-scoring planets, worst first: id and score, and their guard state
    and predictor where the guard table has them."""
    by_planet = {} if guards is None else guards.set_index("planet_id").to_dict("index")
    worst = []
    for k in np.argsort(scores, kind="stable")[:n]:
        planet = int(ids[k])
        row: dict[str, Any] = {"planet_id": planet, "score": float(scores[k])}
        if planet in by_planet:
            row |= {key: by_planet[planet][key] for key in ("state", "predictor")}
        worst.append(row)
    return worst
