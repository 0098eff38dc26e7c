"""The physics fit's predictions of train planets as a test planet would get them: each
planet's spectral-prior posterior uses a prior learned without its own label (cross-fitted
over folds of the train planets), so what learns from them (sigma calibration, the V50 model)
does not learn to trust the fit more than a test planet's deserves. The posterior is guarded
against prior-data conflict as a test planet's is (spectral_prior.guarded_posterior)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from spectramind.fit.options import FitOptions
from spectramind.fit.priors import MIN_PRIOR_PLANETS, learn_spectrum
from spectramind.fit.spectral_prior import FEATURE_AMPLITUDE, guarded_posterior


def fit_covariance(fit: xr.Dataset) -> np.ndarray:
    """The data-only depths' covariance (283, 283) stored in a fit file."""
    factor = fit["fit_covariance_factor"].values
    return np.diag(fit["fit_variance"].values) + factor @ factor.T


def cross_fitted_physics(
    fits: Sequence[xr.Dataset],
    labels: np.ndarray,
    wavelength: np.ndarray,
    components: int,
    folds: int,
    seed: int,
    p_value: float | None = None,
    feature_amplitude: float = FEATURE_AMPLITUDE,
) -> tuple[np.ndarray, np.ndarray]:
    """Physics mu and sigma (planets, 283) of training planets whose spectral prior never saw
    their own label: the planets are split into ``folds`` (seeded), and each fold's
    posteriors use a prior learned from the other folds' labels (with the unmodelled-feature
    term of ``feature_amplitude``), dropped where a planet's data conflict with it at
    ``p_value`` (guards.prior_conflict_p_value; None: no test)."""
    n_planets = len(fits)
    folds = min(folds, n_planets)
    if n_planets - int(np.ceil(n_planets / folds)) < MIN_PRIOR_PLANETS:
        raise ValueError(
            f"cross-fitting the spectral prior over {folds} folds of {n_planets} train planets "
            f"leaves fewer than {MIN_PRIOR_PLANETS} outside a fold: use more train planets or "
            "switch the prior off (fit.spectral_prior: false)"
        )
    order = np.random.default_rng(seed).permutation(n_planets)
    mu, sigma = np.empty_like(labels), np.empty_like(labels)
    for held_out in np.array_split(order, folds):
        rest = np.setdiff1d(order, held_out)
        prior = learn_spectrum(labels[rest], wavelength, components, feature_amplitude)
        for k in held_out:
            depth, covariance = fits[k]["fit_depth"].values, fit_covariance(fits[k])
            guarded = guarded_posterior(prior, depth, covariance, p_value)
            mu[k], sigma[k] = guarded.mean, guarded.sigma
    return mu, sigma


def train_physics_predictions(
    fits: Sequence[xr.Dataset],
    labels: np.ndarray,
    wavelength: np.ndarray,
    fit_options: FitOptions,
    folds: int,
    seed: int,
    p_value: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The physics mu and sigma of train planets as a test planet would get them: cross-fitted
    when the fit uses a spectral prior (guarded against conflict at ``p_value``), else the
    fits' own depths and sigmas."""
    if not fit_options.spectral_prior:
        return (np.array([f["depth"].values for f in fits]),
                np.array([f["sigma"].values for f in fits]))  # fmt: skip
    components = fit_options.spectral_prior_components
    feature = fit_options.spectral_prior_feature_ppm * 1e-6
    return cross_fitted_physics(fits, labels, wavelength, components, folds, seed, p_value,
                                feature)  # fmt: skip
