"""Bad pixels: which to mask, and how masked pixels are filled so sums stay unbiased."""

from __future__ import annotations

import numpy as np
from astropy.stats import sigma_clip

FLAG_DEAD, FLAG_HOT, FLAG_COSMIC = 1, 2, 4
FLAG_MEANINGS = "dead hot cosmic_ray_replaced"


def hot_pixels(dark: np.ndarray, sigma: float) -> np.ndarray:
    """Hot pixels: outliers of an iterative ``sigma`` clip of the dark frame (astropy)."""
    return np.asarray(sigma_clip(dark, sigma=sigma, maxiters=5).mask, dtype=bool)


def fill_masked_along_columns(values: np.ndarray, variance: np.ndarray, masked: np.ndarray) -> None:
    """Replace masked pixels (rows, columns mask) of (time, rows, columns) arrays in place by
    linear interpolation between the nearest unmasked pixels of the same row.

    Along a row the AIRS spectrum and the FGS1 PSF wing vary smoothly, so a sum over pixels
    keeps its expectation. A filled pixel's variance is w_left^2 var_left + w_right^2
    var_right, its own scatter, so it stays right as an optimal-extraction weight. Its
    covariance with the two pixels it copies (w var each) has no place in a per-pixel
    array: a plain sum over the filled pixel and its neighbours understates its variance by
    2 (w_left var_left + w_right var_right), about one pixel's variance. Extraction gives
    filled pixels zero weight in the PSF and optimal sums, where this would matter most.
    """
    n_cols = masked.shape[1]
    columns = np.arange(n_cols)
    for row in np.flatnonzero(masked.any(axis=1)):
        good = columns[~masked[row]]
        bad = columns[masked[row]]
        if good.size == 0:
            values[:, row, bad] = 0.0
            variance[:, row, bad] = 0.0
            continue
        right = np.clip(np.searchsorted(good, bad), 0, good.size - 1)
        left = np.clip(right - 1, 0, good.size - 1)
        right = np.where(good[right] < bad, left, right)  # beyond the last good pixel
        left = np.where(good[left] > bad, right, left)  # before the first good pixel
        span = (good[right] - good[left]).astype(float)
        # Past the first or last good pixel: a copy of it (left == right, all weight left).
        w_right = np.where(span > 0, (bad - good[left]) / np.where(span > 0, span, 1), 0.0)
        w_left = 1.0 - w_right
        values[:, row, bad] = (
            w_left * values[:, row, good[left]] + w_right * values[:, row, good[right]]
        )
        variance[:, row, bad] = (
            w_left**2 * variance[:, row, good[left]] + w_right**2 * variance[:, row, good[right]]
        )
