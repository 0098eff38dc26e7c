"""Cramer-Rao bound of each transit depth with the nuisances of a real fit marginalised.

The depth-only floor (noise_floor.py) takes geometry, limb darkening and drift as known.
Here the relative flux of channel c in pair k of visit v is modelled as
m = S_vc * (1 + d1_vc tau + d2_vc tau^2) * L(t; depth_c, u1_c, u2_c, t0_v, b, a/Rs)
with tau the time centred and scaled to unit span, as the fit's drift polynomial
(degree 2) uses. Per channel ("local") parameters: depth (Rp/Rs)^2, u1, u2 and, per visit,
ln S, d1, d2. Shared by all channels of both instruments: b, a/Rs and t0 of each visit.
Free per-channel limb darkening is almost degenerate with the depth, so u1 and u2 carry a
Gaussian prior of width LD_PRIOR_SIGMA around the truth, about how well stellar models
predict them. Derivatives of L are central differences of batman at the truth; the noise is
the depth-only floor's pixel model, reduced to a weight per pair and channel.

The Fisher matrix is block-arrowhead: a block per channel and a small shared block. The
depth variance of channel c is [A_c^-1]_00 + x_c M^-1 x_c^T with x_c = (A_c^-1 B_c)_0 and
M = C - sum_c B_c^T A_c^-1 B_c the Schur complement of the shared parameters.
"""

from __future__ import annotations

import numpy as np

from spectramind.simulate.transit import batman_curves

N_CURVE = 3  # depth, u1, u2: the local parameters that shape the transit
N_VISIT = 3  # ln S, d1, d2: the local parameters of each visit
N_GEOMETRY = 2  # b, a/Rs: the shared parameters common to every visit
LD_PRIOR_SIGMA = 0.1
# Central-difference steps; depth and a/Rs are stepped relative to their value.
STEPS = {"depth": 1e-3, "u1": 1e-3, "u2": 1e-3, "t0_h": 1e-4, "b": 1e-3, "sma": 1e-3}
RELATIVE_STEPS = ("depth", "sma")


def transit_curves(
    time_h: np.ndarray,
    t0_h: float,
    period_h: float,
    geometry: tuple[float, float],
    depth: np.ndarray,
    u1: np.ndarray,
    u2: np.ndarray,
) -> np.ndarray:
    """Quadratic-LD light curves (time, channels); geometry = (b, a/Rs)."""
    b, sma = geometry
    inclination = float(np.degrees(np.arccos(b / sma)))
    return batman_curves(time_h, t0_h, (period_h, sma, inclination), depth, (u1, u2))


def transit_gradients(
    time_h: np.ndarray,
    t0_h: float,
    period_h: float,
    geometry: tuple[float, float],
    depth: np.ndarray,
    u1: np.ndarray,
    u2: np.ndarray,
) -> np.ndarray:
    """dL/d(depth, u1, u2, t0, b, a/Rs) as (time, channels, 6), by central differences."""
    point = {"depth": depth, "u1": u1, "u2": u2, "t0_h": t0_h, "b": geometry[0],
             "sma": geometry[1]}  # fmt: skip

    def curves(name: str, value: float | np.ndarray) -> np.ndarray:
        p = {**point, name: value}
        geometry_ = (p["b"], p["sma"])
        return transit_curves(time_h, p["t0_h"], period_h, geometry_, p["depth"], p["u1"], p["u2"])

    columns = []
    for name, value in point.items():
        step = STEPS[name] * (value if name in RELATIVE_STEPS else 1.0)
        columns.append((curves(name, value + step) - curves(name, value - step)) / (2 * step))
    return np.stack(columns, axis=-1)


def n_parameters(n_visits: int) -> tuple[int, int]:
    """(local parameters per channel, shared parameters) for ``n_visits`` visits."""
    return N_CURVE + N_VISIT * n_visits, N_GEOMETRY + n_visits


def visit_fisher(
    weights: np.ndarray,
    light_curve: np.ndarray,
    gradients: np.ndarray,
    time_h: np.ndarray,
    visit: int,
    n_visits: int,
) -> np.ndarray:
    """Per-channel Fisher matrices (channels, P, P) of one visit of one instrument.

    Parameter order: local (depth, u1, u2, then ln S, d1, d2 of each visit), then shared
    (b, a/Rs, then t0 of each visit). weights, light_curve: (pairs, channels);
    gradients: (pairs, channels, 6) from transit_gradients.
    """
    n_local, n_shared = n_parameters(n_visits)
    tau = (time_h - time_h.mean()) / (np.ptp(time_h) or 1.0)
    design = np.zeros((*light_curve.shape, n_local + n_shared))
    design[..., :N_CURVE] = gradients[..., :N_CURVE]
    visit_cols = N_CURVE + N_VISIT * visit
    for power in range(N_VISIT):
        design[..., visit_cols + power] = light_curve * tau[:, None] ** power
    design[..., n_local : n_local + N_GEOMETRY] = gradients[..., 4:6]
    design[..., n_local + N_GEOMETRY + visit] = gradients[..., 3]
    return np.einsum("kca,kcb->cab", weights[..., None] * design, design, optimize=True)


def ld_prior(n_channels: int, n_visits: int) -> np.ndarray:
    """Per-channel prior information (channels, P, P): 1/sigma^2 on u1 and u2."""
    n_local, n_shared = n_parameters(n_visits)
    prior = np.zeros((n_channels, n_local + n_shared, n_local + n_shared))
    prior[:, 1, 1] = prior[:, 2, 2] = LD_PRIOR_SIGMA**-2
    return prior


def marginal_depth_sigma(fisher: np.ndarray, n_local: int) -> np.ndarray:
    """sqrt of the (0, 0) element of each channel's block of the full inverse Fisher.

    fisher: (channels, P, P), the first n_local parameters of each channel its own, the
    rest shared by all channels (their blocks add up).
    """
    a = fisher[:, :n_local, :n_local]
    b = fisher[:, :n_local, n_local:]
    a_inv = np.linalg.inv(a)
    variance = a_inv[:, 0, 0]
    if fisher.shape[1] > n_local:
        a_inv_b = a_inv @ b  # (channels, local, shared)
        schur = fisher[:, n_local:, n_local:].sum(axis=0) - np.einsum("cls,clt->st", b, a_inv_b)
        x = a_inv_b[:, 0, :]
        variance = variance + np.einsum("cs,st,ct->c", x, np.linalg.inv(schur), x)
    return np.sqrt(variance)
