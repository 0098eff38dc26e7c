"""Extraction: light curves carry the right flux, wavelengths and jitter regressors."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from spectramind import io
from spectramind.calibrate import calibrate_visit
from spectramind.core.netcdf import write_netcdf
from spectramind.extract import extract_planet
from spectramind.extract.diagnostics import decorrelated_residuals, transit_duration_h
from spectramind.io.layout import AIRS_SCIENCE_COLUMNS, INTEGRATION_S
from spectramind.simulate import draw_planet
from spectramind.simulate.planet import visit_scene


@pytest.fixture(scope="module")
def extracted(small_root, small_config, tmp_path_factory):
    """Light curves of the planet with two visits (seed 4: a 4 h transit), plus its truth."""
    out = tmp_path_factory.mktemp("lc")
    for split in io.SPLITS:
        for planet_id in io.discover_planets(small_root, split):
            visits = io.discover_visits(small_root, split, planet_id)
            if len(visits) == 2:
                break
        else:
            continue
        break
    files = {ins: [] for ins in io.INSTRUMENTS}
    for visit in visits:
        for ins in io.INSTRUMENTS:
            path = out / f"{ins}_{visit}.nc"
            write_netcdf(calibrate_visit(small_root, split, planet_id, ins, visit), path)
            files[ins].append(path)
    wavelengths = io.read_wavelengths(small_root)
    lc = extract_planet(files["FGS1"], files["AIRS-CH0"], wavelengths)
    return lc, draw_planet(small_config, planet_id, split), small_config


def test_layout_of_the_light_curves(extracted, small_root):
    lc, planet, _ = extracted
    assert lc.sizes["visit"] == 2 and lc.sizes["channel"] == 283
    np.testing.assert_array_equal(lc["wavelength"].values, io.read_wavelengths(small_root))
    assert lc["flux"].dims == ("visit", "time", "channel")
    for name in ("fgs1_centroid_x", "fgs1_centroid_y", "airs_trace_row", "airs_trace_width",
                 "airs_background", "fgs1_background"):  # fmt: skip
        assert lc[name].dims == ("visit", "time") and np.isfinite(lc[name].values).all()
    assert (lc["variance"].values > 0).all()


def test_flux_levels_match_what_the_simulator_put_in(extracted):
    """Out of transit, extracted e- per bin equal the stellar counts (within 1.5 %)."""
    lc, planet, config = extracted
    for visit in range(2):
        scene_f = visit_scene(config, planet, visit, "FGS1")
        scene_a = visit_scene(config, planet, visit, "AIRS-CH0")
        first = slice(0, 3)  # the first bins precede every simulated transit
        fgs1_pairs = lc.attrs["fgs1_pairs_per_bin"]
        airs_pairs = lc.attrs["airs_pairs_per_bin"]
        expected_f = scene_f.base_rate[0] * INTEGRATION_S["FGS1"] * fgs1_pairs
        airs_rate = scene_a.base_rate[AIRS_SCIENCE_COLUMNS][::-1]
        expected_a = airs_rate * INTEGRATION_S["AIRS-CH0"] * airs_pairs
        measured_f = lc["flux"].values[visit, first, 0].mean()
        measured_a = lc["flux"].values[visit, first, 1:].mean(axis=0)
        assert measured_f == pytest.approx(expected_f, rel=0.015)
        assert np.median(measured_a / expected_a) == pytest.approx(1.0, abs=0.015)


def test_centroids_follow_the_true_pointing(extracted):
    lc, planet, config = extracted
    scene = visit_scene(config, planet, 0, "FGS1")
    pairs = lc.attrs["fgs1_pairs_per_bin"]
    n = lc.sizes["time"]
    true_x = scene.pointing[: n * pairs, 0].reshape(n, pairs).mean(axis=1)
    true_y = scene.pointing[: n * pairs, 1].reshape(n, pairs).mean(axis=1)
    assert np.corrcoef(true_x, lc["fgs1_centroid_x"].values[0])[0, 1] > 0.9
    assert np.corrcoef(true_y, lc["fgs1_centroid_y"].values[0])[0, 1] > 0.9


def test_transit_is_in_the_white_light_at_the_right_depth(extracted):
    lc, planet, _ = extracted
    time = lc["time"].values[0]
    t0 = planet.visits[0].t0_h
    t14 = transit_duration_h(planet.P, planet.sma, planet.inclination, planet.base_depth)
    airs = lc["flux"].values[0, :, 1:].sum(axis=1)
    out = np.abs(time - t0) > t14 / 2 + 0.25
    mid = np.abs(time - t0) < t14 / 4
    dip = 1 - airs[mid].mean() / airs[out].mean()
    assert dip == pytest.approx(planet.base_depth, rel=0.3)


def test_white_light_scatter_is_the_propagated_noise(extracted):
    lc, planet, _ = extracted
    time = lc["time"].values[0]
    t14 = transit_duration_h(planet.P, planet.sma, planet.inclination, planet.base_depth)
    keep = np.abs(time - planet.visits[0].t0_h) > t14 / 2 + 0.25
    white = lc["flux"].values[0, :, 1:].sum(axis=1)
    regressors = [lc["airs_trace_row"].values[0], lc["airs_trace_width"].values[0]]
    residual = decorrelated_residuals(white, time, regressors, keep)
    expected = np.sqrt(lc["variance"].values[0, keep, 1:].sum(axis=1).mean()) / white[keep].mean()
    assert residual.std() / expected == pytest.approx(1.0, abs=0.3)


def test_mismatched_wavelengths_are_refused(extracted, tmp_path, small_root):
    planet_id = io.discover_planets(small_root, "train")[0]
    fgs1, airs = tmp_path / "f.nc", tmp_path / "a.nc"
    write_netcdf(calibrate_visit(small_root, "train", planet_id, "FGS1", 0), fgs1)
    write_netcdf(calibrate_visit(small_root, "train", planet_id, "AIRS-CH0", 0), airs)
    wrong = io.read_wavelengths(small_root) * 1.01
    with pytest.raises(io.RawDataError, match="wavelengths differ"):
        extract_planet([fgs1], [airs], wrong)
    assert isinstance(extract_planet([fgs1], [airs], io.read_wavelengths(small_root)), xr.Dataset)
