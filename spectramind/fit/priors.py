"""What the physics fit learns from the training planets, whose true spectra are known:
the limb-darkening prior (from their light curves with the depths fixed to the truth), the
white light's error scale (how far its depths really miss, in units of their stated sigma)
and the spectral prior (from their labels)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr

from spectramind.core.failure import failure_of
from spectramind.fit.coverage import missing_transit, transit_significance
from spectramind.fit.limb_darkening import (
    GroupCurves,
    LimbDarkeningPrior,
    fit_group,
    learn_limb_darkening_prior,
)
from spectramind.fit.model import TransitCurve, systematics_design
from spectramind.fit.options import FitOptions
from spectramind.fit.planet import (
    FitPriors,
    airs_channels,
    channel_limb_darkening,
    visit_curves,
    white_light_guess,
)
from spectramind.fit.spectral_prior import FEATURE_AMPLITUDE, SpectralPrior, learn_spectral_prior
from spectramind.fit.white_light import INSTRUMENTS, VisitCurves, find_transit, fit_white_light
from spectramind.guards import GuardOptions
from spectramind.guards.prior_predictive import read_prior_predictive

log = logging.getLogger(__name__)
SAMPLE_COLUMNS = ["wavelength", "Ts", "u1", "u2", "u1_sigma", "u2_sigma"]
MIN_PRIOR_PLANETS = 3  # fewest labels a spectral prior is learned from
MIN_ERROR_SCALE_PLANETS = 5  # fewer: the white light's stated sigma is kept (scale 1)


def limb_darkening_samples(
    lightcurves: xr.Dataset,
    star: Mapping[str, float],
    true_depth: np.ndarray,
    options: FitOptions,
    guards: GuardOptions | None = None,
) -> pd.DataFrame:
    """(u1, u2) with sigmas of one training planet: FGS1's white light and each AIRS group,
    fitted with the geometry from the white light and the depth fixed to the truth. No rows
    from a planet whose visits hold no transit (``guards``): its curves say nothing of limb
    darkening; none from one that failed upstream (``lightcurves`` a failure record)."""
    if failed_upstream(lightcurves):
        return pd.DataFrame(columns=SAMPLE_COLUMNS, dtype=float)
    visits = [
        visit_curves(lightcurves, v, options.regressors) for v in range(lightcurves.sizes["visit"])
    ]
    geometry = (float(star["sma"]), float(star["i"]), float(star["P"]))
    t0_start = seen_transit(visits, geometry, options, guards or GuardOptions())
    if t0_start is None:
        return pd.DataFrame(columns=SAMPLE_COLUMNS, dtype=float)
    white = fit_white_light(visits, geometry, options, None, t0_start)
    channels = airs_channels(lightcurves, visits, white, options)
    start = (white.depth["AIRS-CH0"], *white.limb_darkening["AIRS-CH0"])
    centres, values, covariances = channel_limb_darkening(
        channels, true_depth[1:], None, None, start, options
    )
    fgs1 = "FGS1"
    fgs1_data = GroupCurves(
        [v.flux[fgs1] for v in visits],
        [v.sigma[fgs1] for v in visits],
        [systematics_design(v.time_h[fgs1], v.regressors[fgs1], options) for v in visits],
    )
    curves = [
        TransitCurve(v.time_h[fgs1], white.geometry.t0_h[k], white.geometry)
        for k, v in enumerate(visits)
    ]
    fgs1_start = (float(true_depth[0]), *white.limb_darkening[fgs1])
    u, u_covariance = fit_group(fgs1_data, curves, float(true_depth[0]), fgs1_start, None, options)
    sigmas = np.sqrt(
        np.diagonal(np.concatenate([u_covariance[None], covariances]), axis1=1, axis2=2)
    )
    rows = np.column_stack(
        [
            np.r_[lightcurves["wavelength"].values[0], centres],
            np.full(len(centres) + 1, float(star["Ts"])),
            np.vstack([u, values]),
            sigmas,
        ]
    )
    return pd.DataFrame(rows, columns=SAMPLE_COLUMNS)


def failed_upstream(lightcurves: xr.Dataset) -> bool:
    """Whether a training planet's light curves are a failure record (calibrate or extract
    raised on it, spectramind.core.failure), logged: it teaches nothing."""
    failure = failure_of(lightcurves.attrs)
    if failure is not None:
        log.warning("guard: %s; this training planet teaches nothing here", failure.reason)
    return failure is not None


def seen_transit(
    visits: list[VisitCurves],
    geometry: tuple[float, float, float],
    options: FitOptions,
    guards: GuardOptions,
) -> list[float] | None:
    """The visits' searched mid-times, or None when the transit-coverage guard sees no
    transit in them (logged)."""
    searches = [find_transit(v, *geometry, options) for v in visits]
    reason = missing_transit(transit_significance(searches), guards)
    if guards.transit_coverage and reason:
        log.warning("guard: %s; this training planet teaches nothing here", reason)
        return None
    return [search.t0_h for search in searches]


def learn_limb_darkening(samples: pd.DataFrame) -> LimbDarkeningPrior:
    """The prior from every training planet's samples (``limb_darkening_samples``)."""
    return learn_limb_darkening_prior(
        samples["wavelength"].to_numpy(),
        samples["Ts"].to_numpy(),
        samples[["u1", "u2"]].to_numpy(),
        samples[["u1_sigma", "u2_sigma"]].to_numpy(),
    )


