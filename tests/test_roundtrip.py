"""Simulate -> read: the data layer reads back exactly what the simulator wrote."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spectramind import io
from spectramind.simulate import draw_planet, planet_ids
from spectramind.simulate.config import STREAM_PHOTONS
from spectramind.simulate.planet import (
    INSTRUMENT_KEY,
    noise_floors,
    raw_frames,
    true_depths,
    visit_scene,
)
from spectramind.simulate.wavelengths import airs_column_wavelengths, target_wavelengths

# The competition root's top-level files (its data description).
KAGGLE_TOP_LEVEL = {
    "adc_info.csv",
    "axis_info.parquet",
    "wavelengths.csv",
    "train.csv",
    "train_star_info.csv",
    "test_star_info.csv",
    "sample_submission.csv",
}


def test_layout_has_every_top_level_file(small_root):
    assert set(io.layout.TOP_LEVEL_FILES) == KAGGLE_TOP_LEVEL
    written = {p.name for p in small_root.iterdir() if p.is_file()}
    assert written == KAGGLE_TOP_LEVEL
    assert {p.name for p in small_root.iterdir() if p.is_dir()} == set(io.SPLITS)


def test_planet_discovery_matches_the_simulated_ids(small_root, small_config):
    expected = planet_ids(small_config)
    for split in io.SPLITS:
        assert io.discover_planets(small_root, split) == expected[split]


def test_both_single_and_double_visits_are_present(small_root):
    visits = {
        len(io.discover_visits(small_root, split, pid))
        for split in io.SPLITS
        for pid in io.discover_planets(small_root, split)
    }
    assert visits == {1, 2}


@pytest.mark.parametrize("split", ["train", "test"])
def test_signals_read_back_bit_exact(small_root, small_config, split):
    """Every visit of every planet of the split, both instruments, equals a fresh simulation."""
    axis = io.read_axis_info(small_root)
    for planet_id in io.discover_planets(small_root, split):
        planet = draw_planet(small_config, planet_id, split)
        for visit in io.discover_visits(small_root, split, planet_id):
            for instrument in io.INSTRUMENTS:
                path = io.signal_path(small_root, split, planet_id, instrument, visit)
                frames = io.read_signal(path, instrument, axis.n_frames(instrument))
                rows, cols = io.frame_shape(instrument)
                assert frames.shape == (axis.n_frames(instrument), rows, cols)
                assert frames.dtype == np.uint16
                rng = small_config.rng(STREAM_PHOTONS, planet_id, INSTRUMENT_KEY[instrument], visit)
                scene = visit_scene(small_config, planet, visit, instrument)
                expected = np.concatenate(list(raw_frames(scene, rng)))
                np.testing.assert_array_equal(frames, expected)
                streamed = np.concatenate(
                    [chunk for _, chunk in io.iter_signal_chunks(path, instrument, chunk_frames=6)]
                )
                np.testing.assert_array_equal(streamed, frames)


def test_calibration_frames_read_back(small_root, small_config):
    planet_id = io.discover_planets(small_root, "train")[0]
    planet = draw_planet(small_config, planet_id, "train")
    for instrument in io.INSTRUMENTS:
        folder = io.calibration_dir(small_root, "train", planet_id, instrument, 0)
        calib = io.read_calibration(folder, instrument)
        detector = visit_scene(small_config, planet, 0, instrument).detector
        rows, cols = io.frame_shape(instrument)
        assert calib.dead.dtype == bool and calib.dead.shape == (rows, cols)
        assert calib.linear_corr.shape == (6, rows, cols)
        np.testing.assert_array_equal(calib.dark, detector.dark)
        np.testing.assert_array_equal(calib.dead, detector.dead)
        np.testing.assert_array_equal(calib.flat, detector.flat)
        np.testing.assert_array_equal(calib.read, detector.read)
        np.testing.assert_array_equal(calib.linear_corr, detector.linear_corr)


def test_axis_info_follows_the_real_timing(small_root, small_config):
    axis = io.read_axis_info(small_root)
    # Real data: 135000 FGS1 and 11250 AIRS frames per full visit, one pair each 0.4 / 4.8 s.
    for instrument, period, full_pairs in (("FGS1", 0.4, 67500), ("AIRS-CH0", 4.8, 5625)):
        n_pairs = full_pairs // small_config.cadence
        assert axis.n_frames(instrument) == 2 * n_pairs
        seconds = axis.time_h(instrument) * 3600
        np.testing.assert_allclose(seconds[:2], [0.1, 0.2])
        np.testing.assert_allclose(np.diff(seconds[0::2]), period * small_config.cadence)
    np.testing.assert_array_equal(axis.airs_wavelength_um, airs_column_wavelengths())
    np.testing.assert_array_equal(np.unique(axis.airs_integration_s), [0.1, 4.5])


def test_tables_read_back(small_root, small_truth):
    np.testing.assert_array_equal(io.read_wavelengths(small_root), target_wavelengths())
    adc = io.read_adc_info(small_root)
    for instrument in io.INSTRUMENTS:  # real data: the same for every planet
        assert adc[instrument].gain == pytest.approx(0.4369)
        assert adc[instrument].offset == -1000.0
    sample = io.read_sample_submission(small_root)
    assert list(sample.columns) == io.target_columns() + io.sigma_columns()
    assert list(sample.index) == io.discover_planets(small_root, "test")


def test_truth_tables_hold_each_planets_own_values(small_root, small_truth, small_config):
    """Labels, star_info rows and noise floors read back as each planet's simulated truth,
    row for row: a shifted row, column or split would put one planet's truth on another."""
    labels = {
        "train": io.read_train_labels(small_root),
        "test": io.read_labels(small_truth / "test_labels.csv"),
    }
    floors = pd.read_csv(small_truth / "noise_floor.csv").set_index("planet_id")
    assert sorted(floors.index) == sorted(sum(planet_ids(small_config).values(), []))
    for split in io.SPLITS:
        stars = io.read_star_info(small_root, split)
        ids = io.discover_planets(small_root, split)
        assert list(labels[split].index) == ids and list(stars.index) == ids
        for planet_id in ids:
            planet = draw_planet(small_config, planet_id, split)
            depths = labels[split].loc[planet_id].to_numpy()
            np.testing.assert_allclose(depths, true_depths(planet), rtol=1e-9)
            assert 0.005 < depths.min() and depths.max() < 0.047  # the real train range
            row = stars.loc[planet_id]
            for key, value in planet.star_info_row().items():
                assert row[key] == pytest.approx(value, rel=1e-9), (planet_id, key)
            np.testing.assert_allclose(
                floors.loc[planet_id].to_numpy(),
                noise_floors(small_config, planet).depth_only,
                rtol=1e-9,
            )


def test_test_star_info_ids_are_floats_and_still_read(small_root):
    text = (small_root / "test_star_info.csv").read_text().splitlines()[1]
    assert text.split(",")[0].endswith(".0")
    stars = io.read_star_info(small_root, "test")
    assert stars.index.dtype == np.int64
    assert list(stars.index) == io.discover_planets(small_root, "test")
    assert (stars["e"] == 0).all()


def _snapshot(root):
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


def test_reading_leaves_the_root_untouched(small_root):
    """Kaggle inputs are read-only: reading must create or modify nothing under the root."""
    before = _snapshot(small_root)
    axis = io.read_axis_info(small_root)
    for split in io.SPLITS:
        io.read_star_info(small_root, split)
        for planet_id in io.discover_planets(small_root, split):
            for visit in io.discover_visits(small_root, split, planet_id):
                for instrument in io.INSTRUMENTS:
                    path = io.signal_path(small_root, split, planet_id, instrument, visit)
                    io.read_signal(path, instrument, axis.n_frames(instrument))
                    folder = io.calibration_dir(small_root, split, planet_id, instrument, visit)
                    io.read_calibration(folder, instrument)
    assert _snapshot(small_root) == before
