"""Diagnostic tables and figures: statistics against hand-computed values, and what the
figures draw read back from their Axes (calibrated Gaussian predictions read as calibrated,
over-confident ones do not; bin 0 is FGS1 everywhere)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from spectramind.calibrate import calibrate_visit
from spectramind.core.netcdf import write_netcdf
from spectramind.diagnostics import figures
from spectramind.diagnostics import frames as frame_figures
from spectramind.diagnostics.summary import error_summary_table, per_bin_table
from spectramind.evaluation.metrics import competition_score
from spectramind.fit.model import Geometry, TransitCurve
from spectramind.fit.options import FitOptions
from spectramind.io import (
    INSTRUMENTS,
    discover_planets,
    read_axis_info,
    read_signal,
    signal_path,
)

NAIVE = (0.02, 0.01)
FGS1_WEIGHT = 0.4 / 1.95 * 282  # the metric's FGS1 weight, written out as in test_metrics.py
WAVELENGTH = np.r_[0.7, np.linspace(1.95, 3.9, 282)]


def gaussian_predictions(planets: int, sigma_scale: float = 1.0, seed: int = 0):
    """Truth drawn from N(mu, sigma): calibrated predictions; the sigma returned is the true
    one times ``sigma_scale`` (below 1: over-confident)."""
    rng = np.random.default_rng(seed)
    mu = 0.02 + 1e-3 * rng.random((planets, 283))
    sigma = np.full((planets, 283), 5e-5)
    sigma[:, 0] = 2e-5
    truth = mu + sigma * rng.standard_normal((planets, 283))
    return truth, mu, sigma_scale * sigma


@pytest.fixture(scope="module")
def calibrated():
    return gaussian_predictions(2000)


def lines_by_label(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def test_calibrated_predictions_cover_68_and_95_percent(calibrated):
    table = error_summary_table(*calibrated, NAIVE)
    for group, tolerance in (("all", 0.005), ("AIRS-CH0", 0.005), ("FGS1", 0.03)):
        assert table[group]["coverage_68"] == pytest.approx(0.6827, abs=tolerance)
        assert table[group]["coverage_95"] == pytest.approx(0.9545, abs=tolerance)
    assert table["n_planets"] == 2000
    assert table["FGS1"]["n_bins"] == 1 and table["AIRS-CH0"]["n_bins"] == 282
    json.dumps(table)  # JSON-ready


def test_instrument_split_puts_bin_0_alone_in_fgs1():
    truth = np.full((2, 283), 0.02)
    mu = truth.copy()
    mu[:, 0] += [0.5e-4, 3e-4]  # only FGS1 is off: 0.5 and 3 sigma
    sigma = np.full((2, 283), 1e-4)
    table = error_summary_table(truth, mu, sigma, NAIVE)
    assert table["FGS1"]["rmse"] == pytest.approx(np.sqrt((0.25e-8 + 9e-8) / 2))
    assert table["FGS1"]["bias_ppm"] == pytest.approx(175.0)
    assert table["FGS1"]["mae"] == pytest.approx(1.75e-4)
    assert table["FGS1"]["coverage_68"] == 0.5 and table["FGS1"]["coverage_95"] == 0.5
    assert table["AIRS-CH0"]["rmse"] == 0.0 and table["AIRS-CH0"]["coverage_68"] == 1.0
    assert table["all"]["rmse"] == pytest.approx(np.sqrt((0.25e-8 + 9e-8) / (2 * 283)))


def test_instrument_scores_are_the_metric_restricted_to_their_bins():
    truth, mu, sigma = gaussian_predictions(5, sigma_scale=1.5)
    table = error_summary_table(truth, mu, sigma, NAIVE)

    def log_n(y, m, s):
        return -0.5 * np.log(2 * np.pi) - np.log(s) - 0.5 * ((y - m) / s) ** 2

    reference = log_n(truth, *NAIVE)
    airs = (log_n(truth, mu, sigma) - reference) / (log_n(truth, truth, 1e-5) - reference)
    airs = airs[:, 1:]
    assert table["AIRS-CH0"]["score_unclipped"] == pytest.approx(airs.mean(), rel=1e-12)
    fgs1 = competition_score(truth[:, :1], mu[:, :1], sigma[:, :1], *NAIVE, clip=False)
    assert table["FGS1"]["score_unclipped"] == pytest.approx(fgs1, rel=1e-12)
    overall = competition_score(truth, mu, sigma, *NAIVE, clip=False)
    assert table["all"]["score_unclipped"] == pytest.approx(overall, rel=1e-12)
    # The overall score is the FGS1-weighted mean of the two instruments' scores (the
    # library rounds the weight to 57.846, as the competition's code does).
    weighted = (FGS1_WEIGHT * fgs1 + 282 * airs.mean()) / (FGS1_WEIGHT + 282)
    assert overall == pytest.approx(weighted, rel=1e-6)
    assert 0.0 <= table["AIRS-CH0"]["score"] <= 1.0


def test_ratio_to_the_floors_is_a_ratio_of_root_mean_squares():
    truth = np.zeros((2, 3))
    mu = np.array([[3e-4, 0, 0], [0, 0, 4e-4]])
    sigma = np.full((2, 3), 1e-4)
    floor = np.full((2, 3), 1e-4)
    table = error_summary_table(truth, mu, sigma, NAIVE, floor, 2 * floor)
    assert table["all"]["rmse_over_depth_only_floor"] == pytest.approx(np.sqrt(25 / 6))
    assert table["all"]["rmse_over_marginalised_floor"] == pytest.approx(np.sqrt(25 / 6) / 2)
    assert table["FGS1"]["rmse_over_depth_only_floor"] == pytest.approx(np.sqrt(9 / 2))
    assert error_summary_table(truth, mu, sigma, NAIVE)["all"]["rmse_over_depth_only_floor"] is None


def test_per_bin_table_against_hand_computed_values():
    truth = np.array([[0.010, 0.020, 0.030], [0.010, 0.020, 0.030]])
    mu = truth + np.array([[1e-4, -2e-4, 0.0], [3e-4, 2e-4, 0.0]])
    sigma = np.array([[2e-4, 1e-4, 1e-4], [2e-4, 1e-4, 3e-4]])
    floor = np.array([[3e-5, 1e-4, 1e-4], [4e-5, 1e-4, 1e-4]])
    table = per_bin_table(truth, mu, sigma, [0.7, 2.0, 3.0], depth_only_floor=floor)
    assert list(table["instrument"]) == ["FGS1", "AIRS-CH0", "AIRS-CH0"]
    assert list(table["bin"]) == [0, 1, 2]
    np.testing.assert_allclose(table["rmse_ppm"], [np.sqrt(50e3), 200.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(table["bias_ppm"], [200.0, 0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(table["mean_sigma_ppm"], [200.0, 100.0, 200.0])
    # |z|: bin 0 (0.5, 1.5), bin 1 (2, 2), bin 2 (0, 0)
    np.testing.assert_allclose(table["coverage_68"], [0.5, 0.0, 1.0])
    np.testing.assert_allclose(table["coverage_95"], [1.0, 0.0, 1.0])
    np.testing.assert_allclose(table["depth_only_floor_ppm"], [np.sqrt(12.5e2), 100.0, 100.0])
    assert "marginalised_floor_ppm" not in table


def test_reliability_diagram_on_the_diagonal_when_calibrated_below_it_when_overconfident(
    calibrated,
):
    ax = figures.reliability_diagram(*calibrated).axes[0]
    for instrument, tolerance in (("AIRS-CH0", 0.01), ("FGS1", 0.04)):
        line = lines_by_label(ax)[instrument]
        levels = line.get_xdata()
        assert (levels[0], levels[-1]) == pytest.approx((0.05, 0.99))  # nominal 0.05..0.99
        np.testing.assert_allclose(line.get_ydata(), levels, atol=tolerance)
    truth, mu, sigma = calibrated
    ax = figures.reliability_diagram(truth, mu, sigma / 3).axes[0]
    for instrument in ("FGS1", "AIRS-CH0"):
        line = lines_by_label(ax)[instrument]
        assert len(line.get_xdata()) == len(levels), instrument  # every level drawn
        assert np.all(line.get_ydata() < line.get_xdata() - 0.03)


def bar_heights(ax):
    return np.array([patch.get_height() for patch in ax.patches])


def test_pit_histogram_is_flat_when_calibrated_and_u_shaped_when_overconfident(calibrated):
    fgs1, airs = figures.pit_histogram(*calibrated).axes
    assert len(bar_heights(fgs1)) == len(bar_heights(airs)) == 20  # ~sqrt(n) bins, at most 20
    np.testing.assert_allclose(bar_heights(airs), 1.0, atol=0.05)
    np.testing.assert_allclose(bar_heights(fgs1), 1.0, atol=0.4)
    truth, mu, sigma = calibrated
    heights = bar_heights(figures.pit_histogram(truth, mu, sigma / 3).axes[1])
    assert heights[0] > 3 and heights[-1] > 3 and heights[len(heights) // 2] < 0.5


def test_sigma_vs_error_draws_fgs1_apart_and_counts_points_above_the_lines(calibrated):
    truth, mu, sigma = calibrated
    ax = figures.sigma_vs_error(truth, mu, sigma).axes[0]
    fgs1 = next(c for c in ax.collections if c.get_label() == "FGS1")
    np.testing.assert_allclose(fgs1.get_offsets()[:, 0], sigma[:, 0] * 1e6)
    np.testing.assert_allclose(fgs1.get_offsets()[:, 1], np.abs(mu - truth)[:, 0] * 1e6)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["|error| = 1.00 sigma (32% above)", "|error| = 1.96 sigma (5% above)"]


def test_per_bin_rmse_puts_fgs1_at_its_own_wavelength():
    rmse, sigma = np.linspace(50, 80, 283), np.linspace(60, 90, 283)
    ax = figures.per_bin_rmse(WAVELENGTH, rmse, sigma, depth_only_floor_ppm=sigma / 2).axes[0]
    curves = lines_by_label(ax)
    assert set(curves) >= {"RMSE", "mean predicted sigma", "depth-only floor"}
    assert "marginalised floor" not in curves
    np.testing.assert_allclose(curves["RMSE"].get_xdata(), WAVELENGTH[1:])
    markers = [line for line in ax.get_lines() if line.get_marker() == "D"]
    assert len(markers) == 3
    assert all(line.get_xdata()[0] == 0.7 for line in markers)
    assert sorted(line.get_ydata()[0] for line in markers) == [30.0, 50.0, 60.0]


def test_spectra_examples_one_panel_per_planet_truth_when_given(calibrated):
    truth, mu, sigma = (a[:3] for a in calibrated)
    fig = figures.spectra_examples(WAVELENGTH, mu, sigma, [11, 12, 13], truth=truth, n=4)
    assert [ax.get_title() for ax in fig.axes] == ["planet 11", "planet 12", "planet 13"]
    np.testing.assert_allclose(lines_by_label(fig.axes[1])["truth"].get_ydata(), truth[1, 1:] * 1e6)
    fig = figures.spectra_examples(WAVELENGTH, mu, sigma, [11, 12, 13], n=2)
    assert len(fig.axes) == 2 and "truth" not in lines_by_label(fig.axes[0])


def test_residual_heatmap_images_z_with_symmetric_limits():
    truth, mu, sigma = gaussian_predictions(3, sigma_scale=0.5)
    fig = figures.residual_heatmap(truth, mu, sigma, [1, 2, 3], WAVELENGTH)
    fgs1, airs = (ax.get_images()[0] for ax in fig.axes[:2])
    z = (mu - truth) / sigma
    np.testing.assert_allclose(fgs1.get_array(), z[:, :1])
    np.testing.assert_allclose(airs.get_array(), z[:, 1:])
    assert airs.get_clim() == (-4.0, 4.0) == fgs1.get_clim()


def lightcurve_files(noise: float = 1e-4, drift: float = 4e-3, n_time: int = 300):
    """A light-curve file and the fit file of its exact transit, in the workflow's formats,
    and the noiseless white light per instrument (over its median): transit x a linear drift
    (which the fit's systematics baseline models) plus white noise of ``noise`` relative per
    time bin in FGS1 and in the AIRS white light."""
    rng = np.random.default_rng(1)
    time = np.linspace(0.0, 7.5, n_time)
    geometry = Geometry(np.array([3.75]), 9.0, 88.0, 3.0)
    depth = {"FGS1": 0.0101, "AIRS-CH0": 0.0099}
    limb_darkening = {"FGS1": [0.4, 0.2], "AIRS-CH0": [0.2, 0.1]}
    baseline = 1.0 + drift * (time - 3.75) / 7.5
    fgs1, airs = (
        TransitCurve(time, 3.75, geometry).flux(depth[ins], *limb_darkening[ins]) * baseline
        for ins in ("FGS1", "AIRS-CH0")
    )
    flux = np.empty((1, n_time, 283))
    flux[0, :, 0] = 1e6 * fgs1 * (1 + noise * rng.standard_normal(n_time))
    per_channel = noise * np.sqrt(282) * rng.standard_normal((n_time, 282))
    flux[0, :, 1:] = 1e4 * airs[:, None] * (1 + per_channel)
    regressor = (("visit", "time"), rng.standard_normal((1, n_time)))
    lightcurves = xr.Dataset(
        {
            "flux": (("visit", "time", "channel"), flux),
            "variance": (("visit", "time", "channel"), (noise * flux) ** 2),
            "fgs1_time": (("visit", "time"), time[None]),
            "airs_time": (("visit", "time"), time[None]),
            "fgs1_centroid_x": regressor,
            "fgs1_centroid_y": regressor,
            "airs_trace_row": regressor,
        },
        coords={"wavelength": ("channel", WAVELENGTH)},
    )
    fit = xr.Dataset(
        attrs={
            "t0_h": json.dumps([3.75]),
            "sma": 9.0,
            "inclination": 88.0,
            "white_depth": json.dumps(depth),
            "limb_darkening_white": json.dumps(limb_darkening),
            "options": json.dumps(FitOptions().as_dict()),
        }
    )
    noiseless = {"FGS1": fgs1 / np.median(fgs1), "AIRS-CH0": airs / np.median(airs)}
    return lightcurves, fit, noiseless


def test_light_curve_fit_models_the_systematics_so_residuals_are_the_noise():
    """The drift is 20 times the noise: residuals at the noise level mean the drawn model is
    transit x baseline, not the bare transit."""
    lightcurves, fit, noiseless = lightcurve_files()
    fig = figures.light_curve_fit(lightcurves, fit, star_period_days=3.0)
    (fgs1_top, airs_top), (fgs1_residual, airs_residual) = np.reshape(fig.axes, (2, 2))
    for ax in (fgs1_residual, airs_residual):
        residual_ppm = ax.get_lines()[0].get_ydata()
        assert np.std(residual_ppm) < 130  # noise 100 ppm
    for ax, instrument in ((fgs1_top, "FGS1"), (airs_top, "AIRS-CH0")):
        model = lines_by_label(ax)["fit: transit x systematics"].get_ydata()
        expected = noiseless[instrument]  # up to the scale of the noisy median
        np.testing.assert_allclose(model / model.mean(), expected / expected.mean(), atol=5e-5)
    assert fgs1_residual.get_xlabel() == "time (h)" and fgs1_top.get_ylabel() == "flux / median"


def test_sigma_calibration_comparison_bars_are_each_methods_score_and_coverage(calibrated):
    truth, mu, sigma = calibrated
    methods = {"uncalibrated": sigma / 3, "temperature": sigma}
    reliability, bars = figures.sigma_calibration_comparison(truth, mu, methods, NAIVE).axes
    assert set(methods) <= set(lines_by_label(reliability))
    containers = {c.get_label(): c for c in bars.containers}
    for method, values in methods.items():
        heights = [patch.get_height() for patch in containers[method]]
        assert heights[0] == pytest.approx(competition_score(truth, mu, values, *NAIVE))
        table = error_summary_table(truth, mu, values, NAIVE)["all"]
        np.testing.assert_allclose(heights[1:], [table["coverage_68"], table["coverage_95"]])
    assert [p.get_height() for p in containers["temperature"]][1] == pytest.approx(0.68, abs=0.01)


def test_training_curves_mark_the_best_epoch():
    history = [
        {"epoch": e, "train_loss": -0.5 - 0.01 * e, "validation_score": s}
        for e, s in zip((1, 2, 3), (0.60, 0.63, 0.61), strict=True)
    ]
    loss, score = figures.training_curves(history).axes
    best = [line for line in score.get_lines() if line.get_label().startswith("best")][0]
    assert (best.get_xdata(), best.get_ydata()) == (2, 0.63)
    loss, score = figures.training_curves(history, best_epoch=0, best_validation_score=0.65).axes
    best = [line for line in score.get_lines() if line.get_label().startswith("best")][0]
    assert (best.get_xdata(), best.get_ydata()) == (0, 0.65)
    np.testing.assert_allclose(loss.get_lines()[0].get_ydata(), [-0.51, -0.52, -0.53])


def test_save_figure_writes_png_and_svg_atomically(tmp_path):
    paths = figures.save_figure(figures.reliability_diagram(*gaussian_predictions(3)),
                                tmp_path / "out" / "reliability")  # fmt: skip
    assert paths == [tmp_path / "out" / "reliability.png", tmp_path / "out" / "reliability.svg"]
    assert paths[0].read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "<svg" in paths[1].read_text()[:1000]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [p.name for p in paths]


@pytest.fixture(scope="module")
def calibrated_visit(small_root, tmp_path_factory):
    """A train planet's visit 0 calibrated and written as the workflow writes it: the planet
    id and the FGS1 and AIRS-CH0 netCDF paths."""
    planet_id = discover_planets(small_root, "train")[0]
    folder = tmp_path_factory.mktemp("calibrated")
    paths = [folder / f"{instrument}_0.nc" for instrument in INSTRUMENTS]
    for instrument, path in zip(INSTRUMENTS, paths, strict=True):
        write_netcdf(calibrate_visit(small_root, "train", planet_id, instrument, 0), path)
    return planet_id, paths


def test_raw_frames_image_one_stored_frame_and_sum_every_frame_read(small_root, calibrated_visit):
    planet_id, _ = calibrated_visit
    axis = read_axis_info(small_root)
    fig = frame_figures.raw_frames(frame_figures.read_raw_visit(small_root, "train", planet_id))
    images, white_lights = np.reshape(fig.axes[:4], (2, 2))
    for image_ax, white_ax, instrument in zip(images, white_lights, INSTRUMENTS, strict=True):
        stored = read_signal(signal_path(small_root, "train", planet_id, instrument, 0), instrument)
        image = image_ax.get_images()[0].get_array()
        assert image.shape == (32, {"FGS1": 32, "AIRS-CH0": 356}[instrument])
        np.testing.assert_array_equal(image, stored[1])
        short, long = white_ax.get_lines()  # even and odd frames: one point per frame read
        assert len(short.get_xdata()) + len(long.get_xdata()) == axis.n_frames(instrument)
        sums = stored.reshape(len(stored), -1).sum(axis=1)
        np.testing.assert_array_equal(long.get_ydata(), sums[1::2])
        np.testing.assert_array_equal(short.get_xdata(), axis.time_h(instrument)[0::2])
        assert image_ax.get_images()[0].colorbar.ax.get_ylabel() == "ADU (log scale)"
    few = frame_figures.read_raw_visit(small_root, "train", planet_id, max_frames=100)
    airs = np.reshape(frame_figures.raw_frames(few).axes[:4], (2, 2))[1, 1]
    assert sum(len(line.get_xdata()) for line in airs.get_lines()) == 100
    assert airs.get_title().endswith(f"first 100 of {axis.n_frames('AIRS-CH0')} frames")


def test_calibrated_frames_image_the_time_mean_mark_masks_and_sum_each_bin(calibrated_visit):
    _, paths = calibrated_visit
    with xr.open_dataset(paths[0]) as fgs1, xr.open_dataset(paths[1]) as airs:
        fig = frame_figures.calibrated_frames(fgs1, airs)
        images, white_lights = np.reshape(fig.axes[:4], (2, 2))
        for image_ax, white_ax, data in zip(images, white_lights, (fgs1, airs), strict=True):
            image = image_ax.get_images()[0].get_array()
            assert image.shape == (32, 32 if data.attrs["instrument"] == "FGS1" else 282)
            np.testing.assert_allclose(image, data["flux"].mean("time"), rtol=1e-6)
            (line,) = white_ax.get_lines()  # one point per time bin
            assert len(line.get_xdata()) == data.sizes["time"]
            np.testing.assert_allclose(line.get_ydata(), data["flux"].sum(("row", "column")))
            dead = next(c for c in image_ax.collections if c.get_label().startswith("dead"))
            n_dead = int((data["mask"].to_numpy() & 1).any(axis=0).sum())
            assert len(dead.get_offsets()) == n_dead and f"({n_dead} px)" in dead.get_label()
        assert image_ax.get_xlabel() == "wavelength (um)"
        assert white_ax.get_ylabel() == "sum of all pixels (e- per bin)"
        with pytest.raises(ValueError, match="FGS1 then"):
            frame_figures.calibrated_frames(airs, fgs1)
