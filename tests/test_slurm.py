"""The workflow on a real SLURM cluster through ``--profile profiles/slurm``: a small simulated
config runs to a valid submission, every remote job a SLURM job, the per-planet rules batched
into one group job per group.

Needs a cluster that answers ``sinfo``: ``.ci/slurm start`` makes a single-node one on this
machine. Without one the tests skip, except under CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from workflow_runs import REPO, VALIDATE, snakemake

pytestmark = pytest.mark.slurm  # make test-all (CI), not make test

# Two test planets, so that one group job holds both. With the fit's priors off the
# submission needs none of the train planets' light curves (two train planets are still
# simulated into train.csv, for the naive reference), and sigma calibration method none
# needs no validation planets. About 2 min, mostly Snakemake restarting for each job of a
# group job (tests/test_workflow.py checks what the run computes).
SLURM_CONFIG = """\
predictor: physics
sigma_calibration: {method: none}
fit: {limb_darkening_prior: false, white_light_error_scale: false, spectral_prior: false}
simulation:
  n_train: 2
  n_test: 2
  cadence: 50
  second_visit_fraction: 0
"""
# Snakemake's line for each job it hands to SLURM (the log's name is the SLURM job id).
SUBMITTED = re.compile(r"has been submitted with SLURM jobid (\d+) \(log: (\S+)\)")
# A job's header in a group job's log ("rule fit:", "localrule fit:" in the inner
# Snakemake) and its wildcards line.
RULE = re.compile(r"^(?:local)?rule (\w+):$")
PLANET = re.compile(r"^\s+wildcards: .*planet_id=(\d+)")
# The per-planet rules of the planet group that the submission needs (the train planets' limb
# darkening samples are not: their prior is off).
PLANET_RULES = {"simulate_planet", "calibrate", "extract"}


def slurm_answers() -> bool:
    """Whether a SLURM cluster with a partition up answers ``sinfo`` here."""
    try:
        result = subprocess.run(
            ["sinfo", "-h", "-o", "%a"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0 and "up" in result.stdout.split()


@pytest.fixture(scope="module")
def slurm_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The run's folder and Snakemake's log of it. No cluster is a skip, or under CI a
    failure."""
    if not slurm_answers():
        reason = "no SLURM cluster answers sinfo (start one with .ci/slurm start, as root)"
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"CI is set but {reason}", pytrace=False)
        pytest.skip(reason)
    workdir = tmp_path_factory.mktemp("slurm").resolve()
    (workdir / "slurm.yaml").write_text(SLURM_CONFIG)
    result = snakemake(
        workdir,
        *("--profile", str(REPO / "profiles" / "slurm")),
        *("--configfile", str(workdir / "slurm.yaml")),
        # Local overrides: a failed job fails the run at once (no retry), and the SLURM logs
        # of successful jobs are kept for the checks below.
        *("--retries", "0", "--slurm-keep-successful-logs"),
        "results/submission/submission.csv",
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-5000:]
    return workdir, log


def slurm_jobs(log: str) -> dict[str, Path]:
    """SLURM job id -> its log file, for every job Snakemake submitted."""
    return {job_id: Path(path) for job_id, path in SUBMITTED.findall(log)}


def planet_jobs(slurm_log: Path) -> set[tuple[str, str]]:
    """(rule, planet_id) of every per-planet job a SLURM job's log shows running."""
    jobs, rule = set(), None
    for line in slurm_log.read_text().splitlines():
        if header := RULE.match(line):
            rule = header.group(1)
        elif (wildcards := PLANET.match(line)) and rule:
            jobs.add((rule, wildcards.group(1)))
    return jobs


def test_slurm_run_ends_with_a_valid_submission(slurm_run):
    workdir, _ = slurm_run
    raw = workdir / "results/raw"
    result = subprocess.run(
        [
            VALIDATE,
            str(workdir / "results/submission/submission.csv"),
            *("--sample", str(raw / "sample_submission.csv")),
            *("--test-ids", str(raw / "test_star_info.csv")),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "valid, 2 planets" in result.stdout


def test_every_remote_job_ran_as_a_slurm_job(slurm_run):
    workdir, log = slurm_run
    jobs = slurm_jobs(log)
    assert len(jobs) >= 2, log[-5000:]  # at least the planet and fit group jobs
    for job_id, path in jobs.items():
        # SLURM named the log after the job id it gave the job, and inside the job Snakemake
        # ran its SLURM job step.
        assert path.is_relative_to(workdir / ".snakemake/slurm_logs") and path.stem == job_id
        assert "--executor slurm-jobstep" in path.read_text(), path
    # No per-planet job ran in this Snakemake process (its local jobs are "localrule X:").
    local = set(re.findall(r"^localrule (\w+):$", log, flags=re.MULTILINE))
    assert not local & (PLANET_RULES | {"fit"}), local


def test_per_planet_jobs_are_grouped(slurm_run):
    workdir, log = slurm_run
    planets = sorted(p.name for p in (workdir / "results/raw/test").iterdir())
    assert len(planets) == 2
    groups: dict[str, list[Path]] = {}  # group -> the logs of its SLURM jobs
    for path in slurm_jobs(log).values():
        folder = path.relative_to(workdir / ".snakemake/slurm_logs").parts[0]
        if folder.startswith("group_"):  # group_<group>_<its rules>, else rule_<rule>
            groups.setdefault(folder.split("_")[1], []).append(path)
    # One SLURM job ran every planet's simulate, calibrate and extract; one both fits.
    (planet_group,) = groups["planet"]
    expected = {(rule, planet) for rule in PLANET_RULES for planet in planets}
    assert planet_jobs(planet_group) == expected
    (fit_group,) = groups["fit"]
    assert planet_jobs(fit_group) == {("fit", planet) for planet in planets}
