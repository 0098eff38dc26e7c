"""Drive the bundle's workflow in a Kaggle notebook: Snakemake with the bundle's Snakefile
and kaggle profile, everything written under the working folder, and for inference the
runtime guard and the watchdog, so that the notebook always ends with a valid submission.csv.

    probe      the first planets' per-planet jobs, timed (guard.Probe)
    decide     the projected total against the budget: over it, the fallback submission
    full run   `snakemake inference` under a watchdog: at the budget's end it is stopped
    submit     the workflow's validated submission, or the fallback, as submission.csv
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from spectramind.core.atomic import atomic_output, write_json_atomic
from spectramind.io import list_planets
from spectramind.kaggle.description import installed_version
from spectramind.kaggle.fallback import fitted_planets, write_fallback_submission
from spectramind.kaggle.guard import Probe, estimate_run
from spectramind.kaggle.image import (
    ImageError,
    RunningImage,
    compare_image,
    image_message,
    read_wheelhouse_manifest,
)
from spectramind.kaggle.layout import ARTIFACTS, CONFIG, PROFILE, WHEELHOUSE
from spectramind.kaggle.options import KaggleOptions
from spectramind.workflow.config_keys import PREDICTION_FILES

SUBMISSION = "submission.csv"  # what Kaggle scores, at the top of the working folder
RECORD = "kaggle_run.json"
WORKFLOW_SUBMISSION = "results/submission/submission.csv"
FALLBACK = "results/submission/fallback"
STOP_GRACE_S = 60
COMPLETE = "complete"


@dataclass(frozen=True)
class KagglePaths:
    """The three folders of a Kaggle run."""

    bundle: Path  # the bundle dataset (read-only)
    competition: Path  # the competition's data (read-only)
    working: Path  # where everything is written

    @classmethod
    def of_bundle(
        cls, bundle: str | Path, competition: str | Path | None, working: str | Path | None
    ) -> KagglePaths:
        """The given folders, the others from the bundle config's ``kaggle`` block."""
        options = bundle_options(bundle)
        return cls(
            Path(bundle),
            Path(competition or options.competition_dir),
            Path(working or options.working_dir),
        )


def bundle_config(bundle: str | Path) -> dict[str, Any]:
    return yaml.safe_load((Path(bundle) / CONFIG).read_text())


def bundle_options(bundle: str | Path) -> KaggleOptions:
    return KaggleOptions.from_config(bundle_config(bundle)["kaggle"])


def planets_per_job(bundle: str | Path, config: dict[str, Any]) -> int:
    """Planets per calibrate/extract/fit job as the kaggle profile runs them: its --config
    overrides the bundle's ``config``."""
    profile = yaml.safe_load((Path(bundle) / PROFILE / "config.yaml").read_text())
    overrides = dict(item.split("=", 1) for item in profile.get("config", []))
    return int(overrides.get("planets_per_job", config.get("planets_per_job", 1)))


def job_environment(working: Path) -> dict[str, str]:
    """This environment with the caches and configuration jobs write (numba's compiled
    kernels, matplotlib's font list, astropy's, Snakemake's) under the working folder:
    nothing is written elsewhere. (astropy before 8 takes $XDG_*_HOME/astropy only where
    that folder exists, else it writes ~/.astropy: both are made here.)"""
    cache, config = working / ".cache", working / ".config"
    for folder in (cache / "astropy", config / "astropy"):
        folder.mkdir(parents=True, exist_ok=True)
    return os.environ | {
        "XDG_CACHE_HOME": str(cache),
        "XDG_CONFIG_HOME": str(config),
        "MPLCONFIGDIR": str(cache / "matplotlib"),
        "NUMBA_CACHE_DIR": str(cache / "numba"),
    }


