"""Shared fixtures: one small simulated raw root per test session."""

# ruff: noqa: E402 (BLAS threads are set before numpy is imported)

from __future__ import annotations

import os

# One BLAS thread, as the workflow's jobs use (rules/common.smk): threaded BLAS on small
# matrices is many times slower on a busy machine. Set before anything imports numpy.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

from pathlib import Path

import pytest
from workflow_runs import SMALL_CONFIG, snakemake

from spectramind.simulate import SimulationConfig, simulate_dataset

# Small but complete: both splits, planets with one and with two visits.
SMALL = SimulationConfig(seed=4, n_train=3, n_test=2, cadence=50, second_visit_fraction=0.5)


@pytest.fixture(scope="session")
def small_config() -> SimulationConfig:
    return SMALL


@pytest.fixture(scope="session")
def small_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulated raw root (Kaggle layout) with its truth folder beside it."""
    base = tmp_path_factory.mktemp("sim")
    simulate_dataset(SMALL, base / "raw", base / "truth")
    return base / "raw"


@pytest.fixture(scope="session")
def small_truth(small_root: Path) -> Path:
    return small_root.parent / "truth"


@pytest.fixture(scope="session")
def simulated_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The workflow run end to end on SMALL_CONFIG (simulated), shared by every test that
    reads a finished run's outputs."""
    workdir = tmp_path_factory.mktemp("workflow")
    (workdir / "small.yaml").write_text(SMALL_CONFIG)
    result = snakemake(workdir, "--cores", "2", "--configfile", str(workdir / "small.yaml"))
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir
