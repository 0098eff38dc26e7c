"""Fallback predictions for planets without one of their own, in one place.

The prior predictive (what the train population says from the star row alone) when it was
learned and the planet has a star row; else the naive reference (train mean and std of all
depths, the score's zero point) in every bin, the last resort. Scoring compares predictions
with the naive one; a submission fills every test planet without a prediction here, so
Kaggle gets a row for each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from spectramind.guards.prior_predictive import PriorPredictive
from spectramind.io.layout import N_TARGETS


def naive_prediction(
    mean: float, sigma: float, n_planets: int, n_bins: int = N_TARGETS
) -> tuple[np.ndarray, np.ndarray]:
    """(mu, sigma), each (n_planets, n_bins): the naive reference's mean and std."""
    shape = (n_planets, n_bins)
    return np.full(shape, mean), np.full(shape, sigma)


def fallback_prediction(
    planet_ids: Sequence[int],
    stars: pd.DataFrame | None,
    prior: PriorPredictive | None,
    naive: Mapping[str, float],
    n_bins: int = N_TARGETS,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(mu, sigma), each (planets, n_bins), and the predictor of each planet: the prior
    predictive for a planet with a row in ``stars`` (indexed by planet_id), the naive
    prediction when there is no prior, no star table or no row."""
    ids = [int(pid) for pid in planet_ids]
    mu, sigma = naive_prediction(naive["mean"], naive["sigma"], len(ids), n_bins)
    predictors = ["naive"] * len(ids)
    if prior is None or stars is None:
        return mu, sigma, predictors
    if prior.n_bins != n_bins:
        raise ValueError(f"the prior predictive has {prior.n_bins} bins, not {n_bins}")
    rows = [k for k, pid in enumerate(ids) if pid in stars.index]
    if rows:
        mu[rows], sigma[rows] = prior.predict(stars.loc[[ids[k] for k in rows]])
        for k in rows:
            predictors[k] = "prior_predictive"
    return mu, sigma, predictors


def complete_with_fallback(
    planet_ids: Sequence[int],
    mu: np.ndarray,
    sigma: np.ndarray,
    test_ids: Iterable[int],
    stars: pd.DataFrame | None,
    prior: PriorPredictive | None,
    naive: Mapping[str, float],
) -> tuple[list[int], np.ndarray, np.ndarray, dict[int, str]]:
    """Rows for every test planet in ``test_ids`` order: the given predictions, and the
    fallback for the planets without one (``filled``: planet -> predictor name)."""
    known = {int(pid): k for k, pid in enumerate(planet_ids)}
    ids = [int(pid) for pid in test_ids]
    missing = [pid for pid in ids if pid not in known]
    fill_mu, fill_sigma, predictors = fallback_prediction(missing, stars, prior, naive, mu.shape[1])
    fill = {pid: len(mu) + k for k, pid in enumerate(missing)}
    rows = np.array([known[pid] if pid in known else fill[pid] for pid in ids], dtype=int)
    full_mu = np.concatenate([mu, fill_mu])[rows]
    full_sigma = np.concatenate([sigma, fill_sigma])[rows]
    return ids, full_mu, full_sigma, dict(zip(missing, predictors, strict=True))
