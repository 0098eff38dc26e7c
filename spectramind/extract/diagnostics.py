"""How noisy are extracted light curves: out-of-transit scatter after decorrelation."""

from __future__ import annotations

import numpy as np

from spectramind.extract.regressors import quadratic_surface


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
    quadratic in time plus a quadratic surface in the regressors."""
    t = (time_h - time_h.mean()) / np.ptp(time_h)
    columns = [np.ones_like(t), t, t**2, *quadratic_surface(regressors, keep)]
    design = np.column_stack(columns)[keep]
    target = flux[keep] / np.median(flux[keep])
    coeffs, *_ = np.linalg.lstsq(design, target, rcond=None)
    return target - design @ coeffs
