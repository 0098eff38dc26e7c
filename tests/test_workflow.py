"""Real Snakemake runs of the workflow on small simulated data (the CI end-to-end job)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
SMALL_CONFIG = """\
check_raw: true
simulation:
  n_train: 2
  n_test: 2
  cadence: 50
  second_visit_fraction: 0.5
"""


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    command = [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir)]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=900, check=False
    )


@pytest.fixture(scope="module")
def simulated_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("workflow")
    (workdir / "small.yaml").write_text(SMALL_CONFIG)
    result = snakemake(workdir, "--cores", "2", "--configfile", str(workdir / "small.yaml"))
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir


def test_run_simulates_calibrates_extracts_and_inventories(simulated_run):
    lightcurves = sorted((simulated_run / "results/lightcurves").glob("*/*.nc"))
    assert len(lightcurves) == 4
    calibrated = list((simulated_run / "results/calibrated").rglob("*.nc"))
    assert len(calibrated) >= 2 * 4  # two instruments per visit
    inventory = pd.read_csv(simulated_run / "results/inventory/inventory.csv")
    assert set(inventory["split"]) == {"train", "test"}
    assert set(inventory["instrument"]) == {"FGS1", "AIRS-CH0"}
    assert inventory.groupby("planet_id")["visit"].nunique().max() >= 1
    assert (inventory.loc[inventory.instrument == "FGS1", "frames"] == 2 * 67500 // 50).all()
    noise = pd.read_csv(simulated_run / "results/truth/noise_floor.csv")
    assert len(noise) == 4


def test_run_ends_with_a_valid_submission_and_a_score(simulated_run):
    from spectramind.submission import validate_submission

    submission = simulated_run / "results/submission/submission.csv"
    test_ids = [int(p.stem) for p in (simulated_run / "results/raw/test").iterdir()]
    frame = validate_submission(submission, test_ids=test_ids)
    assert len(frame) == 2 and (simulated_run / "results/submission/submission.zip").is_file()
    score = json.loads((simulated_run / "results/diagnostics/score.json").read_text())
    for method in ("physics_fit", "naive", "public_baseline"):
        assert 0.0 <= score[method]["score"] <= 1.0
        assert score[method]["rmse"] > 0
    assert score["naive"]["score"] == 0.0


def test_every_rule_run_wrote_a_manifest_and_a_log(simulated_run):
    manifests = list((simulated_run / "results/manifests").rglob("*.json"))
    rules = {json.loads(p.read_text())["rule"] for p in manifests}
    assert rules == {
        "simulate_top_level",
        "simulate_planet",
        "simulate_noise_floor",
        "check_raw",
        "inventory",
        "calibrate",
        "extract",
        "fit",
        "submission",
        "score",
    }
    planet_manifest = next((simulated_run / "results/manifests/simulate_planet").rglob("*.json"))
    record = json.loads(planet_manifest.read_text())
    assert any(name.endswith(".parquet") for name in record["outputs"])
    assert len(record["config_sha256"]) == 64
    logs = list((simulated_run / "results/logs").rglob("*.log"))
    assert len(logs) == len(manifests)
    assert all("finished" in p.read_text() for p in logs)


def test_rerun_has_nothing_to_do(simulated_run):
    result = snakemake(
        simulated_run, "-n", "--configfile", str(simulated_run / "small.yaml"), "--cores", "1"
    )
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr


def test_report_builds(simulated_run):
    report = simulated_run / "report.html"
    result = snakemake(
        simulated_run, "--configfile", str(simulated_run / "small.yaml"), "--report", str(report)
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert report.stat().st_size > 10_000


def test_a_given_raw_root_is_used_instead_of_simulating(simulated_run, tmp_path):
    raw = simulated_run / "results/raw"
    result = snakemake(tmp_path, "--cores", "2", "--config", f"raw_dir={raw}", "check_raw=True")
    assert result.returncode == 0, result.stderr[-3000:]
    assert not (tmp_path / "results/raw").exists()
    assert len(list((tmp_path / "results/lightcurves").glob("*/*.nc"))) == 4
    ours = pd.read_csv(tmp_path / "results/inventory/inventory.csv")
    theirs = pd.read_csv(simulated_run / "results/inventory/inventory.csv")
    pd.testing.assert_frame_equal(ours, theirs)


def test_a_broken_raw_root_fails_naming_the_file(simulated_run, tmp_path):
    import shutil

    raw = tmp_path / "raw"
    shutil.copytree(simulated_run / "results/raw", raw)
    planet = next((raw / "test").iterdir())
    (planet / "FGS1_signal_0.parquet").write_bytes(b"PAR1 not really")
    work = tmp_path / "work"
    result = snakemake(work, "--cores", "1", "--keep-going", "--config", f"raw_dir={raw}")
    assert result.returncode != 0
    log = (work / f"results/logs/calibrate/test/{planet.name}/FGS1_0.log").read_text()
    assert f"{planet}/FGS1_signal_0.parquet" in log and "truncated or corrupt" in log
    assert not (work / f"results/calibrated/test/{planet.name}/FGS1_0.nc").exists()
    assert not (work / f"results/lightcurves/test/{planet.name}.nc").exists()
    # The other planets are unaffected.
    assert len(list((work / "results/lightcurves").glob("*/*.nc"))) == 3


def test_bad_config_is_refused_before_anything_runs(tmp_path):
    result = snakemake(tmp_path, "-n", "--config", "seed=-3")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "seed" in output and "minimum" in output
