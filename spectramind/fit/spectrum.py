"""Per-channel AIRS depths with the white-light geometry and each channel's limb darkening
held fixed, and a drift that is smooth in time AND wavelength, fitted to all channels at once.

Each channel c of visit v is modelled as

    flux_cv(t) = s_cv * B_v(t) * (1 + sum_jk a_vjk T_j(tau) T_k(x_c)) * L_c(t; depth_c)

with B_v the white light's fitted systematics baseline, s_cv a free level, T Chebyshev
polynomials of scaled time (j >= 1) and wavelength, and L the batman transit. The shared
a_vjk are few, so the chromatic drift costs little noise per channel. The problem is
linearised in the depth and solved by Gauss-Newton; its normal equations are block
arrowhead (channel blocks + shared drift) and are solved by a Schur complement, which also
gives the depths' full covariance: diagonal + the low-rank part the shared drift induces.
The (time, wavelength) degrees are chosen by the Bayesian information criterion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.polynomial import chebyshev
from scipy.ndimage import median_filter

from spectramind.fit.model import TransitCurve
from spectramind.fit.options import FitOptions

MIN_BLOCKS = 8  # fewest binned means whose scatter red_noise_beta trusts
GAUSS_NEWTON_STEPS = 3
DEPTH_STEP = 1e-5  # finite-difference steps of the transit's derivatives
LIMB_DARKENING_STEP = 1e-4
MIN_DEPTH = 1e-5  # below it the transit model continues linearly in the depth
BETA_SMOOTHING_CHANNELS = 15  # red-noise factors vary slowly across channels


@dataclass
class ChannelSet:
    """AIRS channels over all visits: per visit (time, channels) normalised flux and sigma,
    the white light's baseline (time,), time (h) and transit curves; the channels'
    wavelengths, (2, channels) limb darkening and its error factor (2, channels, modes):
    the (u1, u2) errors are factor @ z, z ~ N(0, I)."""

    flux: list[np.ndarray]
    sigma: list[np.ndarray]
    baseline: list[np.ndarray]
    time_h: list[np.ndarray]
    curves: list[TransitCurve]
    wavelength: np.ndarray
    limb_darkening: np.ndarray
    limb_darkening_factor: np.ndarray


@dataclass
class SpectrumFit:
    """Depths and their covariance diag(variance) + factor @ factor.T (noise inflation
    included; the factor is what the shared drift leaves common), per-channel diagnostics
    and the chosen drift degrees (time, wavelength)."""

    depth: np.ndarray
    variance: np.ndarray
    factor: np.ndarray
    chi2_reduced: np.ndarray
    beta: np.ndarray
    drift_degrees: tuple[int, int]


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


def _transits(
    data: ChannelSet, depth: np.ndarray, step: tuple[float, float, float] = (DEPTH_STEP, 0, 0)
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per visit (time, channels) transit and its derivative along ``step`` in (depth, u1,
    u2), divided by the step's non-zero entry. Below MIN_DEPTH the transit continues
    linearly in the depth: a noisy channel of a shallow transit may fit a negative depth,
    and clipping it would bias the channel's estimate."""
    u1, u2 = data.limb_darkening
    size = max(abs(x) for x in step)
    at = np.maximum(depth, MIN_DEPTH)
    values, slopes = [], []
    for curve in data.curves:
        value, up = (
            np.column_stack(
                [curve.flux(d + s * step[0], a + s * step[1], b + s * step[2])
                 for d, a, b in zip(at, u1, u2, strict=True)]
            )
            for s in (0, 1)
        )  # fmt: skip
        slope = (up - value) / size
        if step[0]:
            value = value + (depth - at) * slope
        values.append(value)
        slopes.append(slope)
    return values, slopes


def _scaled(values: np.ndarray) -> np.ndarray:
    span = np.ptp(values) or 1.0
    return 2.0 * (values - values.min()) / span - 1.0


