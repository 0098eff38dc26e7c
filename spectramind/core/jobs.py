"""The glue every scripts/ adapter uses: log to the rule's log file and write its manifest."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from spectramind.core.provenance import write_manifest
from spectramind.workflow import config_params

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