def snakemake_command(
    paths: KagglePaths, *args: str, train: bool = False, configfiles: tuple[Path, ...] = ()
) -> list[str]:
    """Snakemake on the bundle's workflow with its kaggle profile, run in the working
    folder, reading the competition's data and (unless ``train``: built from the train
    split) the bundle's artifacts; ``args`` are targets and options."""
    artifacts = "results/artifacts" if train else str(paths.bundle / ARTIFACTS)
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(paths.bundle / "Snakefile")]
    command += ["--profile", str(paths.bundle / PROFILE), "--directory", str(paths.working)]
    command += [*args, *(x for f in configfiles for x in ("--configfile", str(f)))]
    return [*command, "--config", f"raw_dir={paths.competition}", f"artifacts_dir={artifacts}"]


def run_snakemake(
    command: list[str], env: dict[str, str], deadline: float | None = None
) -> int | None:
    """Run ``command`` in its own process group; its exit code, or None when it was still
    running at ``deadline`` (epoch seconds) and was stopped: SIGTERM to the group, SIGKILL
    after a grace period."""
    print("$ " + " ".join(command), flush=True)
    process = subprocess.Popen(command, env=env, start_new_session=True)
    try:
        timeout = None if deadline is None else max(deadline - time.time(), 0.0)
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_group(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            stop_group(process.pid, signal.SIGKILL)
            process.wait()
        return None


def stop_group(group: int, signum: int) -> None:
    """Signal every process of a group; one that ended meanwhile is fine."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signum)


def publish(source: Path, paths: KagglePaths) -> Path:
    """Copy a submission to the top of the working folder for Kaggle. Both sources were
    validated as they were written (write_validated_submission: the workflow's submission
    rule, or the fallback), against the same test planets."""
    target = paths.working / SUBMISSION
    with atomic_output(target) as tmp:
        shutil.copyfile(source, tmp)
    return target


def fall_back(paths: KagglePaths, test_ids: list[int], reason: str) -> Path:
    """Write, validate and publish the fallback submission."""
    folder = paths.working / FALLBACK
    filled = write_fallback_submission(
        paths.working,
        paths.competition,
        paths.bundle / ARTIFACTS,
        folder / "submission.csv",
        folder / "submission.zip",
    )
    prior = sum(name == "prior_predictive" for name in filled.values())
    print(
        f"FALLBACK SUBMISSION ({reason}): {len(test_ids) - len(filled)} planet(s) from their "
        f"physics fit, {prior} with the prior predictive, {len(filled) - prior} with the "
        "naive prediction.",
        flush=True,
    )
    return publish(folder / "submission.csv", paths)


def probe_run(
    paths: KagglePaths, planets: list[int], env: dict[str, str], deadline: float
) -> Probe | None:
    """Run and time the per-planet jobs of ``planets`` (see guard); None when Snakemake
    cannot even plan them (a raw file or an artifact missing), with its message printed."""
    targets = [f"results/fit/test/{pid}.nc" for pid in planets]
    start = time.time()
    plan = subprocess.run(
        snakemake_command(paths, *targets, "--dry-run", "--quiet"),
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    startup = time.time() - start
    if plan.returncode:
        print(plan.stdout + plan.stderr, flush=True)
        return None
    start = time.time()
    run_snakemake(snakemake_command(paths, *targets), env, deadline)  # failures: see the log
    seconds = time.time() - start
    return Probe(len(fitted_planets(paths.working, planets)), seconds, startup)


def full_run_status(code: int | None) -> str:
    """How the full run ended, by its exit code (None: stopped at the deadline)."""
    if code is None:
        return "fallback: stopped by the watchdog at the end of the budget"
    if code:
        return f"fallback: Snakemake failed (exit code {code}), see its log above"
    return COMPLETE


def image_record(bundle: Path) -> dict[str, Any]:
    """The image this runs on, for kaggle_run.json: its Python, glibc and pip, the versions
    of the packages its description lists (None: missing), and the check's message."""
    try:
        image = read_wheelhouse_manifest(bundle)["image"]
    except (ImageError, KeyError) as err:  # the record must not cost the submission
        image, check = {"name": None, "packages": {}}, f"no description to compare: {err}"
    running = RunningImage.here(sorted(image["packages"]))
    if image["name"]:
        check = image_message(image, compare_image(image, running))
    return {
        "described": image["name"],
        "python": running.python,
        "glibc": running.glibc,
        "pip": installed_version("pip"),
        "packages": running.packages,
        "check": check,
    }


def selective_scan(predictor: str) -> str | None:
    """The selective scan V50 runs here (see models.mamba.selective_scan_in_use); None for
    a predictor without V50. Never fails the run: a failure is recorded instead."""
    if predictor not in PREDICTION_FILES:
        return None
    try:
        import torch

        from spectramind.models.mamba import selective_scan_in_use

        return selective_scan_in_use("cuda" if torch.cuda.is_available() else "cpu")
    except Exception as err:  # the record must not cost the submission
        return f"unknown ({type(err).__name__}: {err})"


def infer(paths: KagglePaths, started: float | None = None) -> dict[str, Any]:
    """The inference run with its guard and watchdog, from ``started`` (epoch seconds, by
    default now; the notebook passes its own start). Writes submission.csv and the run's
    record (kaggle_run.json) in the working folder; returns the record."""
    started = time.time() if started is None else started
    config = bundle_config(paths.bundle)
    options = KaggleOptions.from_config(config["kaggle"])
    deadline = started + options.budget_seconds
    env = job_environment(paths.working)
    paths.working.mkdir(parents=True, exist_ok=True)
    planets = list_planets(paths.competition, "test")
    record: dict[str, Any] = {"planets": len(planets), "budget_seconds": options.budget_seconds}
    record["image"] = image_record(paths.bundle)
    scan = selective_scan(config["predictor"])
    if scan:
        print(f"V50 selective scan: {scan}", flush=True)
        record["selective_scan"] = scan
    probe_planets = planets[: options.probe_jobs * planets_per_job(paths.bundle, config)]
    probe = probe_run(paths, probe_planets, env, deadline)
    if probe is None:
        status = "fallback: Snakemake cannot plan the run, see its message above"
    else:
        estimate = estimate_run(
            probe,
            total_planets=len(planets),
            elapsed_seconds=time.time() - started,
            final_stage_seconds=options.final_stage_minutes * 60,
            budget_seconds=options.budget_seconds,
        )
        print(estimate.message(), flush=True)
        record |= {"probe": asdict(probe), "estimate_seconds": estimate.total_seconds}
        if estimate.fits:
            record["exit_code"] = run_snakemake(
                snakemake_command(paths, "inference"), env, deadline
            )
            status = full_run_status(record["exit_code"])
        else:
            status = "fallback: the runtime guard's estimate exceeds the budget"
    if status == COMPLETE:
        submission = publish(paths.working / WORKFLOW_SUBMISSION, paths)
    else:
        submission = fall_back(paths, planets, status)
    record |= {
        "status": status,
        "submission": str(submission),
        "fitted_planets": len(fitted_planets(paths.working, planets)),
        "seconds": time.time() - started,
    }
    write_json_atomic(paths.working / RECORD, record)
    print(f"{submission}: {status} ({record['seconds']:.0f} s)", flush=True)
    return record


def snakemake(paths: KagglePaths, args: list[str], train: bool) -> int:
    """Snakemake with ``args`` (targets, --until, ...) as the notebooks run it; ``train``
    builds the artifacts from the competition's train split and reuses the bundle's
    wheelhouse for a new bundle (offline)."""
    configfiles: tuple[Path, ...] = ()
    if train:
        overrides = paths.working / "kaggle_training.yaml"
        wheelhouse = {"kaggle": {"wheelhouse_from": str(paths.bundle / WHEELHOUSE)}}
        paths.working.mkdir(parents=True, exist_ok=True)
        overrides.write_text(yaml.safe_dump(wheelhouse))
        configfiles = (overrides,)
    command = snakemake_command(paths, *args, train=train, configfiles=configfiles)
    print("$ " + " ".join(command), flush=True)
    return subprocess.run(command, env=job_environment(paths.working), check=False).returncode
