"""Transit timing and geometry from the white light: window search, then a joint fit of the
FGS1 and AIRS white light curves of every visit, each on its own time axis."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from spectramind.extract.diagnostics import transit_duration_h
from spectramind.fit.model import Geometry, TransitCurve, projected_residuals, systematics_design
from spectramind.fit.options import LIMB_DARKENING_BOUNDS, FitOptions
from spectramind.fit.spectrum import red_noise_beta

INSTRUMENTS = ("FGS1", "AIRS-CH0")
SEARCH_DEPTH = 0.01  # the depth of the transit shape the mid-time search slides
# Largest impact parameter the inclination may reach (a/Rs at its lower bound): beyond the
# limb by half a stellar radius, so a grazing orbit is never cut off by the bound.
GRAZING_LIMIT = 1.5


@dataclass
class VisitCurves:
    """One visit's white light per instrument: bin times (h), normalised flux and sigma, and
    the jitter regressors of its systematics model."""

    time_h: dict[str, np.ndarray]
    flux: dict[str, np.ndarray]
    sigma: dict[str, np.ndarray]
    regressors: dict[str, list[np.ndarray]]


@dataclass
class LimbDarkeningGuess:
    """Gaussian prior on an instrument's white-light (u1, u2): means and sigmas."""

    mean: tuple[float, float]
    sigma: tuple[float, float]


@dataclass
class WhiteLightFit:
    """Joint white-light result. ``depth_covariance`` is the 2x2 (FGS1, AIRS) covariance
    with geometry, limb darkening and systematics marginalised and the noise inflated by
    ``noise_inflation`` (reduced chi2 and red noise) per instrument. ``geometry_covariance``
    is that of (t0 of each visit, a/Rs, inclination, AIRS depth), for the contacts."""

    geometry: Geometry
    depth: dict[str, float]
    limb_darkening: dict[str, tuple[float, float]]
    depth_covariance: np.ndarray
    noise_inflation: dict[str, float]
    geometry_covariance: np.ndarray


@dataclass
class TransitSearch:
    """Best mid-time (h) of one visit's transit, and how much better than no transit it fits:
    the chi2 excess of the no-transit model and the best model's noise inflation (reduced
    chi2 and red noise), which turn the excess into a significance."""

    t0_h: float
    delta_chi2: float
    inflation: float


def find_transit(
    visit: VisitCurves,
    sma: float,
    inclination: float,
    period_d: float,
    options: FitOptions,
) -> TransitSearch:
    """Search the mid-time of a visit's transit: the t0 whose catalogue-shaped transit, with a
    free depth and the full systematics baseline, best fits the AIRS white light. The search
    runs half the catalogue duration beyond either end of the visit, so a transit that shows
    only its ingress or egress is placed where it is; one whose mid-time lies further out
    leaves no contact inside, which the excess over no transit says."""
    ins = "AIRS-CH0"
    time, flux, sigma = visit.time_h[ins], visit.flux[ins], visit.sigma[ins]
    design = systematics_design(time, visit.regressors[ins], options) / sigma[:, None]
    target = flux / sigma
    coeffs, *_ = np.linalg.lstsq(design, target, rcond=None)
    best_residuals = target - design @ coeffs
    chi2_none = best = float(np.sum(best_residuals**2))
    best_t0 = float(np.median(time))
    half = transit_duration_h(period_d, sma, inclination, SEARCH_DEPTH) / 2
    for t0 in np.arange(time[0] - half, time[-1] + half, options.t0_grid_step_h):
        curve = TransitCurve(time, t0, Geometry(np.array([t0]), sma, inclination, period_d))
        shape = 1.0 - curve.flux(SEARCH_DEPTH, *options.start_limb_darkening)
        if shape.max() <= 0:
            continue
        # flux ~ design @ c - scale * shape * baseline; linear in both at fixed t0.
        full = np.column_stack([design, -shape / sigma])
        coeffs, *_ = np.linalg.lstsq(full, target, rcond=None)
        if not 0 < coeffs[-1] * SEARCH_DEPTH <= options.max_depth:
            continue
        residuals = target - full @ coeffs
        chi2 = float(np.sum(residuals**2))
        if chi2 < best:
            best, best_t0, best_residuals = chi2, float(t0), residuals
    n_params = design.shape[1] + 2
    inflation = _noise_inflation([best_residuals], n_params, options.red_noise_max_bins)
    return TransitSearch(best_t0, chi2_none - best, inflation)


def _noise_inflation(residuals: list[np.ndarray], n_params: int, max_bins: int) -> float:
    """sqrt(reduced chi2, if > 1) x red-noise beta of one instrument's whitened residuals."""
    chi2 = sum(float(np.sum(r**2)) for r in residuals)
    n_points = sum(len(r) for r in residuals)
    reduced = chi2 / max(n_points - n_params, 1)
    beta = np.sqrt(np.mean([red_noise_beta(r, max_bins) ** 2 for r in residuals]))
    return float(np.sqrt(max(reduced, 1.0)) * beta)


