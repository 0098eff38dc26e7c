"""``predictor: auto``: the physics fit or the V50 model, whichever scores better out of fold
on the train planets. Each candidate's validation predictions are made without the planets
that score them (the physics fit's spectral prior cross-fitted, V50's members' held-out
folds), so the choice is evidence, not a fit to the same planets; on a tie, or where the
two share too few planets to tell, the physics fit: the simpler model wins."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from spectramind.evaluation.artifacts import ArtifactError
from spectramind.evaluation.metrics import competition_score

CANDIDATES = ("physics", "v50")
MIN_SHARED_PLANETS = 5  # fewer shared validation planets than this: too few to choose on

Validation = tuple[Sequence[int], np.ndarray, np.ndarray, np.ndarray]  # ids, mu, sigma, truth


def choose_predictor(
    validation: Mapping[str, Validation], naive: Mapping[str, float]
) -> dict[str, object]:
    """The choice (``predictor``), each candidate's unclipped score on the validation planets
    both have (``scores``), and how many they are (``n_planets``)."""
    shared = sorted(set.intersection(*(set(map(int, v[0])) for v in validation.values())))
    scores = {}
    for name, (ids, mu, sigma, truth) in validation.items():
        rows = [list(map(int, ids)).index(pid) for pid in shared]
        scores[name] = (
            competition_score(
                truth[rows], mu[rows], sigma[rows], naive["mean"], naive["sigma"], clip=False
            )  # fmt: skip
            if rows
            else float("nan")
        )
    enough = len(shared) >= MIN_SHARED_PLANETS
    better = enough and scores.get("v50", np.nan) > scores.get("physics", np.nan)
    return {
        "predictor": "v50" if better else "physics",
        "scores": scores,
        "n_planets": len(shared),
        "reason": (
            f"{'v50' if better else 'physics'} scores higher out of fold on {len(shared)} "
            "train planets"
            if enough
            else f"only {len(shared)} train planets scored by both: the physics fit"
        ),
    }


def read_choice(path: str | Path) -> str:
    """The predictor a choice artifact names; ArtifactError naming the file otherwise."""
    try:
        chosen = json.loads(Path(path).read_text()).get("predictor")
    except (OSError, json.JSONDecodeError, AttributeError) as err:
        raise ArtifactError(f"{path}: not a readable predictor choice: {err}") from err
    if chosen not in CANDIDATES:
        raise ArtifactError(f"{path}: predictor {chosen!r} is not one of {CANDIDATES}")
    return chosen
