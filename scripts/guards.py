"""Snakemake adapter: the test planets' guard table, the count of planets per guard state
and predictor, and the worst planets (by per-planet score on simulated data)."""

import json
from pathlib import Path

from spectramind.core.jobs import rule_job
from spectramind.diagnostics.guards import per_planet_scores, planet_guards, write_guard_tables

with rule_job(snakemake):
    inputs = snakemake.input
    table = planet_guards(
        inputs.guard_fits, snakemake.params.predictor, next(iter(inputs.guard_predictions), None)
    )
    scores = None
    if inputs.score:
        scores = per_planet_scores(json.loads(Path(inputs.score[0]).read_text()))
    write_guard_tables(
        table, scores, snakemake.output.table, snakemake.output.counts, snakemake.output.worst
    )