@dataclass
class _Design:
    """Whitened design per channel: local (channels, rows, visits + 1) columns (level per
    visit, depth) and shared (channels, rows, n_shared) chromatic-drift columns."""

    local: np.ndarray
    shared: np.ndarray
    target: np.ndarray


def _design(
    data: ChannelSet,
    transit: list[np.ndarray],
    slope: list[np.ndarray],
    level: np.ndarray,
    degrees: tuple[int, int],
) -> _Design:
    n_visits, n_channels = len(data.flux), len(data.wavelength)
    n_time = data.flux[0].shape[0]
    time_degree, wavelength_degree = degrees
    psi = chebyshev.chebvander(_scaled(data.wavelength), wavelength_degree)  # (C, K)
    per_visit_shared = time_degree * (wavelength_degree + 1)
    local = np.zeros((n_channels, n_visits * n_time, n_visits + 1))
    shared = np.zeros((n_channels, n_visits * n_time, n_visits * per_visit_shared))
    target = np.empty((n_channels, n_visits * n_time))
    for v in range(n_visits):
        rows = slice(v * n_time, (v + 1) * n_time)
        weight = (1.0 / data.sigma[v]).T  # (C, T)
        model = data.baseline[v][None, :] * transit[v].T  # (C, T)
        local[:, rows, v] = weight * model
        local[:, rows, -1] = weight * level[:, v, None] * data.baseline[v][None, :] * slope[v].T
        target[:, rows] = weight * data.flux[v].T
        if per_visit_shared:
            phi = chebyshev.chebvander(_scaled(data.time_h[v]), time_degree)[:, 1:]  # (T, J)
            columns = np.einsum("tj,ck->ctjk", phi, psi).reshape(n_channels, n_time, -1)
            base = (weight * level[:, v, None] * model)[:, :, None]
            shared[:, rows, v * per_visit_shared : (v + 1) * per_visit_shared] = base * columns
    return _Design(local, shared, target)


@dataclass
class _Solution:
    local: np.ndarray  # (C, visits + 1)
    shared: np.ndarray  # (n_shared,)
    chi2: np.ndarray  # (C,)
    residual: np.ndarray  # (C, rows), whitened
    depth_variance: np.ndarray  # (C,) per-channel part of the depths' covariance
    depth_factor: np.ndarray  # (C, shared): + factor @ factor.T from the shared drift


def _solve(design: _Design) -> _Solution:
    """Least squares of the block-arrowhead system by a Schur complement on the shared
    columns; the depth covariance = per-channel part + low rank from the shared drift."""
    jl, js, y = design.local, design.shared, design.target
    a_inv = np.linalg.inv(np.einsum("cri,crj->cij", jl, jl))
    g_local = np.einsum("cri,cr->ci", jl, y)
    n_shared = js.shape[2]
    if n_shared:
        cross = np.einsum("cri,crj->cij", jl, js)
        a_inv_cross = a_inv @ cross  # (C, L, S)
        schur = np.einsum("crs,crt->st", js, js) - np.einsum("cls,clt->st", cross, a_inv_cross)
        rhs = np.einsum("crs,cr->s", js, y) - np.einsum("cls,cl->s", a_inv_cross, g_local)
        schur_inv = np.linalg.inv(schur)
        shared = schur_inv @ rhs
        local = np.einsum("cij,cj->ci", a_inv, g_local - cross @ shared)
        # How the shared terms move each depth, times a square root of their covariance.
        factor = a_inv_cross[:, -1, :] @ np.linalg.cholesky(schur_inv)
    else:
        shared = np.zeros(0)
        local = np.einsum("cij,cj->ci", a_inv, g_local)
        factor = np.zeros((len(local), 0))
    residual = y - np.einsum("cri,ci->cr", jl, local)
    if n_shared:
        residual -= js @ shared
    chi2 = np.sum(residual**2, axis=1)
    return _Solution(local, shared, chi2, residual, a_inv[:, -1, -1], factor)


