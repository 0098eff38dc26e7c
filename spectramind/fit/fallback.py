"""The fit file of a planet whose data cannot support a fit (no transit in the visits) or
whose fit failed: the fallback's depth and sigma (spectramind.guards.fallback: the prior
predictive from the star table, else the naive reference) in the fit's own layout, with
the guard record saying why, so everything downstream reads it like any fit."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
import xarray as xr

from spectramind import __version__
from spectramind.core.failure import UpstreamFailure
from spectramind.fit.options import FitOptions
from spectramind.guards import GuardOptions, GuardRecord
from spectramind.guards.fallback import fallback_prediction
from spectramind.guards.prior_predictive import PriorPredictive

log = logging.getLogger(__name__)


def fallback_fit(
    wavelength: np.ndarray,
    star: Mapping[str, float] | None,
    record: GuardRecord,
    prior: PriorPredictive | None,
    naive: Mapping[str, float] | None,
    options: FitOptions,
) -> xr.Dataset:
    """A fit dataset holding the fallback prediction for one planet. ``star``: its star_info
    row (None if unknown: the naive reference); ``record``: the guard's state and reason
    (its predictor is set here). The geometry attributes are the catalogue's, the white
    depths the fallback's mean, the per-channel diagnostics NaN: there was no fit."""
    if naive is None:
        raise ValueError(
            f"no fallback for a planet the fit cannot support ({record.reason}): the naive "
            "reference artifact was not given (FitPriors.naive)"
        )
    stars = None if star is None else pd.DataFrame([dict(star)], index=[0])
    mu, sigma, predictors = fallback_prediction([0], stars, prior, naive, len(wavelength))
    mu, sigma = mu[0], sigma[0]
    record.predictor = predictors[0]
    nan = np.full(len(wavelength), np.nan)
    u = options.start_limb_darkening
    white = {"FGS1": float(mu[0]), "AIRS-CH0": float(np.mean(mu[1:]))}
    geometry = {name: float(star[key]) if star is not None else float("nan")
                for name, key in (("sma", "sma"), ("inclination", "i"))}  # fmt: skip
    return xr.Dataset(
        {
            "depth": ("channel", mu, {"long_name": "(Rp/Rs)^2 (fallback)"}),
            "sigma": ("channel", sigma, {"long_name": "1-sigma of depth"}),
            "fit_depth": ("channel", mu, {"long_name": "(Rp/Rs)^2 (fallback: no fit)"}),
            "fit_sigma": ("channel", sigma, {"long_name": "1-sigma of fit_depth"}),
            "fit_variance": ("channel", sigma**2),
            "fit_covariance_factor": (("channel", "mode"), np.zeros((len(wavelength), 1))),
            "chi2_reduced": ("channel", nan),
            "beta": ("channel", nan),
            "limb_darkening_u1": ("channel", np.full(len(wavelength), u[0])),
            "limb_darkening_u2": ("channel", np.full(len(wavelength), u[1])),
        },
        coords={"channel": np.arange(len(wavelength)), "wavelength": ("channel", wavelength)},
        attrs={
            "title": "SpectraMind V50 physics fit (fallback)",
            "t0_h": json.dumps([float("nan")]),
            **geometry,
            "white_depth": json.dumps(white),
            "limb_darkening_white": json.dumps({"FGS1": u, "AIRS-CH0": u}),
            "chromatic_drift_degrees": json.dumps([]),
            "priors": json.dumps({"prior_predictive": prior is not None}),
            "options": json.dumps(options.as_dict(), sort_keys=True),
            "software": f"spectramind {__version__}",
            **record.attrs(),
        },
    )


def fit_or_fallback(
    fit: Callable[[], xr.Dataset],
    wavelength: np.ndarray,
    star: Mapping[str, float] | None,
    prior: PriorPredictive | None,
    naive: Mapping[str, float] | None,
    options: FitOptions,
    guards: GuardOptions,
) -> xr.Dataset:
    """``fit()`` (reading and fitting one planet), or, when it raises and
    ``guards.failed_planet_fallback`` is on, the fallback with state ``failed``: logged with
    its traceback, and no other planet of the job taken down. A planet that failed upstream
    (``fit()`` raises ``UpstreamFailure``: its light curves are a failure record of
    calibrate or extract, logged there with the traceback) gets the same fallback, its
    reason naming that stage and error."""
    try:
        return fit()
    except UpstreamFailure as upstream:
        if not guards.failed_planet_fallback:
            raise
        reason = upstream.record.reason
        log.warning("guard: %s; the fallback is submitted", reason)
    except Exception as error:
        if not guards.failed_planet_fallback:
            raise
        log.exception("guard: the fit failed; the fallback is submitted")
        reason = f"the fit failed: {type(error).__name__}: {error}"
    record = GuardRecord("failed", reason=reason)
    return fallback_fit(wavelength, star, record, prior, naive, options)
