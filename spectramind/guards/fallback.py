"""Fallback predictions for a planet without one of its own. The naive prediction: the naive
reference (train mean and std of all depths, the score's zero point) in every bin. Scoring
compares predictions with it; it is the last resort for a planet without a prediction."""

from __future__ import annotations

import numpy as np

from spectramind.io.layout import N_TARGETS


def naive_prediction(
    mean: float, sigma: float, n_planets: int, n_bins: int = N_TARGETS
) -> tuple[np.ndarray, np.ndarray]:
    """(mu, sigma), each (n_planets, n_bins): the naive reference's mean and std."""
    shape = (n_planets, n_bins)
    return np.full(shape, mean), np.full(shape, sigma)