def _gauss_newton(
    data: ChannelSet, start: np.ndarray, degrees: tuple[int, int], steps: int
) -> tuple[np.ndarray, _Solution]:
    depth = start.copy()
    level = np.ones((len(depth), len(data.flux)))
    for _ in range(steps):
        transit, slope = _transits(data, depth)
        solution = _solve(_design(data, transit, slope, level, degrees))
        depth = depth + solution.local[:, -1]
        level = solution.local[:, :-1]
    return depth, solution


def _candidate_degrees(options: FitOptions) -> list[tuple[int, int]]:
    return [(0, 0)] + [
        (j, k)
        for j in range(1, options.chromatic_drift_degree + 1)
        for k in range(options.chromatic_wavelength_degree + 1)
    ]


def fit_spectrum(data: ChannelSet, start: np.ndarray, options: FitOptions) -> SpectrumFit:
    """Depth and covariance of every AIRS channel, starting from ``start`` (channels,).

    The drift degrees minimise the BIC over time degrees 0..chromatic_drift_degree and
    wavelength degrees 0..chromatic_wavelength_degree (scored after one Gauss-Newton step
    from the same start); the chosen model then runs to convergence.
    """
    n_channels, n_rows = len(start), len(data.flux) * data.flux[0].shape[0]
    scores = {}
    for degrees in _candidate_degrees(options):
        _, trial = _gauss_newton(data, start, degrees, steps=1)
        n_params = trial.local.size + trial.shared.size
        scores[degrees] = trial.chi2.sum() + n_params * np.log(n_channels * n_rows)
    degrees = min(scores, key=scores.get)
    depth, solution = _gauss_newton(data, start, degrees, GAUSS_NEWTON_STEPS)
    dof = max(n_rows - solution.local.shape[1], 1)
    chi2_reduced = solution.chi2 / dof
    n_time = data.flux[0].shape[0]
    raw_beta = np.array(
        [
            np.sqrt(np.mean([red_noise_beta(r, options.red_noise_max_bins) ** 2
                             for r in residual.reshape(-1, n_time)]))
            for residual in solution.residual
        ]
    )  # fmt: skip
    beta = median_filter(raw_beta, size=BETA_SMOOTHING_CHANNELS, mode="nearest")
    inflation = np.sqrt(np.maximum(chi2_reduced, 1.0)) * beta
    # At one depth for all channels: through the noisy per-channel depths, the limb-
    # darkening error modes would follow the data's own noise.
    typical = np.full_like(depth, np.median(depth))
    sensitivity = limb_darkening_sensitivity(data, typical, solution)
    limb_darkening = np.einsum("kc,kcj->cj", sensitivity, data.limb_darkening_factor)
    return SpectrumFit(
        depth,
        solution.depth_variance * inflation**2,
        np.hstack([solution.depth_factor * inflation[:, None], limb_darkening]),
        chi2_reduced,
        beta,
        degrees,
    )


def limb_darkening_sensitivity(
    data: ChannelSet, depth: np.ndarray, solution: _Solution
) -> np.ndarray:
    """(2, channels): how far each fitted depth moves per unit error in u1 and in u2 (the
    depth part of the least-squares response of the channel's local columns to the change
    the error makes in its transit)."""
    level = solution.local[:, :-1]
    transit, slope = _transits(data, depth)
    local = _design(data, transit, slope, level, (0, 0)).local
    a_inv = np.linalg.inv(np.einsum("cri,crj->cij", local, local))
    out = []
    for step in ((0, LIMB_DARKENING_STEP, 0), (0, 0, LIMB_DARKENING_STEP)):
        _, change = _transits(data, depth, step)
        columns = np.concatenate(
            [(level[:, v, None] * b[None, :] * c.T / s.T)
             for v, (b, c, s) in enumerate(zip(data.baseline, change, data.sigma, strict=True))],
            axis=1,
        )  # fmt: skip
        response = np.einsum("cij,crj,cr->ci", a_inv, local, columns)
        out.append(response[:, -1])
    return np.array(out)