def learn_spectrum(
    labels: pd.DataFrame | np.ndarray,
    wavelength: np.ndarray,
    components: int,
    feature_amplitude: float = FEATURE_AMPLITUDE,
) -> SpectralPrior:
    """The spectral prior from the training labels (planets x 283 depths) with an
    unmodelled-feature term of ``feature_amplitude``; keeps at most n_planets - 2 components,
    so a small training set still gives a prior."""
    labels = np.asarray(labels, dtype=np.float64)
    n_planets = len(labels)
    if n_planets < MIN_PRIOR_PLANETS:
        raise ValueError(
            f"the spectral prior needs at least {MIN_PRIOR_PLANETS} training planets, got "
            f"{n_planets}: use more "
            "(simulation.n_train on simulated data) or switch it off (fit.spectral_prior: false)"
        )
    n_components = min(components, n_planets - 2)
    return learn_spectral_prior(
        labels, wavelength, n_components, feature_amplitude=feature_amplitude
    )


def white_light_pulls(
    lightcurves: xr.Dataset,
    star: Mapping[str, float],
    true_depth: np.ndarray,
    prior: LimbDarkeningPrior | None,
    options: FitOptions,
    guards: GuardOptions | None = None,
) -> np.ndarray:
    """(FGS1, AIRS) white-light depth error over its stated sigma for one training planet,
    fitted as a test planet is (with the limb-darkening prior). The true AIRS white depth is
    the channels' true depths weighted by their flux. NaN for a planet whose visits hold no
    transit (``guards``): a test planet like it gets the fallback, not the white light; NaN
    for one that failed upstream (``lightcurves`` a failure record)."""
    if failed_upstream(lightcurves):
        return np.full(len(INSTRUMENTS), np.nan)
    visits = [
        visit_curves(lightcurves, v, options.regressors) for v in range(lightcurves.sizes["visit"])
    ]
    geometry = (float(star["sma"]), float(star["i"]), float(star["P"]))
    t0_start = seen_transit(visits, geometry, options, guards or GuardOptions())
    if t0_start is None:
        return np.full(len(INSTRUMENTS), np.nan)
    guess = white_light_guess(prior, lightcurves, float(star["Ts"])) if prior else None
    white = fit_white_light(visits, geometry, options, guess, t0_start)
    weight = np.median(lightcurves["flux"].values[0, :, 1:], axis=0)
    truth = np.array([true_depth[0], np.sum(weight * true_depth[1:]) / weight.sum()])
    fitted = np.array([white.depth[ins] for ins in INSTRUMENTS])
    return (fitted - truth) / np.sqrt(np.diag(white.depth_covariance))


def learn_white_light_error_scale(pulls: np.ndarray) -> dict[str, float]:
    """Per instrument, the rms of the training planets' white-light pulls (n, 2), at least 1:
    what the noise inflation (reduced chi2, red-noise beta) misses of the errors that model
    mismatch (limb-darkening law, drift shape) leaves in the white light."""
    pulls = np.asarray(pulls, dtype=np.float64)
    pulls = pulls[np.isfinite(pulls).all(axis=1)]
    if len(pulls) < MIN_ERROR_SCALE_PLANETS:
        return dict.fromkeys(INSTRUMENTS, 1.0)
    rms = np.sqrt(np.mean(pulls**2, axis=0))
    return {ins: float(max(1.0, r)) for ins, r in zip(INSTRUMENTS, rms, strict=True)}


def _naive_reference(path: str) -> dict[str, float]:
    """The naive reference artifact's mean and sigma (the last-resort fallback)."""
    with open(path) as f:
        reference = json.load(f)
    missing = {"mean", "sigma"} - set(reference)
    if missing:
        raise ValueError(f"{path}: naive reference lacks {sorted(missing)}")
    return {key: float(reference[key]) for key in ("mean", "sigma")}


def read_fit_priors(options: FitOptions, artifacts: Mapping[str, str]) -> FitPriors:
    """The learned priors the fit options switch on, from their artifact JSON files keyed by
    option name (limb_darkening_prior, white_light_error_scale, spectral_prior), as the
    workflow's rules give them; a prior switched on without its file is a clear error. The
    fallbacks (prior_predictive, naive_reference) are read when given."""

    def artifact(name: str) -> dict | None:
        if not getattr(options, name):
            return None
        if artifacts.get(name) is None:
            raise ValueError(f"fit.{name} is on but no {name} artifact was given")
        with open(artifacts[name]) as f:
            return json.load(f)

    limb_darkening, white_light, spectral = map(
        artifact, ("limb_darkening_prior", "white_light_error_scale", "spectral_prior")
    )
    fallback = artifacts.get("prior_predictive")
    naive = artifacts.get("naive_reference")
    return FitPriors(
        LimbDarkeningPrior.from_dict(limb_darkening) if limb_darkening else None,
        SpectralPrior.from_dict(spectral) if spectral else None,
        white_light["scale"] if white_light else None,
        read_prior_predictive(fallback) if fallback else None,
        _naive_reference(naive) if naive else None,
    )
