"""Per-channel transit depths with the white-light geometry held fixed.

Limb darkening changes with wavelength, and a wrong one biases a depth by more than the
atmospheric features: u1 is fitted on groups of AIRS channels and smoothed linearly in
wavelength, u2 is kept from the white light. Each channel then has one free parameter,
its depth; its systematics are solved linearly inside the fit, as for the white light.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares, minimize_scalar

from spectramind.fit.model import TransitCurve, projected_residuals
from spectramind.fit.options import FitOptions

MIN_BLOCKS = 8  # fewest binned means whose scatter red_noise_beta trusts


@dataclass
class ChannelData:
    """One channel over all visits: normalised flux, its sigma and the systematics designs."""

    flux: list[np.ndarray]
    sigma: list[np.ndarray]
    designs: list[np.ndarray]


@dataclass
class DepthFit:
    depth: float
    sigma: float
    chi2_reduced: float
    beta: float


def _chi2(
    depth: float, data: ChannelData, curves: list[TransitCurve], u1: float, u2: float
) -> tuple[float, list[np.ndarray]]:
    residuals = [
        projected_residuals(f, s, c.flux(depth, u1, u2), d)
        for f, s, d, c in zip(data.flux, data.sigma, data.designs, curves, strict=True)
    ]
    return float(sum(np.sum(r**2) for r in residuals)), residuals


def red_noise_beta(residuals: np.ndarray, max_bins: int = FitOptions.red_noise_max_bins) -> float:
    """Time-averaging factor (Pont et al. 2006; Winn et al. 2008): how much faster than
    white noise the residual scatter fails to average down over bins of 2, 4, ... max_bins
    points, >= 1."""
    sigma_1 = residuals.std()
    ratios = []
    n = 2
    while n <= max_bins and len(residuals) // n >= MIN_BLOCKS:
        blocks = len(residuals) // n
        means = residuals[: blocks * n].reshape(blocks, n).mean(axis=1)
        expected = sigma_1 / np.sqrt(n) * np.sqrt(blocks / (blocks - 1))
        ratios.append(means.std() / expected)
        n *= 2
    return float(max(1.0, np.median(ratios))) if ratios else 1.0


def fit_depth(
    data: ChannelData,
    curves: list[TransitCurve],
    u1: float,
    u2: float,
    start: float,
    options: FitOptions,
) -> DepthFit:
    """Best depth of one channel, with sigma from the chi2 curvature inflated by the
    reduced chi2 (if > 1) and the red-noise beta."""
    result = minimize_scalar(
        lambda d: _chi2(d, data, curves, u1, u2)[0],
        bounds=(max(start * 0.5, 1e-5), min(start * 1.5 + 1e-3, options.max_depth)),
        method="bounded",
        options={"xatol": 1e-8},
    )
    best = float(result.x)
    chi2, residuals = _chi2(best, data, curves, u1, u2)
    step = max(1e-6, 1e-3 * best)
    curvature = (
        _chi2(best + step, data, curves, u1, u2)[0]
        - 2 * chi2
        + _chi2(best - step, data, curves, u1, u2)[0]
    ) / step**2
    n_points = sum(len(r) for r in residuals)
    n_params = 1 + sum(d.shape[1] for d in data.designs)
    chi2_reduced = chi2 / max(n_points - n_params, 1)
    betas = [red_noise_beta(r, options.red_noise_max_bins) for r in residuals]
    beta = float(np.sqrt(np.mean(np.square(betas))))
    sigma = np.sqrt(2.0 / max(curvature, 1e-30)) * np.sqrt(max(chi2_reduced, 1.0)) * beta
    return DepthFit(best, float(sigma), float(chi2_reduced), beta)


def fit_limb_darkening_slope(
    channels: list[ChannelData],
    curves: list[TransitCurve],
    wavelength: np.ndarray,
    u: tuple[float, float],
    depth: float,
    options: FitOptions,
) -> np.ndarray:
    """u1 per AIRS channel: fitted (with the depth) on groups of summed channels, then a
    straight line in wavelength through the group values."""
    groups = np.array_split(np.arange(len(channels)), options.limb_darkening_groups)
    centres, values, weights = [], [], []
    for group in groups:
        n_visits = len(curves)
        flux = [sum(channels[j].flux[v] for j in group) / len(group) for v in range(n_visits)]
        sigma = [
            np.sqrt(sum(channels[j].sigma[v] ** 2 for j in group)) / len(group)
            for v in range(n_visits)
        ]
        data = ChannelData(flux, sigma, channels[group[0]].designs)

        def residuals(p: np.ndarray, data: ChannelData = data) -> np.ndarray:
            return np.concatenate(_chi2(p[0], data, curves, p[1], u[1])[1])

        fit = least_squares(
            residuals, [depth, u[0]], bounds=([1e-5, -0.5], [options.max_depth, 1.5])
        )
        jac = fit.jac
        covariance = np.linalg.pinv(jac.T @ jac)
        centres.append(wavelength[group].mean())
        values.append(fit.x[1])
        weights.append(1.0 / np.sqrt(max(covariance[1, 1], 1e-12)))
    slope, intercept = np.polyfit(centres, values, 1, w=weights)
    return intercept + slope * wavelength
