"""A planet whose processing raises fails alone (guards.failed_planet_fallback): calibrate
and extract write failure records in place of its outputs (spectramind.core.failure), the
job and its other planets go on, the fit gives it the fallback with guard state failed, and
what learns from the train planets skips it. A batched workflow run with one corrupt planet
checks the whole chain; the job glue (run_units) and the readers are checked directly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from workflow_runs import snakemake

from spectramind import io
from spectramind.core.atomic import OutputError
from spectramind.core.failure import (
    FailureRecord,
    UpstreamFailure,
    read_failure,
    write_failure,
)
from spectramind.core.netcdf import write_netcdf
from spectramind.core.units import run_units
from spectramind.evaluation.baselines import white_light_depths
from spectramind.fit import FitOptions
from spectramind.fit.fallback import fit_or_fallback
from spectramind.fit.priors import limb_darkening_samples, white_light_pulls
from spectramind.guards import GuardOptions, GuardRecord
from spectramind.workflow import EXTRACT, PlanetUnit

CONFIG = {"extraction": {}, "guards": {"failed_planet_fallback": True}}
NAIVE = {"mean": 0.01, "sigma": 0.002}
CALIBRATE_FAILURE = FailureRecord(
    "calibrate",
    {"split": "test", "planet_id": 2, "instrument": "AIRS-CH0", "visit": 0},
    "RawDataError: AIRS-CH0_signal_0.parquet: not a readable parquet file",
    "Traceback (most recent call last): ...",
)


def _job(planets: list[int], log: Path) -> SimpleNamespace:
    """The ``snakemake`` object of an extract job over ``planets`` (a batch, or one)."""
    units = [PlanetUnit("test", planet) for planet in planets]
    outputs = {name: [EXTRACT.paths(unit)[name] for unit in units] for name in EXTRACT.outputs}
    if len(planets) == 1:
        outputs = {name: paths[0] for name, paths in outputs.items()}
    return SimpleNamespace(output=outputs, log=[str(log)], config=CONFIG, rule="extract")


def _work(raises: dict[int, Exception]):
    """Extract's work: a tiny light-curve file, or the planet's exception."""

    def work(unit: PlanetUnit, paths: dict[str, str]) -> None:
        if unit.planet_id in raises:
            raise raises[unit.planet_id]
        write_netcdf(xr.Dataset({"flux": ("time", np.ones(3))}), paths["lightcurves"])

    return work


def _manifest(planet: int) -> dict:
    return json.loads(Path(EXTRACT.paths(PlanetUnit("test", planet))["manifest"]).read_text())


def test_a_planet_that_raises_fails_alone_in_its_batch(tmp_path, monkeypatch, capsys):
    """Planet 2 of three raises: its light curves are a failure record naming the stage,
    the planet and the error, its manifest says so, the log holds the traceback, stderr the
    reason; planets 1 and 3 are written as ever. A job of planet 2 alone writes the same."""
    monkeypatch.chdir(tmp_path)
    run_units(_job([1, 2, 3], tmp_path / "batch.log"), EXTRACT,
              _work({2: ValueError("no trace in the frame")}), contain=True)  # fmt: skip
    paths = {
        planet: EXTRACT.paths(PlanetUnit("test", planet))["lightcurves"] for planet in (1, 2, 3)
    }
    assert read_failure(paths[1]) is None and read_failure(paths[3]) is None
    with xr.open_dataset(paths[3]) as lightcurves:
        assert "flux" in lightcurves
    record = read_failure(paths[2])
    assert (record.stage, record.planet_id) == ("extract", 2)
    assert record.error == "ValueError: no trace in the frame"
    assert "Traceback" in record.traceback
    assert record.reason == "extract failed on planet 2: ValueError: no trace in the frame"
    with xr.open_dataset(paths[2]) as failed:
        assert not failed.data_vars  # not data: nothing reads it as light curves
    assert _manifest(2)["failure"]["error"] == record.error
    assert "failure" not in _manifest(1) and _manifest(1)["batch"] == [1, 2, 3]
    log = (tmp_path / "batch.log").read_text()
    assert "extract failed on planet 2: ValueError: no trace in the frame" in log
    assert "Traceback (most recent call last)" in log
    assert record.reason in capsys.readouterr().err

    alone = tmp_path / "alone"
    alone.mkdir()
    monkeypatch.chdir(alone)
    run_units(_job([2], alone / "2.log"), EXTRACT,
              _work({2: ValueError("no trace in the frame")}), contain=True)  # fmt: skip
    single = read_failure(paths[2])
    assert (single.stage, single.unit, single.error) == (record.stage, record.unit, record.error)


def test_without_the_guard_the_job_fails(tmp_path, monkeypatch):
    """guards.failed_planet_fallback off: the error fails the job, no record is written."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="no trace"):
        run_units(_job([1, 2], tmp_path / "log"), EXTRACT,
                  _work({2: ValueError("no trace")}), contain=False)  # fmt: skip
    assert not Path(EXTRACT.paths(PlanetUnit("test", 2))["lightcurves"]).exists()


