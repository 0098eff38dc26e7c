"""Fit one planet's light curves: joint white-light geometry, limb darkening across
wavelength, per-channel depths under a shared chromatic drift, their full covariance, and
(optionally) the spectral prior's posterior."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import xarray as xr

from spectramind import __version__
from spectramind.fit.coverage import missing_transit, transit_coverage, transit_significance
from spectramind.fit.fallback import fallback_fit
from spectramind.fit.limb_darkening import (
    LimbDarkeningPrior,
    fit_group,
    group_curves,
    smooth_in_wavelength,
)
from spectramind.fit.model import (
    TransitCurve,
    common_mode_design,
    fitted_baseline,
    systematics_design,
)
from spectramind.fit.options import FitOptions
from spectramind.fit.spectral_prior import SpectralPrior, guarded_posterior
from spectramind.fit.spectrum import ChannelSet, SpectrumFit, fit_spectrum
from spectramind.fit.white_light import (
    INSTRUMENTS,
    LimbDarkeningGuess,
    VisitCurves,
    WhiteLightFit,
    find_transit,
    fit_white_light,
)
from spectramind.guards import GuardOptions, GuardRecord
from spectramind.guards.prior_predictive import PriorPredictive

log = logging.getLogger(__name__)
TIME = {"FGS1": "fgs1_time", "AIRS-CH0": "airs_time"}
GROUP_TIME_DEGREE = 2  # chromatic drift of one limb-darkening group, polynomial in time


@dataclass(frozen=True)
class FitPriors:
    """What the training planets teach the fit (artifacts); None: not used. The prior
    predictive and the naive reference are the fallbacks of a planet the fit cannot see."""

    limb_darkening: LimbDarkeningPrior | None = None
    spectral: SpectralPrior | None = None
    white_light_error_scale: Mapping[str, float] | None = None
    prior_predictive: PriorPredictive | None = None
    naive: Mapping[str, float] | None = None


def _normalised(flux: np.ndarray, variance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scale = np.median(flux, axis=0)
    return flux / scale, np.sqrt(variance) / scale


def visit_curves(
    lightcurves: xr.Dataset, visit: int, regressors: dict[str, tuple[str, ...]]
) -> VisitCurves:
    """One visit's normalised FGS1 and AIRS white light on their own time axes."""
    flux = lightcurves["flux"].values[visit]
    variance = lightcurves["variance"].values[visit]
    fgs1 = _normalised(flux[:, 0], variance[:, 0])
    airs = _normalised(flux[:, 1:].sum(axis=1), variance[:, 1:].sum(axis=1))
    return VisitCurves(
        time_h={ins: lightcurves[name].values[visit] for ins, name in TIME.items()},
        flux={"FGS1": fgs1[0], "AIRS-CH0": airs[0]},
        sigma={"FGS1": fgs1[1], "AIRS-CH0": airs[1]},
        regressors={
            ins: [lightcurves[name].values[visit] for name in names]
            for ins, names in regressors.items()
        },
    )


def white_light_guess(
    prior: LimbDarkeningPrior, lightcurves: xr.Dataset, t_eff: float
) -> dict[str, LimbDarkeningGuess]:
    """The prior's (u1, u2) for each instrument's white light: FGS1 at its wavelength, AIRS
    the flux-weighted mean over its channels."""
    wavelength = lightcurves["wavelength"].values
    u = prior.evaluate(wavelength, t_eff)
    weight = np.median(lightcurves["flux"].values[0, :, 1:], axis=0)
    airs = (u[:, 1:] * weight).sum(axis=1) / weight.sum()
    sigma = tuple(map(float, prior.sigma))
    return {
        "FGS1": LimbDarkeningGuess(tuple(map(float, u[:, 0])), sigma),
        "AIRS-CH0": LimbDarkeningGuess(tuple(map(float, airs)), sigma),
    }


def airs_channels(
    lightcurves: xr.Dataset, visits: list[VisitCurves], white: WhiteLightFit, options: FitOptions
) -> ChannelSet:
    """The AIRS channels with the white light's baseline and transit curves; limb darkening
    still at the white light's value (``channel_limb_darkening`` refines it)."""
    airs = "AIRS-CH0"
    flux, sigma, baseline, curves = [], [], [], []
    u_white = white.limb_darkening[airs]
    for k, visit in enumerate(visits):
        f, s = _normalised(
            lightcurves["flux"].values[k, :, 1:], lightcurves["variance"].values[k, :, 1:]
        )
        curve = TransitCurve(visit.time_h[airs], white.geometry.t0_h[k], white.geometry)
        design = systematics_design(visit.time_h[airs], visit.regressors[airs], options)
        transit = curve.flux(white.depth[airs], *u_white)
        baseline.append(fitted_baseline(visit.flux[airs], visit.sigma[airs], transit, design))
        flux.append(f)
        sigma.append(s)
        curves.append(curve)
    wavelength = lightcurves["wavelength"].values[1:]
    u = np.repeat(np.array(u_white)[:, None], len(wavelength), axis=1)
    times = [v.time_h[airs] for v in visits]
    no_error = np.zeros((2, len(wavelength), 0))
    return ChannelSet(flux, sigma, baseline, times, curves, wavelength, u, no_error)


def channel_limb_darkening(
    channels: ChannelSet,
    depth: np.ndarray | None,
    prior_mean: np.ndarray | None,
    prior_sigma: np.ndarray | None,
    start: tuple[float, float, float],
    options: FitOptions,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(u1, u2) on ``limb_darkening_groups`` groups of channels: group centres, values and
    2x2 covariances. ``depth``: None (free), or per channel (known, for training planets);
    ``prior_mean`` (2, channels) with ``prior_sigma`` (2,) adds the Gaussian prior."""
    groups = np.array_split(np.arange(len(channels.wavelength)), options.limb_darkening_groups)
    designs = [
        common_mode_design(b, t, GROUP_TIME_DEGREE)
        for b, t in zip(channels.baseline, channels.time_h, strict=True)
    ]
    centres, values, covariances = [], [], []
    for group in groups:
        data = group_curves(channels.flux, channels.sigma, designs, group)
        known = None if depth is None else float(np.mean(depth[group]))
        prior = None
        if prior_mean is not None and prior_sigma is not None:
            prior = (prior_mean[:, group].mean(axis=1), prior_sigma)
            start = (start[0], *prior[0])
        u, u_covariance = fit_group(data, channels.curves, known, start, prior, options)
        centres.append(channels.wavelength[group].mean())
        values.append(u)
        covariances.append(u_covariance)
    return np.array(centres), np.array(values), np.array(covariances)


def covariance_terms(white: WhiteLightFit, spectrum: SpectrumFit) -> tuple[np.ndarray, np.ndarray]:
    """The 283 depths' covariance as diag(variance) + factor @ factor.T.

    AIRS: the channels' own variances and the low-rank parts of the shared chromatic drift
    and limb darkening, plus a common mode that tops the level's variance up to the white
    light's (geometry, limb darkening and the white baseline's systematics, which the
    per-channel fits hold fixed). FGS1 is the white-light depth with its full variance,
    correlated with the AIRS common mode as the joint fit says. The common mode is the same
    in every channel: the error scales with the depth, but the spectrum varies by ~1 %
    across the band, and a mapping through the noisy per-channel depths would point it
    along the data's own noise."""
    common = white.depth_covariance.copy()
    common[1, 1] = max(common[1, 1] - 1.0 / np.sum(1.0 / spectrum.variance), 0.0)
    values, vectors = np.linalg.eigh(common)
    mapping = np.zeros((len(spectrum.depth) + 1, 2))
    mapping[0, 0] = 1.0
    mapping[1:, 1] = 1.0
    common_factor = mapping @ (vectors * np.sqrt(np.clip(values, 0.0, None)))
    drift = np.vstack([np.zeros((1, spectrum.factor.shape[1])), spectrum.factor])
    return np.r_[0.0, spectrum.variance], np.hstack([common_factor, drift])


