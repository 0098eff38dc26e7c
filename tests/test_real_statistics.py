"""Simulated raw data reproduces every real-data figure of FORMAT.md within 25 %."""

from __future__ import annotations

import pytest

from spectramind.simulate import SimulationConfig, simulate_dataset
from spectramind.simulate.validation import measure_root, real_statistics

CONFIG = SimulationConfig(seed=2025, n_train=8, n_test=0, cadence=10, second_visit_fraction=0)
TOLERANCE = 0.25


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> dict[str, float]:
    """Median over planets of every statistic measured on a fresh simulated root."""
    base = tmp_path_factory.mktemp("stats")
    simulate_dataset(CONFIG, base / "raw", base / "truth")
    return measure_root(base / "raw", "train", CONFIG.cadence)


@pytest.mark.parametrize("name", sorted(real_statistics()))
def test_statistic_matches_real_data(measured, name):
    real = real_statistics()[name]
    assert measured[name] == pytest.approx(real, rel=TOLERANCE), (
        f"{name}: simulated {measured[name]:.4g}, real {real:.4g}"
    )
