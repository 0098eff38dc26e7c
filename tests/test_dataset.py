"""Model inputs: resampling on a time axis and a sample's tensors from workflow-shaped
files."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import xarray as xr

from spectramind.models.dataset import (
    FIT_SUMMARY_FEATURES,
    LIGHT_CURVE_FEATURES,
    fitted_transits,
    planet_sample,
    resample,
)


def test_resample_averages_bins_and_bridges_gaps():
    time = np.arange(100.0)
    out = resample(time, np.column_stack([time, 2 * time]), 10)
    np.testing.assert_allclose(out[:, 0], np.arange(4.5, 100, 10))
    np.testing.assert_allclose(out[:, 1], 2 * out[:, 0])
    gappy = np.r_[np.arange(0, 30.0), np.arange(70, 100.0)]  # bins 3..6 empty
    out = resample(gappy, gappy, 10)
    assert np.all(np.diff(out) > 0) and np.isfinite(out).all()


def _files(n_time: int = 90, seed: int = 0) -> tuple[xr.Dataset, xr.Dataset]:
    rng = np.random.default_rng(seed)
    flux = 1e6 * (1 + 1e-3 * rng.normal(size=(1, n_time, 283)))
    time = np.linspace(0.0, 7.5, n_time)[None]
    lightcurves = xr.Dataset(
        {
            "flux": (("visit", "time", "channel"), flux),
            "variance": (("visit", "time", "channel"), np.full_like(flux, 1e6)),
            "fgs1_time": (("visit", "time"), time),
            "airs_time": (("visit", "time"), time + 0.006),
            "fgs1_centroid_x": (("visit", "time"), rng.normal(size=(1, n_time))),
            "fgs1_centroid_y": (("visit", "time"), rng.normal(size=(1, n_time))),
        },
        coords={"wavelength": ("channel", np.r_[0.7, np.linspace(1.95, 3.9, 282)])},
    )
    fit = xr.Dataset(
        {
            "fit_depth": ("channel", 0.01 + 1e-4 * rng.normal(size=283)),
            "fit_variance": ("channel", np.full(283, 1e-8)),
            "fit_covariance_factor": (("channel", "mode"), np.full((283, 2), 1e-5)),
            "beta": ("channel", np.full(283, 1.2)),
            "chi2_reduced": ("channel", np.r_[np.nan, np.full(282, 1.1)]),
        },
        attrs={
            "t0_h": json.dumps([3.75, 5.0]),
            "sma": 9.0,
            "inclination": 88.0,
            "white_depth": json.dumps({"FGS1": 0.0101, "AIRS-CH0": 0.0099}),
            "limb_darkening_white": json.dumps({"FGS1": [0.4, 0.2], "AIRS-CH0": [0.2, 0.1]}),
        },
    )
    return lightcurves, fit


def test_a_sample_has_the_documented_shapes():
    lightcurves, fit = _files()
    star = dict(Rs=1.0, Ms=1.0, Ts=5800.0, Mp=1.0, P=3.0, sma=9.0, i=88.0)
    mu, sigma = np.full(283, 0.01), np.full(283, 1e-4)
    sample = planet_sample(7, lightcurves, fit, star, mu, sigma, steps=32, truth=mu)
    assert sample.fgs1.shape == (LIGHT_CURVE_FEATURES, 32) and sample.airs.shape == (282, 1, 32)
    assert sample.nodes.shape == (282, 3) and sample.star.shape == (7,)
    assert sample.fit_summary.shape == (FIT_SUMMARY_FEATURES,)
    assert torch.isfinite(sample.fit_summary).all() and torch.isfinite(sample.fgs1).all()
    assert sample.physics_mu.shape == sample.truth.shape == (283,)
    # white noise of 1e-3 relative against a noise of 1e-3: unit scatter in noise units
    assert sample.airs.std().item() == pytest.approx(1 / np.sqrt(90 / 32), rel=0.15)


def test_fitted_transit_sits_where_the_fit_put_it():
    """The template is the fit's transit: centred on t0, as deep as the white depth (less
    limb darkening's brightening at the centre is more: depth x I(centre) / <I>), zero far
    out, on each instrument's own time axis."""
    lightcurves, fit = _files(n_time=400)
    transits = fitted_transits(lightcurves, fit, period_d=3.0)
    time = lightcurves["fgs1_time"].values[0]
    fgs1 = transits["FGS1"]
    assert time[np.argmin(fgs1)] == pytest.approx(3.75, abs=7.5 / 399)
    assert -fgs1.min() == pytest.approx(0.0101, rel=0.25) and fgs1[0] == 0.0 == fgs1[-1]
    assert transits["AIRS-CH0"].min() > fgs1.min()  # shallower white depth, weaker darkening
    star = dict(Rs=1.0, Ms=1.0, Ts=5800.0, Mp=1.0, P=3.0, sma=9.0, i=88.0)
    sample = planet_sample(7, lightcurves, fit, star, np.full(283, 0.01), np.full(283, 1e-4), 40)
    template = sample.fgs1[1].numpy()  # in FGS1 noise units (1e-3 relative)
    assert template.min() == pytest.approx(fgs1.min() / 1e-3, rel=0.1)
