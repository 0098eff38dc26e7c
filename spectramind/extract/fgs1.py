"""FGS1 white-light photometry on calibrated frames: centroids, background, and the flux by
the method with the lowest measured scatter (circular apertures, PSF-weighted, full window).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spectramind.extract.airs import median_background_variance
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
    Every candidate's variance includes the error of the median sky it subtracts.
    """
    cx, cy = centroids(flux, options.fgs1_centroid_half_width_px)
    yy, xx = np.mgrid[: flux.shape[1], : flux.shape[2]]
    radius = np.hypot(xx[None] - cx[:, None, None], yy[None] - cy[:, None, None])
    sky = (radius > options.fgs1_background_radius_px) & ~bad
    background = np.array([np.median(f[s]) for f, s in zip(flux, sky, strict=True)])
    clean = flux - background[:, None, None]
    n_sky = sky.sum(axis=(1, 2))
    sky_error = (sky, (variance * sky).sum(axis=(1, 2)) / n_sky, n_sky)
    candidates: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for r in options.fgs1_aperture_radii_px:
        inside = (radius <= r).astype(np.float64)
        candidates[aperture_name(r)] = _weighted_sum(clean, variance, inside, sky_error)
    candidates["window"] = _weighted_sum(clean, variance, np.ones_like(clean), sky_error)
    psf_weight = _psf_weights(clean, flux, variance, background, bad)
    candidates["psf"] = _weighted_sum(clean, variance, psf_weight, sky_error)
    scatter = {name: robust_scatter(f) for name, (f, _) in candidates.items()}
    chosen = min(scatter, key=scatter.get) if options.fgs1_method == "auto" else options.fgs1_method
    total, total_variance = candidates[chosen]
    return Photometry(chosen, total, total_variance, cx, cy, background, scatter)


def _weighted_sum(
    clean: np.ndarray, variance: np.ndarray, weight: np.ndarray, sky_error: tuple
) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame sum(weight * clean) and its variance: the pixels' own, plus the median
    sky's. ``sky_error``: the sky pixels (time, 32, 32), their mean variance and count."""
    sky, sky_variance, n_sky = sky_error
    total = (weight * clean).sum(axis=(1, 2))
    own = (weight**2 * variance).sum(axis=(1, 2))
    sky_weight = (weight * sky).sum(axis=(1, 2))
    shared = median_background_variance(weight.sum(axis=(1, 2)), sky_weight, sky_variance, n_sky)
    return total, own + shared


def _psf_weights(
    clean: np.ndarray,
    flux: np.ndarray,
    variance: np.ndarray,
    background: np.ndarray,
    bad: np.ndarray,
) -> np.ndarray:
    """Optimal weights P / V / sum(P^2 / V) with the time-averaged PSF P, so the weighted
    sum estimates the star's flux.

    V is a model variance, as in AIRS: shot noise of the PSF model and the sky plus the
    data variance's non-shot part. Weighting by the data's own variance would favour pixels
    that fluctuated low, biasing the flux low and its variance too.
    """
    psf = np.clip(clean.mean(axis=0), 0.0, None)
    psf /= psf.sum()
    box = clean.sum(axis=(1, 2))[:, None, None]
    read_like = np.clip(variance - np.clip(flux, 0.0, None), 0.0, None)
    shot = np.clip(psf[None] * box + background[:, None, None], 0.0, None)
    model_variance = np.maximum(shot + read_like, 1e-9)
    weight = np.where(bad[None], 0.0, psf[None] / model_variance)
    norm = (weight * psf[None]).sum(axis=(1, 2))
    return weight / norm[:, None, None]
