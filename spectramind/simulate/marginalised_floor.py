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

import batman
import numpy as np

N_CURVE = 3  # depth, u1, u2: the local parameters that shape the transit
N_VISIT = 3  # ln S, d1, d2: the local parameters of each visit
N_GEOMETRY = 2  # b, a/Rs: the shared parameters common to every visit
LD_PRIOR_SIGMA = 0.1
STEPS = {"depth": 1e-3, "u": 1e-3, "t0_h": 1e-4, "b": 1e-3, "sma": 1e-3}


def transit_curves(
    time_h: np.ndarray,
    t0_h: float,
    period_h: float,
    geometry: tuple[float, float],
    depth: np.ndarray,
    u1: np.ndarray,
    u2: np.ndarray,
) -> np.ndarray:
    """batman quadratic-LD light curves (time, channels); geometry = (b, a/Rs)."""
    b, sma = geometry
    params = batman.TransitParams()
    params.t0, params.per, params.a = t0_h, period_h, sma
    params.inc = float(np.degrees(np.arccos(b / sma)))
    params.ecc, params.w, params.limb_dark = 0.0, 90.0, "quadratic"
    params.rp, params.u = float(np.sqrt(depth[0])), [float(u1[0]), float(u2[0])]
    model = batman.TransitModel(params, np.asarray(time_h, dtype=np.float64))
    curves = np.empty((len(time_h), len(depth)))
    for k in range(len(depth)):
        params.rp = float(np.sqrt(depth[k]))
        params.u = [float(u1[k]), float(u2[k])]
        curves[:, k] = model.light_curve(params)
    return curves


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
    b, sma = geometry

    def curves(
        t0: float = t0_h,
        b_: float = b,
        a: float = sma,
        d: np.ndarray = depth,
        v1: np.ndarray = u1,
        v2: np.ndarray = u2,
    ) -> np.ndarray:
        return transit_curves(time_h, t0, period_h, (b_, a), d, v1, v2)

    hd, hu, ht, hb, ha = (STEPS[k] for k in ("depth", "u", "t0_h", "b", "sma"))
    columns = [
        (curves(d=depth * (1 + hd)) - curves(d=depth * (1 - hd))) / (2 * hd * depth),
        (curves(v1=u1 + hu) - curves(v1=u1 - hu)) / (2 * hu),
        (curves(v2=u2 + hu) - curves(v2=u2 - hu)) / (2 * hu),
        (curves(t0=t0_h + ht) - curves(t0=t0_h - ht)) / (2 * ht),
        (curves(b_=b + hb) - curves(b_=b - hb)) / (2 * hb),
        (curves(a=sma * (1 + ha)) - curves(a=sma * (1 - ha))) / (2 * ha * sma),
    ]
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
