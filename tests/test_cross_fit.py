"""Cross-fitted physics predictions of train planets: none sees its own planet's label."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from spectramind.fit import cross_fit
from spectramind.fit.cross_fit import cross_fitted_physics
from spectramind.fit.spectral_prior import FEATURE_AMPLITUDE

WAVELENGTH = np.r_[0.7, np.linspace(1.95, 3.9, 282)]


def _fit(seed: int) -> xr.Dataset:
    """What cross-fitting reads of a fit file: the data-only depths and their covariance."""
    rng = np.random.default_rng(seed)
    return xr.Dataset(
        {
            "fit_depth": ("channel", 0.01 + 1e-4 * rng.normal(size=283)),
            "fit_variance": ("channel", np.full(283, 1e-8)),
            "fit_covariance_factor": (("channel", "mode"), np.full((283, 2), 1e-5)),
        }
    )


def test_cross_fitted_physics_never_sees_its_own_label(monkeypatch):
    fits = [_fit(seed=k) for k in range(9)]
    labels = np.array([f["fit_depth"].values + 1e-5 for f in fits])
    seen: list[np.ndarray] = []
    learn = cross_fit.learn_spectrum

    def recording(rows: np.ndarray, *args: object) -> object:
        seen.append(rows)
        return learn(rows, *args)

    monkeypatch.setattr(cross_fit, "learn_spectrum", recording)
    mu, sigma = cross_fitted_physics(fits, labels, WAVELENGTH, components=2, folds=3, seed=1)
    assert len(seen) == 3 and all(len(rows) == 6 for rows in seen)
    for k, label in enumerate(labels):
        trained_on = [any(np.array_equal(label, row) for row in rows) for rows in seen]
        assert trained_on.count(False) == 1, k  # exactly one prior lacks it: its own fold's
    assert np.isfinite(mu).all() and (sigma > 0).all()


def test_cross_fitting_too_few_planets_says_what_to_do():
    fits = [_fit(seed=k) for k in range(3)]
    labels = np.array([f["fit_depth"].values for f in fits])
    with pytest.raises(ValueError, match="fewer than 3 outside a fold.*fit.spectral_prior"):
        cross_fitted_physics(fits, labels, WAVELENGTH, components=2, folds=5, seed=0)


def _band_fits(n_planets: int, band_ppm: float) -> tuple[list[xr.Dataset], np.ndarray]:
    """Train planets with smooth labels (level + two bands) and data-only fits at 100 ppm per
    bin; planet 0's data hold a CO2-like band (2.7 um) no label has."""
    rng = np.random.default_rng(4)
    bands = np.array([np.exp(-0.5 * ((WAVELENGTH - c) / 0.2) ** 2) for c in (2.3, 3.3)])
    labels = (
        rng.uniform(1e-3, 2e-2, (n_planets, 1)) + rng.uniform(5e-5, 2e-4, (n_planets, 2)) @ bands
    )
    depths = labels + 1e-4 * rng.standard_normal(labels.shape)
    depths[0] += band_ppm * 1e-6 * np.exp(-0.5 * ((WAVELENGTH - 2.7) / 0.05) ** 2)
    fits = [
        xr.Dataset(
            {
                "fit_depth": ("channel", depth),
                "fit_variance": ("channel", np.full(283, 1e-8)),
                "fit_covariance_factor": (("channel", "mode"), np.zeros((283, 1))),
            }
        )
        for depth in depths
    ]
    return fits, labels


def test_cross_fitting_is_guarded_against_prior_conflict():
    fits, labels = _band_fits(12, band_ppm=1000)
    args = (fits, labels, WAVELENGTH, 2, 3, 0)
    guarded_mu, guarded_sigma = cross_fitted_physics(*args, p_value=1e-4)
    plain_mu, plain_sigma = cross_fitted_physics(*args, p_value=None)
    peak = np.argmin(np.abs(WAVELENGTH - 2.7))
    truth_peak = labels[0, peak] + 1e-3
    assert abs(guarded_mu[0, peak] - truth_peak) < 3 * guarded_sigma[0, peak]
    assert guarded_sigma[0, peak] == 1e-4  # the data alone there
    assert truth_peak - plain_mu[0, peak] > 10 * plain_sigma[0, peak]  # crushed unguarded
    # The other planets are like the labels: the guard leaves them alone.
    np.testing.assert_array_equal(guarded_mu[1:], plain_mu[1:])
    np.testing.assert_array_equal(guarded_sigma[1:], plain_sigma[1:])


def test_cross_fitted_priors_carry_the_unmodelled_feature_term(monkeypatch):
    # A train planet's posterior must be as wide as a test planet's would be: same prior terms.
    fits, labels = _band_fits(9, band_ppm=0)
    amplitudes: list[float] = []
    learn = cross_fit.learn_spectrum

    def recording(*args: object) -> object:
        prior = learn(*args)
        amplitudes.append(prior.feature_amplitude)
        return prior

    monkeypatch.setattr(cross_fit, "learn_spectrum", recording)
    cross_fitted_physics(fits, labels, WAVELENGTH, components=2, folds=3, seed=0, p_value=1e-4)
    assert amplitudes == [FEATURE_AMPLITUDE] * 3 and FEATURE_AMPLITUDE > 0
