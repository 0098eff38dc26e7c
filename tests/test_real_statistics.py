"""Simulated raw data reproduces every real-data figure (simulate/constants.py) within 25 %.

The figures are measured on the files the simulator wrote, read back with spectramind.io;
calibration statistics pool the pixels of all planets (a real FGS1 frame has ~3 dead pixels).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spectramind.io import calibration_dir, discover_planets, read_calibration
from spectramind.io.layout import INSTRUMENTS
from spectramind.simulate import SimulationConfig, simulate_dataset
from spectramind.simulate.validation import measure_root, real_statistics

# Simulating these eight planets took 82 s on a busy 2-core machine (load 4): slow.
pytestmark = pytest.mark.slow

CONFIG = SimulationConfig(seed=2025, n_train=8, n_test=0, cadence=10, second_visit_fraction=0)
TOLERANCE = 0.25


@pytest.fixture(scope="module")
def raw_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh simulated raw root."""
    base = tmp_path_factory.mktemp("stats")
    simulate_dataset(CONFIG, base / "raw", base / "truth")
    return base / "raw"


@pytest.fixture(scope="module")
def measured(raw_root: Path) -> dict[str, float]:
    """Every statistic measured on the simulated root."""
    return measure_root(raw_root, "train", CONFIG.cadence)


@pytest.mark.parametrize("name", sorted(real_statistics()))
def test_statistic_matches_real_data(measured, name):
    real = real_statistics()[name]
    assert measured[name] == pytest.approx(real, rel=TOLERANCE), (
        f"{name}: simulated {measured[name]:.4g}, real {real:.4g}"
    )


@pytest.mark.parametrize("instrument", INSTRUMENTS)
def test_low_flat_only_on_dead_pixels(raw_root, instrument):
    """As in the real frames, a flat below 0.5 occurs only on dead pixels."""
    for planet_id in discover_planets(raw_root, "train"):
        folder = calibration_dir(raw_root, "train", planet_id, instrument, 0)
        calib = read_calibration(folder, instrument)
        assert not np.any(calib.flat[~calib.dead] < 0.5), planet_id
