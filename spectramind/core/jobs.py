"""The glue every scripts/ adapter uses: log to the rule's log file and write its manifest."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from spectramind.core.provenance import write_manifest

log = logging.getLogger("spectramind")

# One unit of a per-planet rule's work (a planet, or one visit of one instrument): its
# wildcards, its own input and output paths by name, and the manifest those outputs get.
# Plain dicts, as Snakemake pickles them into the job's ``params.units``.
JobUnit = Mapping[str, Any]


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
    ``manifest`` output gets the run's provenance, hashing every other output."""
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
                config=smk.config,
                wildcards=dict(smk.wildcards),
                seconds=seconds,
            )
            log.info("rule %s finished in %.2f s", smk.rule, seconds)
        except Exception:
            log.exception("rule %s failed", smk.rule)
            raise


def run_units(smk: Any, work: Callable[[JobUnit], None]) -> None:
    """Run ``work`` on each unit of ``params.units`` in turn, in this one process.

    A per-planet rule's job has one unit; a batched job (config ``planets_per_job``) has
    the units of many planets and pays the interpreter start-up and imports once. Each unit
    gets the manifest a job of its own would have written.
    """
    with job_logging(smk):
        log.info("rule %s started, %d unit(s)", smk.rule, len(smk.params.units))
        job_start = time.perf_counter()
        for unit in smk.params.units:
            start = time.perf_counter()
            try:
                work(unit)
            except Exception:
                log.exception("rule %s failed on %s", smk.rule, unit["wildcards"])
                raise
            seconds = time.perf_counter() - start
            write_manifest(
                unit["manifest"],
                rule=smk.rule,
                outputs=list(unit["outputs"].values()),
                config=smk.config,
                wildcards=unit["wildcards"],
                seconds=seconds,
            )
            log.info("%s done in %.2f s", unit["wildcards"], seconds)
        log.info("rule %s finished in %.2f s", smk.rule, time.perf_counter() - job_start)
