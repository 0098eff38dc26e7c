"""Transit light-curve models for fitting: batman with quadratic limb darkening, and the
systematics design matrix solved linearly inside every nonlinear fit (variable projection)."""

from __future__ import annotations

from dataclasses import dataclass

import batman
import numpy as np

from spectramind.extract.regressors import quadratic_surface
from spectramind.fit.options import FitOptions


@dataclass
class Geometry:
    """Shared transit geometry: mid-times per visit (h), a/Rs, inclination (deg), period (d)."""

    t0_h: np.ndarray
    sma: float
    inclination: float
    period_d: float


class TransitCurve:
    """batman light curves on one visit's time grid, re-evaluated cheaply for new radii/LD."""

    def __init__(self, time_h: np.ndarray, t0_h: float, geometry: Geometry) -> None:
        self.params = batman.TransitParams()
        self.params.t0 = t0_h
        self.params.per = geometry.period_d * 24.0
        self.params.rp = 0.1
        self.params.a = geometry.sma
        self.params.inc = geometry.inclination
        self.params.ecc = 0.0
        self.params.w = 90.0
        self.params.limb_dark = "quadratic"
        self.params.u = [0.2, 0.1]
        self.model = batman.TransitModel(self.params, np.asarray(time_h, dtype=np.float64))

    def flux(self, depth: float, u1: float, u2: float) -> np.ndarray:
        """Relative stellar flux for transit depth (Rp/Rs)^2 and limb darkening (u1, u2)."""
        self.params.rp = float(np.sqrt(max(depth, 0.0)))
        self.params.u = [float(u1), float(u2)]
        return self.model.light_curve(self.params)


def drift_columns(time_h: np.ndarray, degree: int) -> list[np.ndarray]:
    """Powers 0..degree of the time, centred and scaled to unit span."""
    span = np.ptp(time_h) or 1.0
    tau = (time_h - time_h.mean()) / span
    return [tau**k for k in range(degree + 1)]


def systematics_design(
    time_h: np.ndarray, regressors: list[np.ndarray], options: FitOptions
) -> np.ndarray:
    """(time, terms) design of the multiplicative baseline: a polynomial drift, a settling
    ramp and a quadratic surface in the standardised jitter regressors."""
    ramp = np.exp(-(time_h - time_h[0]) / options.ramp_timescale_h)
    drift = drift_columns(time_h, options.drift_degree)
    columns = [*drift, ramp, *quadratic_surface(regressors)]
    return np.column_stack(columns)


def fitted_baseline(
    flux: np.ndarray, sigma: np.ndarray, transit: np.ndarray, design: np.ndarray
) -> np.ndarray:
    """The systematics baseline (design @ c) of the best fit flux = transit x baseline."""
    weighted = transit[:, None] * design / sigma[:, None]
    coeffs, *_ = np.linalg.lstsq(weighted, flux / sigma, rcond=None)
    return design @ coeffs


def common_mode_design(baseline: np.ndarray, time_h: np.ndarray, degree: int) -> np.ndarray:
    """Per-channel design: the white light's systematics times a polynomial in time.

    Drift and jitter are mostly common to all channels; fitting only their chromatic
    residual (degree + 1 terms instead of the full set) keeps the per-channel depths far
    less noisy.
    """
    return baseline[:, None] * np.column_stack(drift_columns(time_h, degree))


def projected_residuals(
    flux: np.ndarray, sigma: np.ndarray, transit: np.ndarray, design: np.ndarray
) -> np.ndarray:
    """Whitened residuals of flux = transit x (design @ c) with the best c for this transit."""
    weighted = transit[:, None] * design / sigma[:, None]
    target = flux / sigma
    coeffs, *_ = np.linalg.lstsq(weighted, target, rcond=None)
    return target - weighted @ coeffs
