"""Reference predictors the physics fit must beat.

naive: every bin gets the mean and std of all training depths (the score's zero point).
public baseline: the organisers' simple method, one white-light depth for all 283 bins from a
polynomial baseline fitted outside the transit, and one constant sigma (here the RMS error
of that method on the training planets, the best a constant can do).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.ndimage import uniform_filter1d

SMOOTHING_BINS = 5
EDGE_MARGIN_FRACTION = 0.05
BASELINE_DEGREE = 3


def naive_prediction(train_depths: np.ndarray, n_planets: int) -> tuple[np.ndarray, np.ndarray]:
    """Train mean and std in every bin of every planet."""
    mean, std = float(np.mean(train_depths)), float(np.std(train_depths))
    shape = (n_planets, train_depths.shape[1])
    return np.full(shape, mean), np.full(shape, std)


def white_light_depth(lightcurves: xr.Dataset) -> float:
    """Transit depth of the AIRS white light of the first visit, the public-notebook way:
    ingress and egress at the steepest fall and rise of the smoothed curve, a cubic
    baseline through the bins outside them, depth = 1 - median of flux / baseline over the
    middle half of the transit."""
    time = lightcurves["time"].values[0]
    flux = lightcurves["flux"].values[0, :, 1:].sum(axis=1)
    flux = flux / np.median(flux)
    slope = np.gradient(uniform_filter1d(flux, SMOOTHING_BINS, mode="nearest"))
    ingress, egress = int(np.argmin(slope)), int(np.argmax(slope))
    if egress <= ingress:  # partial transit: fall back to the deepest stretch
        ingress, egress = sorted((ingress, egress))
    width = max(egress - ingress, 2)
    margin = max(int(EDGE_MARGIN_FRACTION * len(time)), 1)
    outside = np.ones(len(time), dtype=bool)
    outside[max(ingress - margin, 0) : egress + margin + 1] = False
    if outside.sum() < BASELINE_DEGREE + 2:
        outside[:] = True
    coeffs = np.polyfit(time[outside], flux[outside], BASELINE_DEGREE)
    middle = slice(ingress + width // 4, egress - width // 4 + 1)
    return float(1.0 - np.median(flux[middle] / np.polyval(coeffs, time[middle])))


def public_baseline_prediction(
    depths: np.ndarray, train_errors: np.ndarray, n_bins: int = 283
) -> tuple[np.ndarray, np.ndarray]:
    """Each planet's white-light depth in every bin; sigma = RMS of the training errors."""
    sigma = float(np.sqrt(np.mean(np.square(train_errors))))
    mu = np.repeat(np.clip(depths, 0.0, None)[:, None], n_bins, axis=1)
    return mu, np.full_like(mu, sigma)
