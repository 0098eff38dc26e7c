"""Transit timing and geometry from the white light: window search, then a joint fit of the
FGS1 and AIRS white light curves of every visit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from spectramind.fit.model import Geometry, TransitCurve, projected_residuals, systematics_design
from spectramind.fit.options import LIMB_DARKENING_BOUNDS, FitOptions


@dataclass
class VisitCurves:
    """One visit's white light (time), per instrument, normalised, with its regressors."""

    time_h: np.ndarray
    flux: dict[str, np.ndarray]
    sigma: dict[str, np.ndarray]
    regressors: dict[str, list[np.ndarray]]


@dataclass
class WhiteLightFit:
    geometry: Geometry
    depth: dict[str, float]
    depth_sigma: dict[str, float]
    limb_darkening: dict[str, tuple[float, float]]
    cost: float


def find_transit(
    visit: VisitCurves,
    sma: float,
    inclination: float,
    period_d: float,
    options: FitOptions,
) -> float:
    """Mid-time (h) of the transit in a visit: the t0 whose catalogue-shaped transit, with a
    free depth and the full systematics baseline, best fits the AIRS white light. Works for
    partial transits (batman models them) and under drifts (the baseline absorbs them)."""
    time, flux, sigma = visit.time_h, visit.flux["AIRS-CH0"], visit.sigma["AIRS-CH0"]
    design = systematics_design(time, visit.regressors["AIRS-CH0"], options)
    best, best_t0 = np.inf, float(np.median(time))
    for t0 in np.arange(time[0], time[-1], options.t0_grid_step_h):
        curve = TransitCurve(time, t0, Geometry(np.array([t0]), sma, inclination, period_d))
        shape = 1.0 - curve.flux(0.01, *options.start_limb_darkening)
        if shape.max() <= 0:
            continue
        # flux ~ design @ c - depth_scale * shape * baseline; linear in both at fixed t0.
        full = np.column_stack([design, -shape]) / sigma[:, None]
        coeffs, *_ = np.linalg.lstsq(full, flux / sigma, rcond=None)
        if coeffs[-1] <= 0:
            continue
        chi2 = np.sum((flux / sigma - full @ coeffs) ** 2)
        if chi2 < best:
            best, best_t0 = chi2, float(t0)
    return best_t0


def fit_white_light(
    visits: list[VisitCurves],
    sma: float,
    inclination: float,
    period_d: float,
    options: FitOptions,
) -> WhiteLightFit:
    """Joint least-squares fit of both instruments' white light over all visits.

    Free: t0 per visit, a/Rs and inclination (Gaussian priors from star_info), and per
    instrument the depth and quadratic limb darkening; the systematics of each visit and
    instrument are solved linearly inside every step.
    """
    t0 = np.array([find_transit(v, sma, inclination, period_d, options) for v in visits])
    instruments = ("FGS1", "AIRS-CH0")
    designs = [
        {ins: systematics_design(v.time_h, v.regressors[ins], options) for ins in instruments}
        for v in visits
    ]
    n_visits = len(visits)
    depth0 = 0.015

    def unpack(p: np.ndarray) -> tuple[Geometry, dict[str, np.ndarray]]:
        geometry = Geometry(p[:n_visits], p[n_visits], p[n_visits + 1], period_d)
        rest = p[n_visits + 2 :].reshape(len(instruments), 3)
        return geometry, {ins: rest[k] for k, ins in enumerate(instruments)}

    def residuals(p: np.ndarray) -> np.ndarray:
        geometry, per_instrument = unpack(p)
        out = []
        for v, visit in enumerate(visits):
            for ins in instruments:
                depth, u1, u2 = per_instrument[ins]
                curve = TransitCurve(visit.time_h, geometry.t0_h[v], geometry)
                transit = curve.flux(depth, u1, u2)
                out.append(
                    projected_residuals(visit.flux[ins], visit.sigma[ins], transit, designs[v][ins])
                )
        out.append(np.array([(geometry.sma - sma) / (options.prior_sma_fraction * sma)]))
        out.append(np.array([(geometry.inclination - inclination) / options.prior_inclination_deg]))
        return np.concatenate(out)

    u_start = options.start_limb_darkening
    start = np.concatenate(
        [t0, [sma, min(inclination, 89.9)], [depth0, *u_start] * len(instruments)]
    )
    (u1_low, u1_high), (u2_low, u2_high) = LIMB_DARKENING_BOUNDS
    lower = np.concatenate([t0 - 0.5, [sma * 0.5, 80.0], [1e-4, u1_low, u2_low] * len(instruments)])
    upper = np.concatenate(
        [t0 + 0.5, [sma * 1.5, 90.0], [options.max_depth, u1_high, u2_high] * len(instruments)]
    )
    fit = least_squares(residuals, start, bounds=(lower, upper), x_scale="jac")
    geometry, per_instrument = unpack(fit.x)
    # Covariance from the Jacobian, scaled by the reduced chi2 when the fit is worse than
    # the noise says: the depths' sigmas then carry the geometry and limb-darkening errors.
    n_linear = sum(d.shape[1] for visit in designs for d in visit.values())
    dof = max(len(fit.fun) - len(fit.x) - n_linear, 1)
    covariance = np.linalg.pinv(fit.jac.T @ fit.jac) * max(2 * fit.cost / dof, 1.0)
    first_depth = n_visits + 2
    depth_sigma = {
        ins: float(np.sqrt(covariance[first_depth + 3 * k, first_depth + 3 * k]))
        for k, ins in enumerate(instruments)
    }
    return WhiteLightFit(
        geometry=geometry,
        depth={ins: float(v[0]) for ins, v in per_instrument.items()},
        depth_sigma=depth_sigma,
        limb_darkening={ins: (float(v[1]), float(v[2])) for ins, v in per_instrument.items()},
        cost=float(fit.cost),
    )
