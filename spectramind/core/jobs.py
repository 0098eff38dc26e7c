"""The glue every scripts/ adapter uses: log to the rule's log file and write its manifest."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from spectramind.core.provenance import write_manifest
from spectramind.workflow import PlanetStage, Unit, config_params

log = logging.getLogger("spectramind")


@contextmanager
def job_logging(smk: Any) -> Iterator[None]:
    """Send the library's logging to the job's ``log[0]`` for the duration of the job."""
    handler = logging.FileHandler(smk.log[0], mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()


@contextmanager
def rule_job(smk: Any) -> Iterator[None]:
    """Run the body of a Snakemake script: logging goes to ``log[0]``; on success the
    ``manifest`` output gets the run's provenance (the config keys the rule reads, a hash of
    every other output)."""
    with job_logging(smk):
        start = time.perf_counter()
        try:
            log.info("rule %s started, wildcards %s", smk.rule, dict(smk.wildcards))
            yield
            outputs = [path for path in smk.output if path != smk.output.manifest]
            seconds = time.perf_counter() - start
            write_manifest(
                smk.output.manifest,
                rule=smk.rule,
                outputs=outputs,
                config=config_params(smk.config, smk.rule),
                wildcards=dict(smk.wildcards),
                seconds=seconds,
            )
            log.info("rule %s finished in %.2f s", smk.rule, seconds)
        except Exception:
            log.exception("rule %s failed", smk.rule)
            raise


def run_units(smk: Any, stage: PlanetStage, work: Callable[[Unit, dict[str, str]], None]) -> None:
    """Run ``work(unit, output paths)`` on each unit of a ``stage`` job, in this one process.

    A per-planet rule's job has one unit; a batched job (config ``planets_per_job``) has the
    units of many planets and pays the interpreter start-up and imports once. Each unit gets
    the manifest a job of its own would have written, naming the stage (not the job's rule)
    and recording the job's planets, so finished batches are kept as they ran
    (spectramind.workflow.batches).
    """
    units = stage.units_of(smk.output)
    planets = sorted({unit.planet_id for unit in units})
    config = config_params(smk.config, stage.name)
    with job_logging(smk):
        log.info("rule %s started, %d unit(s)", smk.rule, len(units))
        job_start = time.perf_counter()
        for unit in units:
            start = time.perf_counter()
            paths = stage.paths(unit)
            try:
                work(unit, paths)
            except Exception:
                log.exception("rule %s failed on %s", smk.rule, unit)
                raise
            seconds = time.perf_counter() - start
            write_manifest(
                paths["manifest"],
                rule=stage.name,
                outputs=[path for name, path in paths.items() if name != "manifest"],
                config=config,
                wildcards=unit._asdict(),
                seconds=seconds,
                batch=planets,
            )
            log.info("%s done in %.2f s", unit, seconds)
        log.info("rule %s finished in %.2f s", smk.rule, time.perf_counter() - job_start)
