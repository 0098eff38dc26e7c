"""Batched per-planet jobs (config planets_per_job): the same files, in fewer processes, and
finished batches kept whatever planets_per_job says later."""

from __future__ import annotations

import json

import pytest
import xarray as xr
from workflow_runs import snakemake


@pytest.mark.slow  # a second workflow run (inference) beside the session's
def test_batched_jobs_write_what_per_planet_jobs_write(simulated_run, tmp_path):
    """Inference with two planets per job: every light curve and fit equals the per-planet
    run's (values; the attributes name other raw paths), each planet keeps its own
    manifest (naming the stage and the batch's planets), and one job did each stage's
    batch. Afterwards no planets_per_job re-plans any of it."""
    work = tmp_path / "work"
    result = snakemake(
        work, "inference", "--cores", "2", "--config",
        f"raw_dir={simulated_run / 'results/raw'}", "predictor=physics",
        "sigma_calibration={method: none}", "planets_per_job=2",
        f"artifacts_dir={simulated_run / 'results/artifacts'}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    fits = sorted((simulated_run / "results/fit/test").glob("*.nc"))
    assert len(fits) == 2
    for stage in ("lightcurves", "fit"):
        for name in (fit.name for fit in fits):  # each test planet's file of the stage
            with (
                xr.open_dataset(simulated_run / f"results/{stage}/test/{name}") as expected,
                xr.open_dataset(work / f"results/{stage}/test/{name}") as batched,
            ):
                xr.testing.assert_equal(batched, expected)
        manifest = json.loads(
            (work / f"results/manifests/{'extract' if stage == 'lightcurves' else stage}"
             f"/test/{fits[0].stem}.json").read_text()
        )  # fmt: skip
        assert manifest["rule"] == ("extract" if stage == "lightcurves" else stage)
        assert manifest["batch"] == sorted(int(fit.stem) for fit in fits)
        assert list(manifest["outputs"]) == [f"results/{stage}/test/{fits[0].name}"]
    for stage in ("calibrate", "extract", "fit"):
        logs = sorted(p.name for p in (work / f"results/logs/{stage}/test").rglob("*.log"))
        assert logs == [f"batch_{min(int(fit.stem) for fit in fits)}.log"], (stage, logs)
    for per_job in (1, 2, 3):
        dry = snakemake(
            work, "inference", "-n", "--cores", "2", "--config",
            f"raw_dir={simulated_run / 'results/raw'}", "predictor=physics",
            "sigma_calibration={method: none}", f"planets_per_job={per_job}",
            f"artifacts_dir={simulated_run / 'results/artifacts'}",
        )  # fmt: skip
        assert dry.returncode == 0, dry.stderr[-3000:]
        assert "Nothing to be done" in dry.stdout + dry.stderr, (per_job, dry.stdout[-3000:])


def test_batches_refuse_the_raw_check(tmp_path):
    """check_raw decides per planet after parsing; a batch is fixed before: say so."""
    result = snakemake(tmp_path, "-n", "--config", "planets_per_job=3", "check_raw=True")
    assert result.returncode != 0
    assert "planets_per_job > 1 needs check_raw: false" in result.stdout + result.stderr
