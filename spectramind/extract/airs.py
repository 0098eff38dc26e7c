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
    Bad (dead, hot) pixels get zero weight; the profile carries their flux.
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
    rows = np.arange(flux.shape[1], dtype=np.float64)
    white = np.clip(clean.sum(axis=2), 0.0, None)  # (time, rows)
    centre = (white * rows).sum(axis=1) / white.sum(axis=1)
    width = np.sqrt((white * (rows[None] - centre[:, None]) ** 2).sum(axis=1) / white.sum(axis=1))
    return Spectrum(extracted, 1.0 / norm, centre, width, background)
