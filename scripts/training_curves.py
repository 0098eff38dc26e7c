"""Snakemake adapter: the V50 training curves (train_metrics.json) as a figure."""

import json
from pathlib import Path

from spectramind.core.jobs import rule_job
from spectramind.diagnostics.diagnose import write_training_figure

with rule_job(snakemake):
    metrics = json.loads(Path(snakemake.input.metrics).read_text())
    write_training_figure(Path(snakemake.output.figure).with_suffix(""), metrics)
