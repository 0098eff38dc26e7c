"""AIRS-CH0 optimal spectral extraction (Horne 1986) with background from the edge rows,
plus the trace position and width that pointing jitter moves."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import median_filter

from spectramind.extract.options import ExtractionOptions


@dataclass(frozen=True)
class Spectrum:
    """Per (time, column) flux and variance in e-, and per-time regressors."""

    flux: np.ndarray
    variance: np.ndarray
    trace_row: np.ndarray
    trace_width: np.ndarray
    background: np.ndarray


def edge_background(flux: np.ndarray, bad: np.ndarray, edge_rows: int) -> np.ndarray:
    """Sky + residual dark per pixel and time bin: median of ``edge_rows`` rows at the top
    and at the bottom."""
    edges = np.r_[0:edge_rows, flux.shape[1] - edge_rows : flux.shape[1]]
    keep = ~bad[edges]
    return np.array([np.median(frame[edges][keep]) for frame in flux])


def median_background_variance(
    total_weight: np.ndarray, sky_weight: np.ndarray, sky_variance: np.ndarray, n_sky: np.ndarray
) -> np.ndarray:
    """Variance that subtracting a median background adds to a weighted sum sum_i a_i x_i.

    The median of ``n_sky`` pixels of mean variance ``sky_variance`` has variance
    (pi / 2) sky_variance / n_sky and is common to every pixel, so it enters with
    ``total_weight`` = sum_i a_i squared; it covaries with each of its own pixels by
    sky_variance / n_sky, which enters with ``sky_weight`` = the a_i summed over them.
    """
    shared = np.pi / 2 * total_weight**2 - 2.0 * total_weight * sky_weight
    return shared * sky_variance / n_sky


def spatial_profile(clean: np.ndarray, bad: np.ndarray, smoothing_columns: int) -> np.ndarray:
    """(rows, columns) spatial profile: time-summed frame, median-smoothed over
    ``smoothing_columns`` along the dispersion direction, clipped at zero, normalised to unit
    sum in every column."""
    total = np.where(bad, np.nan, clean.sum(axis=0))
    filled = np.where(np.isnan(total), np.nanmedian(total, axis=1, keepdims=True), total)
    smooth = median_filter(filled, size=(1, smoothing_columns), mode="nearest")
    smooth = np.clip(smooth, 0.0, None)
    return smooth / smooth.sum(axis=0, keepdims=True)


def optimal_extraction(
    flux: np.ndarray,
    variance: np.ndarray,
    bad: np.ndarray,
    options: ExtractionOptions,
) -> Spectrum:
    """Extract (time, columns) spectra from frames (time, rows, columns).

    Horne's weights P / V with V the model variance: the data's variance with its shot term
    replaced by the profile model's, so bright noise spikes do not down-weight themselves.
    Bad (dead, hot) pixels get zero weight; the profile carries their flux. The variance
    is that of the weighted sum with the data's variance, plus the edge background's error.
    """
    background = edge_background(flux, bad, options.airs_edge_rows)
    clean = flux - background[:, None, None]
    profile = spatial_profile(clean, bad, options.airs_profile_smoothing_columns)
    box = clean.sum(axis=1)  # first guess, (time, columns)
    read_like = np.clip(variance - np.clip(flux, 0.0, None), 0.0, None)
    model_variance = np.clip(profile[None] * box[:, None, :], 0.0, None) + read_like
    model_variance = np.maximum(model_variance, 1e-6)
    weight = np.where(bad[None], 0.0, profile[None] / model_variance)
    norm = (weight * profile[None]).sum(axis=1)
    extracted = (weight * clean).sum(axis=1) / norm
    extracted_variance = (weight**2 * variance).sum(axis=1) / norm**2 + _background_variance(
        weight / norm[:, None], variance, bad, options.airs_edge_rows
    )
    rows = np.arange(flux.shape[1], dtype=np.float64)
    white = np.clip(clean.sum(axis=2), 0.0, None)  # (time, rows)
    centre = (white * rows).sum(axis=1) / white.sum(axis=1)
    width = np.sqrt((white * (rows[None] - centre[:, None]) ** 2).sum(axis=1) / white.sum(axis=1))
    return Spectrum(extracted, extracted_variance, centre, width, background)


def _background_variance(
    weight: np.ndarray, variance: np.ndarray, bad: np.ndarray, edge_rows: int
) -> np.ndarray:
    """(time, columns) variance from ``edge_background`` for normalised extraction weights
    (time, rows, columns)."""
    n_rows = variance.shape[1]
    edges = np.zeros(bad.shape, dtype=bool)
    edges[np.r_[0:edge_rows, n_rows - edge_rows : n_rows]] = True
    sky = edges & ~bad
    n_sky = sky.sum()
    sky_variance = variance[:, sky].mean(axis=1)[:, None]
    sky_weight = np.where(sky[None], weight, 0.0).sum(axis=1)
    return median_background_variance(weight.sum(axis=1), sky_weight, sky_variance, n_sky)
