"""Extraction: light curves carry the right flux, wavelengths and jitter regressors."""

from __future__ import annotations

import numpy as np
import pytest

from spectramind import io
from spectramind.calibrate import calibrate_visit
from spectramind.core.netcdf import write_netcdf
from spectramind.extract.diagnostics import decorrelated_residuals, transit_duration_h
from spectramind.extract.lightcurves import extract_planet
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


def _dip(flux: np.ndarray, mid: np.ndarray, out: np.ndarray) -> float:
    return 1 - flux[mid].mean() / flux[out].mean()


def test_transit_dip_matches_the_simulated_flux(extracted):
    """Mid-transit dip of the AIRS white light and of 6 wavelength groups, against the same
    statistic of the simulator's noiseless flux (transit, limb darkening and drift, one AIRS
    exposure per bin): within 4 sigma of the propagated noise (measured |z| <= 1.4)."""
    lc, planet, config = extracted
    assert lc.attrs["airs_pairs_per_bin"] == 1
    t14 = transit_duration_h(planet.P, planet.sma, planet.inclination, planet.base_depth)
    groups = [np.arange(282), *np.array_split(np.arange(282), 6)]
    for visit in range(2):
        scene = visit_scene(config, planet, visit, "AIRS-CH0")
        truth = scene.stellar[: lc.sizes["time"], AIRS_SCIENCE_COLUMNS][:, ::-1]
        time = lc["airs_time"].values[visit]
        offset = np.abs(time - planet.visits[visit].t0_h)
        out, mid = offset > t14 / 2 + 0.25, offset < t14 / 4
        for channels in groups:
            flux = lc["flux"].values[visit, :, 1:][:, channels].sum(axis=1)
            variance = lc["variance"].values[visit, :, 1:][:, channels].sum(axis=1)
            relative = [variance[m].sum() / (m.sum() * flux[m].mean()) ** 2 for m in (mid, out)]
            sigma = np.sqrt(sum(relative))
            expected = _dip(truth[:, channels].sum(axis=1), mid, out)
            assert abs(_dip(flux, mid, out) - expected) < 4 * sigma, (visit, channels[0])


def test_scatter_is_the_propagated_noise(extracted):
    """Out of transit, after a least-squares fit of p = 8 terms (quadratic in time, quadratic
    surface in the trace row and width) to n bins, residuals scatter by sqrt((n - p) / n)
    times the propagated sigma. Every AIRS channel of both visits: median ratio measured
    1.00 (sampling error ~0.01); the white light: 1.10 and 1.11 for the two visits (~0.09 each)."""
    lc, planet, _ = extracted
    t14 = transit_duration_h(planet.P, planet.sma, planet.inclination, planet.base_depth)
    channel_ratios, white_ratios = [], []
    for visit in range(2):
        time = lc["airs_time"].values[visit]
        keep = np.abs(time - planet.visits[visit].t0_h) > t14 / 2 + 0.25
        regressors = [lc["airs_trace_row"].values[visit], lc["airs_trace_width"].values[visit]]
        dof = np.sqrt((keep.sum() - 8) / keep.sum())
        flux, variance = lc["flux"].values[visit], lc["variance"].values[visit]
        white = flux[:, 1:].sum(axis=1)
        expected = np.sqrt(variance[keep, 1:].sum(axis=1).mean()) / white[keep].mean()
        residual = decorrelated_residuals(white, time, regressors, keep)
        white_ratios.append(residual.std() / expected / dof)
        for channel in range(1, 283):
            residual = decorrelated_residuals(flux[:, channel], time, regressors, keep)
            expected = np.sqrt(variance[keep, channel].mean()) / flux[keep, channel].mean()
            channel_ratios.append(residual.std() / expected / dof)
    assert np.median(channel_ratios) == pytest.approx(1.0, abs=0.05)
    assert np.sqrt(np.mean(np.square(white_ratios))) == pytest.approx(1.0, abs=0.25)


def test_mismatched_wavelengths_are_refused(extracted, tmp_path, small_root):
    planet_id = io.discover_planets(small_root, "train")[0]
    fgs1, airs = tmp_path / "f.nc", tmp_path / "a.nc"
    write_netcdf(calibrate_visit(small_root, "train", planet_id, "FGS1", 0), fgs1)
    write_netcdf(calibrate_visit(small_root, "train", planet_id, "AIRS-CH0", 0), airs)
    wrong = io.read_wavelengths(small_root) * 1.01
    with pytest.raises(io.RawDataError, match="wavelengths differ"):
        extract_planet([fgs1], [airs], wrong)
    # the same files with the root's own wavelengths: extracted, on those wavelengths
    right = io.read_wavelengths(small_root)
    np.testing.assert_array_equal(extract_planet([fgs1], [airs], right)["wavelength"], right)
