"""Physics fit on synthetic light curves with known depths, and its building blocks."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from spectramind.evaluation.baselines import white_light_depth
from spectramind.fit import fit_planet
from spectramind.fit.model import Geometry, TransitCurve
from spectramind.fit.spectrum import red_noise_beta
from spectramind.fit.white_light import VisitCurves, find_transit
from spectramind.simulate.wavelengths import target_wavelengths

STAR = {"P": 4.0, "sma": 10.0, "i": 88.5}
COUNTS = 5e7  # e- per bin and channel: noise 140 ppm per bin


def synthetic(depths: np.ndarray, t0: float = 3.6, seed: int = 0, n_time: int = 187) -> xr.Dataset:
    """Light curves shaped like extract's output: batman transit with chromatic limb
    darkening, a drift, a jitter-driven modulation and white noise."""
    rng = np.random.default_rng(seed)
    time = np.linspace(0.02, 7.45, n_time)
    wavelength = target_wavelengths()
    geometry = Geometry(np.array([t0]), STAR["sma"], STAR["i"], STAR["P"])
    curve = TransitCurve(time, t0, geometry)
    u1 = 0.45 * (wavelength / 0.7) ** -0.7
    transit = np.column_stack([curve.flux(d, a, 0.15) for d, a in zip(depths, u1, strict=True)])
    jitter_x, jitter_y = rng.normal(0, 0.1, n_time), rng.normal(0, 0.1, n_time)
    drift = 1 + 1e-3 * (time - 3.7) / 3.7 - 5e-4 * np.exp(-time / 0.5)
    systematics = drift * (1 + 2e-4 * jitter_x + 1e-4 * jitter_y**2)
    clean = COUNTS * transit * systematics[:, None]
    flux = clean + rng.normal(0, np.sqrt(clean))
    return xr.Dataset(
        {
            "flux": (("visit", "time", "channel"), flux[None]),
            "variance": (("visit", "time", "channel"), clean[None]),
            "time": (("visit", "time"), time[None]),
            "fgs1_centroid_x": (("visit", "time"), (15 + jitter_x)[None]),
            "fgs1_centroid_y": (("visit", "time"), (15 + jitter_y)[None]),
            "airs_trace_row": (("visit", "time"), (15.5 + 0.1 * jitter_y)[None]),
        },
        coords={"channel": np.arange(283), "wavelength": ("channel", wavelength)},
    )


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(1)
    depths = 0.0150 + 1e-4 * np.sin(np.arange(283) / 20) + rng.normal(0, 1e-6, 283)
    return depths, fit_planet(synthetic(depths), STAR)


def test_depths_recovered_within_their_sigmas(fitted):
    depths, fit = fitted
    z = (fit["depth"].values - depths) / fit["sigma"].values
    assert np.abs(np.median(z)) < 1.0
    assert 0.5 < z.std() < 1.5  # sigmas are honest: neither inflated nor overconfident
    assert np.mean(np.abs(z) < 2) > 0.85


def test_geometry_and_timing_recovered(fitted):
    _, fit = fitted
    assert json.loads(fit.attrs["t0_h"])[0] == pytest.approx(3.6, abs=0.01)
    assert fit.attrs["inclination"] == pytest.approx(88.5, abs=1.0)


def test_transit_found_when_partial():
    """A transit that starts before the visit does is still found."""
    lc = synthetic(np.full(283, 0.02), t0=0.4, seed=3)
    visit = VisitCurves(
        time_h=lc["time"].values[0],
        flux={"AIRS-CH0": lc["flux"].values[0, :, 1:].sum(axis=1) / (282 * COUNTS)},
        sigma={"AIRS-CH0": np.full(187, 1 / np.sqrt(282 * COUNTS))},
        regressors={"AIRS-CH0": [lc["airs_trace_row"].values[0]]},
    )
    assert find_transit(visit, STAR["sma"], STAR["i"], STAR["P"]) == pytest.approx(0.4, abs=0.05)


def test_red_noise_beta():
    rng = np.random.default_rng(0)
    assert red_noise_beta(rng.normal(size=2000)) == pytest.approx(1.0, abs=0.15)
    red = rng.normal(size=2000) + np.repeat(rng.normal(size=125), 16)
    assert red_noise_beta(red) > 1.5


def test_public_baseline_white_light_depth():
    lc = synthetic(np.full(283, 0.02), seed=5)
    assert white_light_depth(lc) == pytest.approx(0.02, rel=0.15)