def fit_white_light(
    visits: list[VisitCurves],
    star: tuple[float, float, float],
    options: FitOptions,
    limb_darkening_prior: dict[str, LimbDarkeningGuess] | None = None,
    t0_start: np.ndarray | None = None,
) -> WhiteLightFit:
    """Joint least-squares fit of both instruments' white light over all visits.

    ``star``: catalogue a/Rs, inclination (deg) and period (d), the start and Gaussian prior
    of the geometry. Free: t0 per visit, a/Rs and inclination, and per instrument the depth
    and quadratic limb darkening (with ``limb_darkening_prior`` if given); the systematics of
    each visit and instrument are solved linearly inside every step. ``t0_start``: the
    visits' searched mid-times (``find_transit``), searched here when not given.
    """
    sma, inclination, period_d = star
    if t0_start is None:
        t0_start = [find_transit(v, sma, inclination, period_d, options).t0_h for v in visits]
    t0 = np.asarray(t0_start, dtype=float)
    designs = [
        {ins: systematics_design(v.time_h[ins], v.regressors[ins], options) for ins in INSTRUMENTS}
        for v in visits
    ]
    n_visits = len(visits)
    first_depth = n_visits + 2

    def unpack(p: np.ndarray) -> tuple[Geometry, dict[str, np.ndarray]]:
        geometry = Geometry(p[:n_visits], p[n_visits], p[n_visits + 1], period_d)
        rest = p[first_depth:].reshape(len(INSTRUMENTS), 3)
        return geometry, {ins: rest[k] for k, ins in enumerate(INSTRUMENTS)}

    def data_residuals(p: np.ndarray) -> dict[str, list[np.ndarray]]:
        geometry, per_instrument = unpack(p)
        out: dict[str, list[np.ndarray]] = {ins: [] for ins in INSTRUMENTS}
        for v, visit in enumerate(visits):
            for ins in INSTRUMENTS:
                curve = TransitCurve(visit.time_h[ins], geometry.t0_h[v], geometry)
                transit = curve.flux(*per_instrument[ins])
                out[ins].append(
                    projected_residuals(visit.flux[ins], visit.sigma[ins], transit, designs[v][ins])
                )
        return out

    def prior_residuals(p: np.ndarray) -> list[float]:
        geometry, per_instrument = unpack(p)
        out = [
            (geometry.sma - sma) / (options.prior_sma_fraction * sma),
            (geometry.inclination - inclination) / options.prior_inclination_deg,
        ]
        for ins, guess in (limb_darkening_prior or {}).items():
            u = per_instrument[ins][1:]
            out += [(u[k] - guess.mean[k]) / guess.sigma[k] for k in range(2)]
        return out

    def residuals(p: np.ndarray) -> np.ndarray:
        per_instrument = data_residuals(p)
        return np.concatenate([*per_instrument["FGS1"], *per_instrument["AIRS-CH0"],
                               prior_residuals(p)])  # fmt: skip

    u_start = {ins: options.start_limb_darkening for ins in INSTRUMENTS}
    for ins, guess in (limb_darkening_prior or {}).items():
        u_start[ins] = tuple(
            float(np.clip(m, low + 1e-3, high - 1e-3))
            for m, (low, high) in zip(guess.mean, LIMB_DARKENING_BOUNDS, strict=True)
        )
    start = np.concatenate(
        [t0, [sma, min(inclination, 89.9)], *[[0.015, *u_start[ins]] for ins in INSTRUMENTS]]
    )
    (u1_low, u1_high), (u2_low, u2_high) = LIMB_DARKENING_BOUNDS
    lowest_inclination = np.degrees(np.arccos(min(GRAZING_LIMIT / (0.5 * sma), 1.0)))
    lower = np.concatenate(
        [t0 - 0.5, [sma * 0.5, min(80.0, lowest_inclination)], [1e-4, u1_low, u2_low] * 2]
    )
    upper = np.concatenate([t0 + 0.5, [sma * 1.5, 90.0], [options.max_depth, u1_high, u2_high] * 2])
    fit = least_squares(residuals, start, bounds=(lower, upper), x_scale="jac")
    geometry, per_instrument = unpack(fit.x)

    # Covariance from the Jacobian, each instrument's rows scaled by its noise inflation
    # (reduced chi2 and red noise), so the depths' errors carry what the model misses.
    final = data_residuals(fit.x)
    inflation = {
        ins: _noise_inflation(
            final[ins], 3 + sum(d[ins].shape[1] for d in designs), options.red_noise_max_bins
        )
        for ins in INSTRUMENTS
    }
    n_rows = {ins: sum(len(r) for r in final[ins]) for ins in INSTRUMENTS}
    row_scale = np.concatenate(
        [np.full(n_rows[ins], 1.0 / inflation[ins]) for ins in INSTRUMENTS]
        + [np.ones(len(fit.fun) - sum(n_rows.values()))]
    )
    jac = fit.jac * row_scale[:, None]
    covariance = np.linalg.pinv(jac.T @ jac)
    depth_index = [first_depth + 3 * k for k in range(len(INSTRUMENTS))]
    geometry_index = [*range(first_depth), depth_index[1]]
    return WhiteLightFit(
        geometry=geometry,
        depth={ins: float(v[0]) for ins, v in per_instrument.items()},
        limb_darkening={ins: (float(v[1]), float(v[2])) for ins, v in per_instrument.items()},
        depth_covariance=covariance[np.ix_(depth_index, depth_index)],
        noise_inflation=inflation,
        geometry_covariance=covariance[np.ix_(geometry_index, geometry_index)],
    )
