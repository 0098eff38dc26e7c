"""FGS1 white-light photometry on calibrated frames: centroids, background, and the flux by
the method with the lowest measured scatter (circular apertures, PSF-weighted, full window).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spectramind.extract.options import ExtractionOptions, aperture_name


@dataclass(frozen=True)
class Photometry:
    """Per-time-bin FGS1 results: flux and variance (e-), centroid (px), background (e-/px)."""

    method: str
    flux: np.ndarray
    variance: np.ndarray
    centroid_x: np.ndarray
    centroid_y: np.ndarray
    background: np.ndarray
    scatter: dict[str, float]


def robust_scatter(series: np.ndarray) -> float:
    """Relative point-to-point scatter: 1.4826 MAD of first differences / sqrt(2) / median.

    Differences remove the transit and drifts, the MAD ignores the odd outlier.
    """
    diffs = np.diff(series)
    mad = np.median(np.abs(diffs - np.median(diffs)))
    return float(1.4826 * mad / np.sqrt(2.0) / np.median(series))


def centroids(frames: np.ndarray, half: int) -> tuple[np.ndarray, np.ndarray]:
    """Flux-weighted centroid (x, y) per frame inside a box reaching ``half`` px either side
    of the brightest pixel of the time-summed frame."""
    total = frames.sum(axis=0)
    row, col = np.unravel_index(np.argmax(total), total.shape)
    rows = slice(max(row - half, 0), row + half + 1)
    cols = slice(max(col - half, 0), col + half + 1)
    box = np.clip(frames[:, rows, cols], 0.0, None)
    weight = box.sum(axis=(1, 2))
    y = np.arange(frames.shape[1])[rows]
    x = np.arange(frames.shape[2])[cols]
    cx = (box.sum(axis=1) * x).sum(axis=1) / weight
    cy = (box.sum(axis=2) * y).sum(axis=1) / weight
    return cx, cy


def photometry(
    flux: np.ndarray,
    variance: np.ndarray,
    bad: np.ndarray,
    options: ExtractionOptions,
) -> Photometry:
    """White light of FGS1 frames (time, 32, 32). ``bad``: (32, 32) pixels to trust less.

    ``options.fgs1_method`` "auto" picks the candidate with the lowest robust scatter.
    """
    cx, cy = centroids(flux, options.fgs1_centroid_half_width_px)
    yy, xx = np.mgrid[: flux.shape[1], : flux.shape[2]]
    radius = np.hypot(xx[None] - cx[:, None, None], yy[None] - cy[:, None, None])
    sky = radius > options.fgs1_background_radius_px
    background = np.array([np.median(f[s & ~bad]) for f, s in zip(flux, sky, strict=True)])
    clean = flux - background[:, None, None]
    candidates: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for r in options.fgs1_aperture_radii_px:
        inside = radius <= r
        candidates[aperture_name(r)] = (
            (clean * inside).sum(axis=(1, 2)),
            (variance * inside).sum(axis=(1, 2)),
        )
    candidates["window"] = (clean.sum(axis=(1, 2)), variance.sum(axis=(1, 2)))
    candidates["psf"] = _psf_weighted(clean, variance, bad)
    scatter = {name: robust_scatter(f) for name, (f, _) in candidates.items()}
    chosen = min(scatter, key=scatter.get) if options.fgs1_method == "auto" else options.fgs1_method
    total, total_variance = candidates[chosen]
    return Photometry(chosen, total, total_variance, cx, cy, background, scatter)


def _psf_weighted(
    clean: np.ndarray, variance: np.ndarray, bad: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Optimal weighting with the time-averaged PSF: sum(P D / V) / sum(P^2 / V)."""
    psf = np.clip(clean.mean(axis=0), 0.0, None)
    psf /= psf.sum()
    weight = np.where(bad, 0.0, psf / np.maximum(variance, 1e-9))
    norm = (weight * psf).sum(axis=(1, 2))
    return (weight * clean).sum(axis=(1, 2)) / norm, 1.0 / norm