def fit_planet(
    lightcurves: xr.Dataset,
    star: Mapping[str, float],
    options: FitOptions | None = None,
    priors: FitPriors | None = None,
    guards: GuardOptions | None = None,
) -> xr.Dataset:
    """Depth (Rp/Rs)^2 and sigma for the 283 channels of one planet.

    ``star`` is the planet's star_info row (P in days, sma in stellar radii, i in degrees,
    Ts in K), the start and prior of the geometry and where the limb-darkening prior is
    evaluated. Visits are fitted jointly: one depth per channel from all of them. The
    ``guards`` record which contacts the visits hold; a planet without a transit in them
    gets the fallback (``fallback_fit``) instead of a depth the data cannot give.
    """
    options = options or FitOptions()
    priors = priors or FitPriors()
    guards = guards or GuardOptions()
    ld_prior = priors.limb_darkening if options.limb_darkening_prior else None
    t_eff = float(star["Ts"])
    visits = [
        visit_curves(lightcurves, v, options.regressors) for v in range(lightcurves.sizes["visit"])
    ]
    geometry_prior = (float(star["sma"]), float(star["i"]), float(star["P"]))
    searches = [find_transit(v, *geometry_prior, options) for v in visits]
    significance = transit_significance(searches)
    reason = missing_transit(significance, guards) if guards.transit_coverage else None
    if reason:
        log.warning("guard: %s; the fallback is submitted", reason)
        record = GuardRecord("no_transit", transit_significance=significance, reason=reason)
        wavelength = lightcurves["wavelength"].values
        return fallback_fit(wavelength, star, record, priors.prior_predictive, priors.naive,
                            options)  # fmt: skip
    guess = white_light_guess(ld_prior, lightcurves, t_eff) if ld_prior else None
    white = fit_white_light(visits, geometry_prior, options, guess, [s.t0_h for s in searches])
    coverage = transit_coverage(visits, white, searches)
    state, reason = coverage.state(guards) if guards.transit_coverage else ("normal", "")
    if reason:
        log.warning("guard: %s; the geometry's uncertainty is in sigma", reason)
    error_scale = priors.white_light_error_scale if options.white_light_error_scale else None
    if error_scale:
        scale = np.array([error_scale[ins] for ins in INSTRUMENTS])
        white.depth_covariance = white.depth_covariance * np.outer(scale, scale)
    channels = airs_channels(lightcurves, visits, white, options)
    prior_mean = ld_prior.evaluate(channels.wavelength, t_eff) if ld_prior else None
    prior_sigma = ld_prior.sigma if ld_prior else None
    start = (white.depth["AIRS-CH0"], *white.limb_darkening["AIRS-CH0"])
    centres, values, covariances = channel_limb_darkening(
        channels, None, prior_mean, prior_sigma, start, options
    )
    channels.limb_darkening, channels.limb_darkening_factor = smooth_in_wavelength(
        centres, values, covariances, channels.wavelength, options.limb_darkening_wavelength_degree
    )
    n_airs = len(channels.wavelength)
    spectrum = fit_spectrum(channels, np.full(n_airs, white.depth["AIRS-CH0"]), options)
    fit_depth = np.r_[white.depth["FGS1"], spectrum.depth]
    variance, factor = covariance_terms(white, spectrum)
    covariance = np.diag(variance) + factor @ factor.T
    fit_sigma = np.sqrt(np.diag(covariance))
    spectral = priors.spectral if options.spectral_prior else None
    depth, sigma, prior_use = fit_depth, fit_sigma, "off"
    if spectral:
        p_value = guards.prior_conflict_p_value if guards.prior_conflict else None
        guarded = guarded_posterior(spectral, fit_depth, covariance, p_value)
        depth, sigma = guarded.mean, guarded.sigma
        prior_use = "conflict" if guarded.conflict else "applied"
        if guarded.conflict:
            conflict = f"the spectral prior conflicts with the data (p = {guarded.statistic:.1e})"
            log.warning("guard: %s; the data alone are submitted", conflict)
            reason = "; ".join(filter(None, [reason, conflict]))
    record = GuardRecord(
        state,
        transit_significance=significance,
        contacts=coverage.contacts,
        spectral_prior=prior_use,
        reason=reason,
    )
    log.info(
        "t0 %s h, a/Rs %.2f, i %.2f deg, white depths FGS1 %.5f AIRS %.5f, drift degrees %s, "
        "median sigma %.1f ppm (fit alone %.1f)",
        np.round(white.geometry.t0_h, 3), white.geometry.sma, white.geometry.inclination,
        white.depth["FGS1"], white.depth["AIRS-CH0"], spectrum.drift_degrees,
        np.median(sigma) * 1e6, np.median(fit_sigma) * 1e6,
    )  # fmt: skip
    u_fgs1 = white.limb_darkening["FGS1"]
    wavelength = lightcurves["wavelength"].values
    return xr.Dataset(
        {
            "depth": ("channel", depth, {"long_name": "(Rp/Rs)^2"}),
            "sigma": ("channel", sigma, {"long_name": "1-sigma of depth"}),
            "fit_depth": ("channel", fit_depth, {"long_name": "(Rp/Rs)^2 from the data alone"}),
            "fit_sigma": ("channel", fit_sigma, {"long_name": "1-sigma of fit_depth"}),
            "fit_variance": (
                "channel",
                variance,
                {"long_name": "per-channel part of fit_depth's covariance"},
            ),
            "fit_covariance_factor": (
                ("channel", "mode"),
                factor,
                {"long_name": "covariance = diag(fit_variance) + F F^T"},
            ),
            "chi2_reduced": ("channel", np.r_[np.nan, spectrum.chi2_reduced]),
            "beta": (
                "channel",
                np.r_[white.noise_inflation["FGS1"], spectrum.beta],
                {"long_name": "red-noise factor (FGS1: total noise inflation)"},
            ),
            "limb_darkening_u1": ("channel", np.r_[u_fgs1[0], channels.limb_darkening[0]]),
            "limb_darkening_u2": ("channel", np.r_[u_fgs1[1], channels.limb_darkening[1]]),
        },  # fmt: skip
        coords={"channel": np.arange(len(wavelength)), "wavelength": ("channel", wavelength)},
        attrs={
            "title": "SpectraMind V50 physics fit",
            "t0_h": json.dumps(white.geometry.t0_h.tolist()),
            "sma": white.geometry.sma,
            "inclination": white.geometry.inclination,
            "white_depth": json.dumps(white.depth),
            "limb_darkening_white": json.dumps(white.limb_darkening),
            "chromatic_drift_degrees": json.dumps(spectrum.drift_degrees),
            "priors": json.dumps(
                {
                    "limb_darkening": ld_prior is not None,
                    "spectral": spectral is not None,
                    "white_light_error_scale": dict(error_scale or {}),
                }
            ),
            "options": json.dumps(options.as_dict(), sort_keys=True),
            "software": f"spectramind {__version__}",
            **record.attrs(),
        },
    )
