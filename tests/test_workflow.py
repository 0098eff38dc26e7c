"""Real Snakemake runs of the workflow on small simulated data (the CI end-to-end job).

The session's run (conftest.simulated_run) is make test's one real run: the tests reading it
or planning dry runs on it are in that fast loop; those making runs of their own are marked
slow (make test-all, as CI runs it)."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import xarray as xr
from workflow_runs import job_counts, parsed_rules, snakemake

from spectramind.core.failure import failure_of
from spectramind.diagnostics.dashboard import CATEGORIES
from spectramind.guards.prior_predictive import read_prior_predictive
from spectramind.io import read_star_info
from spectramind.workflow import PLANET_STAGES

# The physics fit on SMALL_CONFIG (seed 42) before sigma calibration, measured 2026-12-07
# with fit v2, the guards and the spectral prior's unmodelled-feature term (before them,
# 2026-11-28: score 0.5877, coverage 0.355 / 0.966), with margins: a broken stage moves
# these well outside them (every sigma doubled: score 0.581, halved: 0.382). At cadence 50
# the per-bin noise (~1000 ppm) dwarfs the spectral features (50-200 ppm), so the spectral
# prior's posterior lands far below the per-bin floor; the error is mostly each planet's
# level, so two test planets give coarse coverages. Four train planets make a poor naive
# reference.
PHYSICS_FIT_MEASURED = {
    "score": (0.5916, 0.003),
    "rmse_over_noise_floor": (0.129, 0.03),
    "rmse_over_marginalised_floor": (0.0936, 0.02),
    "coverage_68": (0.512, 0.05),
    "coverage_95": (0.975, 0.05),
}


# Runs on a given raw root submit from the physics fit: their few train planets are too few
# for the model, and they test the data path, not the model.
PHYSICS = "predictor: physics\nsigma_calibration: {method: none}\n"


def on_root(raw: Path) -> tuple[str, str, str]:
    """--config values for a run on the raw root ``raw`` (too few train planets to cross-fit
    the physics fit's validation predictions: no sigma calibration)."""
    return f"raw_dir={raw}", "predictor=physics", "sigma_calibration={method: none}"


def test_run_simulates_calibrates_extracts_and_inventories(simulated_run):
    lightcurves = sorted((simulated_run / "results/lightcurves").glob("*/*.nc"))
    assert len(lightcurves) == 6
    calibrated = list((simulated_run / "results/calibrated").rglob("*.nc"))
    inventory = pd.read_csv(simulated_run / "results/inventory/inventory.csv")
    assert set(inventory["split"]) == {"train", "test"}
    assert set(inventory["instrument"]) == {"FGS1", "AIRS-CH0"}
    # second_visit_fraction 0.5 drew planets with one and with two visits; each visit is a
    # row per instrument and a calibrated file per instrument
    visits = inventory.groupby("planet_id")["visit"].nunique()
    assert len(visits) == 6 and set(visits) == {1, 2}, visits
    assert len(inventory) == 2 * visits.sum() == len(calibrated)
    assert (inventory.loc[inventory.instrument == "FGS1", "frames"] == 2 * 67500 // 50).all()
    noise = pd.read_csv(simulated_run / "results/truth/noise_floor.csv")
    assert len(noise) == 6


def test_run_ends_with_a_valid_submission_and_a_score(simulated_run):
    from spectramind.submission import validate_submission

    submission = simulated_run / "results/submission/submission.csv"
    test_ids = [int(p.stem) for p in (simulated_run / "results/raw/test").iterdir()]
    frame = validate_submission(submission, test_ids=test_ids)
    assert len(frame) == 2 and (simulated_run / "results/submission/submission.zip").is_file()
    score = json.loads((simulated_run / "results/diagnostics/score.json").read_text())
    physics = score["physics_fit_uncalibrated"]
    for key, (measured, margin) in PHYSICS_FIT_MEASURED.items():
        assert abs(physics[key] - measured) <= margin, (key, physics[key], measured)
    # Sigma calibration (temperature per instrument, fitted on the 4 train planets'
    # cross-fitted predictions) changes sigma only, and brought the 68 % coverage towards
    # nominal here (0.512 -> 0.558)
    calibrated = score["physics_fit"]
    assert calibrated["rmse"] == pytest.approx(physics["rmse"], rel=1e-9)
    assert abs(calibrated["coverage_68"] - 0.68) < abs(physics["coverage_68"] - 0.68)
    assert calibrated["score"] >= physics["score"] - 0.005
    # The submission is what was scored: its rows are the physics fit's.
    assert score["planet_ids"] == frame["planet_id"].tolist()


def test_every_rule_run_wrote_a_manifest_and_a_log(simulated_run):
    manifests = list((simulated_run / "results/manifests").rglob("*.json"))
    rules = {json.loads(p.read_text())["rule"] for p in manifests}
    listed = snakemake(simulated_run, "--list-rules").stdout.split()
    # every rule but the two targets, the model's (which run with predictor: v50 or auto) and
    # calibrate_validation (a real root's diagnostics)
    model = {"train", "predict", "training_curves", "choose_predictor", "auto_predictions"}
    assert (
        rules == set(listed) - {"all", "inference", "calibrate_validation", "kaggle_bundle"} - model
    )
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


def report_data(html: str, name: str) -> dict:
    """A data object Snakemake's report.html embeds: ``var <name> = {...}`` in the script
    element of that id (results: path -> entry with the file as a data URI; categories:
    category -> subcategory -> paths)."""
    start = re.search(rf'<script id="{name}">\s*var {name} = ', html)
    assert start, f"no {name} in the report"
    return json.JSONDecoder().raw_decode(html, start.end())[0]


def test_report_builds(simulated_run):
    """The report embeds every figure of the run (the PNG files' own bytes), its submission
    and score, and files them under every category but the model's (predictor physics)."""
    report = simulated_run / "report.html"
    result = snakemake(
        simulated_run, "--configfile", str(simulated_run / "small.yaml"), "--report", str(report)
    )
    assert result.returncode == 0, result.stderr[-3000:]
    html = report.read_text()
    results, categories = report_data(html, "results"), report_data(html, "categories")
    figures = sorted((simulated_run / "results/diagnostics/figures").glob("*.png"))
    assert len(figures) == 11  # all but the model's training curves
    expected = {str(p.relative_to(simulated_run)) for p in figures}
    expected |= {"results/submission/submission.csv", "results/diagnostics/score.json"}
    assert expected <= set(results), sorted(expected - set(results))
    for path, entry in results.items():
        embedded = base64.b64decode(entry["data_uri"].split(";base64,", 1)[1])
        assert embedded == (simulated_run / path).read_bytes(), path
    assert set(categories) == set(CATEGORIES) - {"Model"}
    assert {p for sub in categories.values() for ps in sub.values() for p in ps} == set(results)


@pytest.fixture(scope="module")
def real_root_run(simulated_run, tmp_path_factory) -> Path:
    """The simulated raw root run again as a user's own root (raw_dir): every raw file is
    then a declared input rather than a simulator output."""
    workdir = tmp_path_factory.mktemp("real_root")
    raw = simulated_run / "results/raw"
    result = snakemake(workdir, "--cores", "2", "--config", *on_root(raw), "check_raw=True")
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir


@pytest.mark.slow
def test_a_given_raw_root_is_used_instead_of_simulating(simulated_run, real_root_run):
    assert not (real_root_run / "results/raw").exists()
    assert len(list((real_root_run / "results/lightcurves").glob("*/*.nc"))) == 6
    ours = pd.read_csv(real_root_run / "results/inventory/inventory.csv")
    theirs = pd.read_csv(simulated_run / "results/inventory/inventory.csv")
    pd.testing.assert_frame_equal(ours, theirs)


def planned_jobs(workdir: Path, *args: str) -> dict[str, int]:
    """Rule -> job count of what ``snakemake -n`` would run now."""
    result = snakemake(workdir, "-n", "--cores", "1", *args)
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(job_counts(result))


@contextmanager
def _edited(path: Path) -> Iterator[None]:
    """Change a file's bytes but not what it says, then put it back as it was. (Snakemake
    checksums small inputs, so a mere touch would not count as an edit.) A CSV gets a
    blank line at the end, a parquet file another compression."""
    before, content = path.stat(), path.read_bytes()
    try:
        if path.suffix == ".csv":
            path.write_text(path.read_text() + "\n")
        else:
            pq.write_table(pq.read_table(path), path, compression="gzip")
        yield
    finally:
        path.write_bytes(content)
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


@pytest.mark.slow
def test_diagnostics_of_a_real_root_use_the_validation_planets(real_root_run, simulated_run):
    """Without simulated truth, diagnose reads the predictor's validation planets (their
    truth is the train labels), calibrated in sample, and says so."""
    raw = simulated_run / "results/raw"
    target = "results/diagnostics/error_summary.json"
    result = snakemake(real_root_run, target, "--cores", "2", "--config", *on_root(raw))
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((real_root_run / target).read_text())
    assert summary["evaluated_on"].startswith("validation planets")
    assert summary["calibrated"]["n_planets"] == 4  # every train planet, cross-fitted
    assert summary["calibrated"]["all"]["rmse_over_depth_only_floor"] is None  # no floors
    assert (real_root_run / "results/diagnostics/figures/reliability.png").stat().st_size > 0


@pytest.mark.slow
def test_every_opened_file_is_a_declared_input(simulated_run, real_root_run):
    """Editing a file a job opens reruns that job and what depends on it, nothing upstream.
    Each case: the file, the jobs that must be planned, the rules that must not be.
    Without check_raw: with it, a dry run stops at the check (a checkpoint) it must redo."""
    raw = simulated_run / "results/raw"
    n_visits = len(list((real_root_run / "results/calibrated").rglob("*.nc")))
    planet = sorted((raw / "test").iterdir())[0]
    n_planet_visits = len(list(planet.glob("*_signal_*.parquet")))
    one_planet = {"calibrate": 1, "extract": 1, "fit": 1}
    cases = [
        (raw / "adc_info.csv", {"calibrate": n_visits, "submission": 1}, set()),
        (raw / "axis_info.parquet", {"calibrate": n_visits}, set()),
        (raw / "wavelengths.csv", {"extract": 6, "spectral_prior": 1, "fit": 6}, {"calibrate"}),
        (raw / "test_star_info.csv", {"fit": 2, "submission": 1}, {"calibrate", "extract"}),
        (raw / "sample_submission.csv", {"submission": 1}, {"calibrate", "extract", "fit"}),
        # The labels teach the priors, so every fit follows them; no light curve does.
        (
            raw / "train.csv",
            {"naive_reference": 1, "spectral_prior": 1, "limb_darkening_samples": 4, "fit": 6},
            {"calibrate", "extract"},
        ),
        (planet / "AIRS-CH0_calibration_0/dark.parquet", one_planet, set()),
        (planet / "FGS1_signal_0.parquet", one_planet, set()),
    ]
    checked = ("check_raw=True",)
    # the run had check_raw: without it only the dashboard changes (it drops the inventory)
    assert set(planned_jobs(real_root_run, "--config", *on_root(raw))) == {"dashboard", "all"}
    for path, expected, forbidden in cases:
        with _edited(path):
            planned = planned_jobs(real_root_run, "--config", *on_root(raw))
            if path.suffix == ".parquet":  # the raw check reads every parquet file too
                with_check = planned_jobs(real_root_run, "--config", *on_root(raw), *checked)
                assert with_check.get("check_raw", 0) >= 1, (path.name, with_check)
        for rule, count in expected.items():
            assert planned.get(rule, 0) >= count, (path.name, rule, planned)
        assert not forbidden & set(planned), (path.name, planned)
        if planet in path.parents:  # one planet's raw file: only that planet's jobs
            assert planned["calibrate"] <= n_planet_visits and planned["fit"] == 1, planned


@pytest.mark.slow
def test_changed_options_rerun_only_their_rules(real_root_run, simulated_run, tmp_path):
    raw = simulated_run / "results/raw"
    override = tmp_path / "override.yaml"
    override.write_text(
        f"raw_dir: {raw}\n{PHYSICS}check_raw: true\nfit:\n  limb_darkening_groups: 6\n"
    )
    planned = planned_jobs(real_root_run, "--configfile", str(override))
    assert planned.get("fit") == 6 and "calibrate" not in planned and "extract" not in planned
    override.write_text(
        f"raw_dir: {raw}\n{PHYSICS}check_raw: true\nextraction:\n  airs_edge_rows: 3\n"
    )
    planned = planned_jobs(real_root_run, "--configfile", str(override))
    assert planned.get("extract") == 6 and "calibrate" not in planned


def _test_only_root(simulated_run: Path, destination: Path) -> Path:
    """What a user with trained artifacts has: the test split and the top-level files
    inference needs, nothing of train; made read-only."""
    raw = simulated_run / "results/raw"
    shutil.copytree(raw / "test", destination / "test")
    for name in ("test_star_info.csv", "axis_info.parquet", "wavelengths.csv",
                 "adc_info.csv", "sample_submission.csv"):  # fmt: skip
        shutil.copy2(raw / name, destination / name)
    for path in [destination, *destination.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o222)
    return destination


def _tree_digest(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


@pytest.mark.slow
def test_inference_runs_on_a_test_only_read_only_root(simulated_run, tmp_path):
    root = _test_only_root(simulated_run, tmp_path / "kaggle_input")
    before = _tree_digest(root)
    work = tmp_path / "work"
    artifacts = simulated_run / "results/artifacts"
    result = snakemake(
        work, "inference", "--cores", "2", "--config", *on_root(root),
        f"artifacts_dir={artifacts}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    from spectramind.submission import validate_submission

    test_ids = sorted(int(p.name) for p in (root / "test").iterdir())
    frame = validate_submission(work / "results/submission/submission.csv", test_ids=test_ids)
    assert sorted(frame["planet_id"]) == test_ids
    ours = pd.read_csv(work / "results/submission/submission.csv").set_index("planet_id")
    full_run = pd.read_csv(simulated_run / "results/submission/submission.csv")
    pd.testing.assert_frame_equal(ours, full_run.set_index("planet_id"))
    assert not list((work / "results").rglob("train")), "inference touched the train split"
    assert _tree_digest(root) == before, "inference wrote under the raw root"


def test_inference_without_artifacts_says_where_they_come_from(simulated_run, tmp_path):
    root = _test_only_root(simulated_run, tmp_path / "kaggle_input")
    missing = tmp_path / "no_artifacts"
    for artifacts, problem in (
        (missing, f"artifacts_dir {missing} is read as given and lacks it"),
        ("results/artifacts", f"the raw root {root} has no train split"),
    ):
        result = snakemake(
            tmp_path / "work", "inference", "-n", "--config", *on_root(root),
            f"artifacts_dir={artifacts}",
        )  # fmt: skip
        assert result.returncode != 0
        output = result.stdout + result.stderr
        assert f"{artifacts}/naive_reference.json not found: {problem}" in output, output[-2000:]


@pytest.mark.slow
def test_a_planet_failing_the_raw_check_is_excluded_and_reported(simulated_run, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(simulated_run / "results/raw", raw)
    planet = sorted((raw / "test").iterdir())[0]
    broken = planet / "AIRS-CH0_signal_0.parquet"
    broken.write_bytes(broken.read_bytes()[:5000])
    work = tmp_path / "work"
    result = snakemake(
        work, "inference", "--cores", "2", "--config", *on_root(raw), "check_raw=True",
        f"artifacts_dir={simulated_run / 'results/artifacts'}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((work / f"results/inventory/test/{planet.name}.json").read_text())
    assert not summary["ok"] and str(broken) in summary["problem"]
    assert not (work / f"results/calibrated/test/{planet.name}").exists()
    assert not (work / f"results/fit/test/{planet.name}.nc").exists()
    # the excluded planet gets the fallback: the prior predictive from its star row
    submission = pd.read_csv(work / "results/submission/submission.csv").set_index("planet_id")
    prior = read_prior_predictive(simulated_run / "results/artifacts/prior_predictive.json")
    mu, sigma = prior.predict(read_star_info(raw, "test").loc[[int(planet.name)]])
    row = submission.loc[int(planet.name)]
    np.testing.assert_allclose(row.filter(like="wl_"), mu[0], rtol=1e-9)
    np.testing.assert_allclose(row.filter(like="sigma_"), sigma[0], rtol=1e-9)
    log = (work / "results/logs/submission.log").read_text()
    assert "1 prior_predictive" in log and planet.name in log


@pytest.mark.slow
def test_a_corrupt_raw_file_fails_its_planet_alone_naming_the_file(simulated_run, tmp_path):
    """A corrupt signal file: its planet's calibration fails with the file's name in the log,
    its outputs are failure records, the run completes, and that planet alone is on the
    fallback (guards.failed_planet_fallback; tests/test_failed_planets.py has it off)."""
    raw = tmp_path / "raw"
    shutil.copytree(simulated_run / "results/raw", raw)
    planet = next((raw / "test").iterdir())
    (planet / "FGS1_signal_0.parquet").write_bytes(b"PAR1 not really")
    work = tmp_path / "work"
    result = snakemake(work, "--cores", "1", "--config", *on_root(raw))
    assert result.returncode == 0, result.stderr[-3000:]
    log = (work / f"results/logs/calibrate/test/{planet.name}/FGS1_0.log").read_text()
    assert f"{planet}/FGS1_signal_0.parquet" in log and "truncated or corrupt" in log
    records = (f"calibrated/test/{planet.name}/FGS1_0.nc", f"lightcurves/test/{planet.name}.nc")
    for output in records:
        with xr.open_dataset(work / "results" / output) as record:
            assert failure_of(record.attrs) is not None, output
    guards = pd.read_csv(work / "results/diagnostics/guards.csv").set_index("planet_id")
    assert guards.loc[int(planet.name), "state"] == "failed"
    assert (guards.drop(int(planet.name))["state"] != "failed").all()
    # The other planets are unaffected.
    others = [p for p in (work / "results/lightcurves").glob("*/*.nc") if p.stem != planet.name]
    assert len(others) == 5
    for path in others:
        with xr.open_dataset(path) as curves:
            assert failure_of(curves.attrs) is None and "flux" in curves


def test_bad_config_is_refused_before_anything_runs(tmp_path):
    result = snakemake(tmp_path, "-n", "--config", "seed=-3")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "seed" in output and "minimum" in output


def test_per_planet_rules_have_a_benchmark_and_memory_that_grows_on_retry():
    """The catalog's hygiene for jobs that run per planet (rules with a planet_id wildcard,
    and the per-planet stages' batch rules), read from Snakemake's own parse: a timing
    record, and a memory request that grows with ``attempt`` so a retried job does not die
    the same way."""
    batch = re.compile(rf"({'|'.join(PLANET_STAGES)})_(train|test)_batch_\d+")
    rules = [r for r in parsed_rules() if "planet_id" in r.wildcards or batch.fullmatch(r.name)]
    names = {rule.name for rule in rules}
    per_planet = {"simulate_planet", "check_raw", "limb_darkening_samples", *PLANET_STAGES}
    assert per_planet <= names and any(map(batch.fullmatch, names)), sorted(names)
    for rule in rules:
        assert "benchmark" in rule.directives, f"{rule.name} has no benchmark"
        first, retry = rule.mem_mb
        assert first and retry > first, f"{rule.name}: mem_mb {first} then {retry} on retry"


V50_CONFIG = """\
predictor: v50
fit:
  spectral_prior: false  # cross-fitting it takes more than three train planets
model:
  hidden: 8
  heads: 2
  steps: 16
training:
  epochs: 2
  ensemble_folds: 2  # the 4 train planets: each member validated on 2
"""


@pytest.mark.slow
def test_v50_predictor_trains_predicts_and_is_scored_beside_the_fit(simulated_run, tmp_path):
    """predictor: v50 trains the model (a 2-fold ensemble) on the train planets, predicts
    the test planets in one job, and the submission and score.json are the model's, with the
    physics fit scored beside it; predictor auto then chooses between the two. A checkpoint
    read as given with other model options is refused by name."""
    work = tmp_path / "v50"
    shutil.copytree(simulated_run, work)  # with .snakemake: its metadata sees the switch
    (work / "v50.yaml").write_text(V50_CONFIG)
    run = ("--configfile", str(work / "small.yaml"), str(work / "v50.yaml"))
    result = snakemake(work, "--cores", "2", *run)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((work / "results/model/train_metrics.json").read_text())
    assert [[h["epoch"] for h in m["history"]] for m in metrics["members"]] == [[1, 2], [1, 2]]
    assert len(metrics["validation_planets"]) == 4
    # every train planet is some member's out-of-fold planet: sigma calibration's data
    with xr.open_dataset(work / "results/validation/v50.nc") as validation:
        assert sorted(validation["planet"].values) == metrics["validation_planets"]
    assert "member 2/2: epoch 2/2" in (work / "results/logs/train.log").read_text()
    score = json.loads((work / "results/diagnostics/score.json").read_text())
    assert score["predictor"] == "v50"
    assert {"v50", "v50_uncalibrated", "physics_fit"} <= set(score)
    from spectramind.submission.format import read_submission

    ids, mu, _ = read_submission(work / "results/submission/submission.csv")
    assert sorted(ids) == sorted(score["planet_ids"]) and (mu >= 0).all()
    # predictor auto on the same run: both predictors' train planets scored out of fold, the
    # choice an artifact, the submission the chosen one's
    result = snakemake(work, "--cores", "2", *run, "--config", "predictor=auto")
    assert result.returncode == 0, result.stderr[-3000:]
    choice = json.loads((work / "results/artifacts/predictor_choice.json").read_text())
    assert set(choice["scores"]) == {"physics", "v50"} and choice["n_planets"] == 4
    assert choice["predictor"] == "physics"  # 4 shared planets: too few to choose V50 on
    assert json.loads((work / "results/diagnostics/score.json").read_text())["predictor"] == "auto"
    with xr.open_dataset(work / "results/predictions/auto.nc") as auto:
        assert set(auto["predictor"].values) <= {"physics_fit", "prior_predictive", "naive"}
    # The trained artifacts read as given, with a model block that does not match them.
    other = tmp_path / "other.yaml"
    other.write_text(V50_CONFIG.replace("hidden: 8", "hidden: 12").replace("heads: 2", "heads: 4")
                     + f"artifacts_dir: {work / 'results/artifacts'}\n")  # fmt: skip
    result = snakemake(work, "results/predictions/v50.nc", "--forcerun", "predict", "--cores",
                       "1", "--configfile", str(work / "small.yaml"), str(other))  # fmt: skip
    assert result.returncode != 0
    log = (work / "results/logs/predict.log").read_text()
    assert "trained with other model options (heads: 2 vs 4, hidden: 8 vs 12)" in log
