"""What a config change re-plans after a finished run: a rule's params are the config keys
it reads (spectramind.workflow.config_keys), so a key re-plans the rules that read it and
what depends on their outputs, and how the work runs (planets_per_job) re-plans nothing."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from workflow_runs import job_counts, snakemake

from spectramind.core.provenance import config_hash
from spectramind.workflow import RULE_CONFIG_KEYS
from spectramind.workflow.config_keys import param_name

pytestmark = pytest.mark.slow

# Both predictors' rules: V50 trained (two epochs) on top of the physics fit, no raw check
# (planets_per_job needs it off).
CONFIG = """\
predictor: v50
check_raw: false
simulation:
  n_train: 4
  n_test: 2
  cadence: 50
  second_visit_fraction: 0.5
training:
  epochs: 2
"""
PER_PLANET = {"simulate_planet", "calibrate", "extract", "fit"}
GLOBAL_WORK = {"train", "predict", "physics_validation"}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("finished")
    (workdir / "run.yaml").write_text(CONFIG)
    result = snakemake(workdir, "--cores", "2", "--configfile", str(workdir / "run.yaml"))
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir


def planned(workdir: Path, *args: str, overlay: str = "") -> Counter:
    """Jobs per rule a dry run plans with ``overlay`` (YAML) over the run's config, from its
    job stats (empty: nothing to be done)."""
    (workdir / "overlay.yaml").write_text(overlay or "{}\n")
    configs = [str(workdir / "run.yaml"), str(workdir / "overlay.yaml")]
    result = snakemake(workdir, "-n", *args, "--configfile", *configs)
    assert result.returncode == 0, result.stderr[-3000:]
    return job_counts(result)


def test_a_finished_run_plans_nothing(finished_run):
    assert planned(finished_run) == Counter()


@pytest.mark.parametrize("per_job", [2, 3])
def test_planets_per_job_re_plans_nothing(finished_run, per_job):
    assert planned(finished_run, overlay=f"planets_per_job: {per_job}") == Counter()


def test_an_inject_recover_key_re_plans_it_and_what_shows_it(finished_run):
    jobs = planned(finished_run, overlay="inject_recover: {co2_amplitudes_ppm: [200]}")
    assert jobs["inject_recover"] == 1
    assert set(jobs) <= {"inject_recover", "dashboard", "all"}, jobs


def test_a_kaggle_key_re_plans_only_the_bundle(finished_run):
    change = "kaggle: {time_limit_h: 5.0}"
    assert planned(finished_run, overlay=change) == Counter()
    assert planned(finished_run, "kaggle_bundle", overlay=change) == Counter({"kaggle_bundle": 1})


def test_a_training_key_re_plans_training_and_below_never_the_physics(finished_run):
    jobs = planned(finished_run, overlay="training: {epochs: 3}")
    assert jobs["train"] == 1 and jobs["predict"] == 1
    assert not set(jobs) & (PER_PLANET | {"physics_validation"}), jobs


def test_a_fit_key_re_plans_the_fits_not_calibration(finished_run):
    jobs = planned(finished_run, overlay="fit: {limb_darkening_groups: 8}")
    assert jobs["fit"] == 6 and jobs["train"] == 1
    assert not set(jobs) & {"simulate_planet", "calibrate", "extract"}, jobs


def test_each_manifest_records_the_keys_its_rule_reads_and_no_other(finished_run):
    manifests = list((finished_run / "results/manifests").rglob("*.json"))
    rules = set()
    for path in manifests:
        record = json.loads(path.read_text())
        expected = {param_name(key) for key in RULE_CONFIG_KEYS.get(record["rule"], ())}
        assert set(record["config"]) == expected, (path, sorted(record["config"]))
        assert record["config_sha256"] == config_hash(record["config"]), path
        rules.add(record["rule"])
    # per-planet stages and global rules alike, the stage (not a batch rule) named
    assert {"calibrate", "extract", "fit", "train", "predict", "diagnose"} <= rules, rules