@pytest.mark.parametrize("error", [OutputError("out.nc", 28, "No space left"), MemoryError()])
def test_a_failed_write_or_memory_still_fails_the_job(tmp_path, monkeypatch, error):
    """Not the planet's fault: a full disk fails every planet, and a job out of memory is
    retried by Snakemake with more."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(type(error)):
        run_units(_job([1, 2], tmp_path / "log"), EXTRACT, _work({1: error}), contain=True)


def test_an_upstream_failure_is_passed_on_unchanged(tmp_path, monkeypatch):
    """Extract of a planet whose calibrated visit is a failure record: its light curves are
    that record, still naming calibrate and its error."""
    monkeypatch.chdir(tmp_path)
    run_units(_job([2], tmp_path / "log"), EXTRACT,
              _work({2: UpstreamFailure(CALIBRATE_FAILURE)}), contain=True)  # fmt: skip
    record = read_failure(EXTRACT.paths(PlanetUnit("test", 2))["lightcurves"])
    assert record == CALIBRATE_FAILURE
    assert _manifest(2)["failure"]["stage"] == "calibrate"


def test_the_fit_gives_a_planet_that_failed_upstream_the_fallback():
    """State failed, the fallback's predictor and values, the reason naming the stage, the
    visit and the error; with the guard off the failure propagates."""

    def fit() -> xr.Dataset:
        raise UpstreamFailure(CALIBRATE_FAILURE)

    wavelength = np.linspace(0.7, 7.8, 283)
    result = fit_or_fallback(fit, wavelength, None, None, NAIVE, FitOptions(), GuardOptions())
    record = GuardRecord.from_attrs(dict(result.attrs))
    assert (record.state, record.predictor) == ("failed", "naive")
    assert record.reason == (
        "calibrate failed on planet 2 AIRS-CH0 visit 0: RawDataError: "
        "AIRS-CH0_signal_0.parquet: not a readable parquet file"
    )
    assert np.allclose(result["depth"].values, NAIVE["mean"])
    off = GuardOptions(failed_planet_fallback=False)
    with pytest.raises(UpstreamFailure):
        fit_or_fallback(fit, wavelength, None, None, NAIVE, FitOptions(), off)


def test_a_training_planet_that_failed_upstream_teaches_nothing(tmp_path):
    """No limb-darkening samples, a NaN white-light pull (the error scale skips it), no
    white-light depth (the public baseline and the score's baseline skip it)."""
    path = tmp_path / "2.nc"
    write_failure(CALIBRATE_FAILURE, path)
    star = {"sma": 10.0, "i": 89.0, "P": 3.0, "Ts": 5500.0}
    with xr.open_dataset(path) as lightcurves:
        assert limb_darkening_samples(lightcurves, star, np.zeros(283), FitOptions()).empty
        assert np.isnan(
            white_light_pulls(lightcurves, star, np.zeros(283), None, FitOptions())
        ).all()
    assert white_light_depths([path]) == {}


# --- the workflow ---------------------------------------------------------------------------

# Test planets only: the fit's learned priors off, so no train planet is calibrated; the
# fallbacks (naive reference, prior predictive) are learned from the train tables alone.
FAILING_RUN = """\
predictor: physics
planets_per_job: 2
sigma_calibration: {method: none}
fit:
  limb_darkening_prior: false
  white_light_error_scale: false
  spectral_prior: false
"""


def test_a_corrupt_planet_fails_alone_in_a_batched_workflow(small_root, tmp_path):
    """Both test planets in one batch per stage; one's AIRS signal is truncated, which
    calibrate finds while reading it (nothing checks it before: batches run without
    check_raw). The workflow completes; the other planet's fit is normal; the corrupt
    planet's light curves are calibrate's failure record, its fit the fallback with state
    failed and a reason naming calibrate, the file and the error; the guard table and the
    submission carry it like any fallback planet; the calibrate job's log holds its planet
    id and traceback."""
    root = tmp_path / "raw"
    shutil.copytree(small_root, root)
    good, bad = io.discover_planets(root, "test")
    signal = io.signal_path(root, "test", bad, "AIRS-CH0", 0)
    signal.write_bytes(signal.read_bytes()[: signal.stat().st_size // 2])
    work = tmp_path / "work"
    work.mkdir()
    (work / "failing.yaml").write_text(FAILING_RUN)
    result = snakemake(
        work, "--cores", "2", "--configfile", str(work / "failing.yaml"),
        "--config", f"raw_dir={root}", "--", "inference", "results/diagnostics/guards.csv",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    first = min(good, bad)
    for stage in ("calibrate", "extract", "fit"):  # one batch job per stage held both
        logs = sorted(p.name for p in (work / f"results/logs/{stage}/test").rglob("*.log"))
        assert logs == [f"batch_{first}.log"], (stage, logs)

    record = read_failure(work / f"results/lightcurves/test/{bad}.nc")
    assert (record.stage, record.planet_id) == ("calibrate", bad)
    assert record.error.startswith(f"RawDataError: {signal}: not a readable parquet file")
    log = (work / f"results/logs/calibrate/test/batch_{first}.log").read_text()
    assert f"calibrate failed on planet {bad} AIRS-CH0 visit 0: RawDataError" in log
    assert "Traceback (most recent call last)" in log
    assert f"calibrate failed on planet {bad}" in result.stderr

    guards = pd.read_csv(work / "results/diagnostics/guards.csv").set_index("planet_id")
    assert guards.loc[good, ["state", "predictor"]].tolist() == ["normal", "physics_fit"]
    assert guards.loc[bad, ["state", "predictor"]].tolist() == ["failed", "prior_predictive"]
    assert guards.loc[bad, "reason"] == record.reason
    with xr.open_dataset(work / f"results/fit/test/{good}.nc") as fit:
        assert np.isfinite(fit["depth"].values).all()
        assert np.isfinite(fit["chi2_reduced"].values[1:]).all()  # the fallback has NaN
    with xr.open_dataset(work / f"results/fit/test/{bad}.nc") as fit:
        fallback = fit["depth"].values, fit["sigma"].values
    submission = pd.read_csv(work / "results/submission/submission.csv").set_index("planet_id")
    row = submission.loc[bad].to_numpy()
    assert np.allclose(row[:283], fallback[0]) and np.allclose(row[283:], fallback[1])


def test_a_raw_table_every_planet_reads_still_fails_the_run(small_root, tmp_path):
    """adc_info.csv with two rows is the whole run's problem, not a planet's: calibrate
    reads it before any planet, so the job fails naming it and writes no failure record."""
    root = tmp_path / "raw"
    shutil.copytree(small_root, root)
    adc = root / "adc_info.csv"
    table = pd.read_csv(adc)
    pd.concat([table, table]).to_csv(adc, index=False)
    planet = io.discover_planets(root, "test")[0]
    work = tmp_path / "work"
    work.mkdir()
    (work / "failing.yaml").write_text(FAILING_RUN)
    result = snakemake(
        work, "--cores", "1", "--configfile", str(work / "failing.yaml"),
        "--config", f"raw_dir={root}", "--", f"results/calibrated/test/{planet}/FGS1_0.nc",
    )  # fmt: skip
    assert result.returncode != 0
    assert f"{adc}: expected one row, found 2" in result.stdout + result.stderr
    assert not list((work / "results").rglob("*.nc"))
