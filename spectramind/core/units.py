"""The glue of the per-planet stages' adapters (calibrate, extract, fit): run a job's units
one after another, each with its own manifest, and let one planet fail alone. Apart from
``core.jobs`` because failure records are netCDF files: only these stages' envs carry
xarray."""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from spectramind.core.atomic import OutputError
from spectramind.core.failure import FailureRecord, UpstreamFailure, write_failure
from spectramind.core.jobs import job_logging, log
from spectramind.core.provenance import write_manifest
from spectramind.workflow import PlanetStage, Unit, config_params


def run_units(
    smk: Any,
    stage: PlanetStage,
    work: Callable[[Unit, dict[str, str]], None],
    contain: bool = False,
) -> None:
    """Run ``work(unit, output paths)`` on each unit of a ``stage`` job, in this one process.

    A per-planet rule's job has one unit; a batched job (config ``planets_per_job``) has the
    units of many planets and pays the interpreter start-up and imports once. Each unit gets
    the manifest a job of its own would have written, naming the stage (not the job's rule)
    and recording the job's planets, so finished batches are kept as they ran
    (spectramind.workflow.batches).

    ``contain`` (``guards.failed_planet_fallback``): a unit whose work raises is logged with
    its traceback, its outputs become failure records (spectramind.core.failure) and the
    job goes on; one whose input is a failure record (``UpstreamFailure``) passes it on.
    The job then succeeds, so one planet fails alone, in a batch as in a job of its own. A
    failed write (``OutputError``: a full or read-only disk) and ``MemoryError`` (a retry
    with more memory may pass) still fail the job, as does every error without ``contain``.
    """
    units = stage.units_of(smk.output)
    planets = sorted({unit.planet_id for unit in units})
    config = config_params(smk.config, stage.name)
    failed: list[str] = []  # what each failed unit says on stderr
    with job_logging(smk):
        log.info("rule %s started, %d unit(s)", smk.rule, len(units))
        job_start = time.perf_counter()
        for unit in units:
            start = time.perf_counter()
            paths = stage.paths(unit)
            outputs = [path for name, path in paths.items() if name != "manifest"]
            try:
                work(unit, paths)
                failure = None
            except UpstreamFailure as upstream:
                if not contain:
                    log.error("rule %s: an input of %s is a failure record: %s", smk.rule, unit,
                              upstream)  # fmt: skip
                    raise
                failure = upstream.record
                log.warning("%s: %s; its outputs are failure records", unit, failure.reason)
                failed.append(f"{failure.reason} (failure record passed on)")
            except (OutputError, MemoryError):
                log.exception("rule %s failed on %s", smk.rule, unit)
                raise
            except Exception as error:
                if not contain:
                    log.exception("rule %s failed on %s", smk.rule, unit)
                    raise
                failure = FailureRecord(
                    stage.name, unit._asdict(), f"{type(error).__name__}: {error}",
                    traceback.format_exc(),
                )  # fmt: skip
                log.exception(
                    "guard: %s; its outputs are failure records and the job goes on "
                    "(guards.failed_planet_fallback)", failure.reason,
                )  # fmt: skip
                failed.append(f"{failure.reason} (failure record written; traceback in "
                              f"{smk.log[0]})")  # fmt: skip
            if failure is not None:
                for path in outputs:
                    write_failure(failure, path)
            seconds = time.perf_counter() - start
            write_manifest(
                paths["manifest"],
                rule=stage.name,
                outputs=outputs,
                config=config,
                wildcards=unit._asdict(),
                seconds=seconds,
                batch=planets,
                failure=None if failure is None else failure.as_dict(),
            )
            log.info("%s %s in %.2f s", unit, "failed" if failure else "done", seconds)
        log.info("rule %s finished in %.2f s", smk.rule, time.perf_counter() - job_start)
    for message in failed:  # Snakemake shows a job's stderr: say it beside the log file
        print(f"rule {smk.rule}: {message}", file=sys.stderr)
