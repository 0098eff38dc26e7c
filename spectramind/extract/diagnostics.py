"""How noisy are extracted light curves: out-of-transit scatter after decorrelation."""

from __future__ import annotations

import numpy as np


def transit_duration_h(period_d: float, sma: float, inclination_deg: float, depth: float) -> float:
    """Total transit duration T14 (h) of a circular orbit (Seager & Mallen-Ornelas 2003)."""
    k = np.sqrt(depth)
    b = sma * np.cos(np.radians(inclination_deg))
    arg = np.sqrt(max((1 + k) ** 2 - b**2, 0.0)) / (sma * np.sin(np.radians(inclination_deg)))
    return float(period_d * 24.0 / np.pi * np.arcsin(min(arg, 1.0)))


def decorrelated_residuals(
    flux: np.ndarray, time_h: np.ndarray, regressors: list[np.ndarray], keep: np.ndarray
) -> np.ndarray:
    """Relative residuals of ``flux`` on the ``keep`` bins after a least-squares fit of a
    quadratic in time plus a quadratic surface in the (standardised) regressors: every
    regressor, its square and the products of pairs (jitter over bad pixels or flat
    residuals is a smooth but not linear function of the pointing)."""
    t = (time_h - time_h.mean()) / np.ptp(time_h)
    columns = [np.ones_like(t), t, t**2]
    z = [(reg - reg[keep].mean()) / (reg[keep].std() or 1.0) for reg in regressors]
    for i, zi in enumerate(z):
        columns += [zi, zi**2] + [zi * zj for zj in z[i + 1 :]]
    design = np.column_stack(columns)[keep]
    target = flux[keep] / np.median(flux[keep])
    coeffs, *_ = np.linalg.lstsq(design, target, rcond=None)
    return target - design @ coeffs
