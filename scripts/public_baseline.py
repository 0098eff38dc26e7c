"""Snakemake adapter: learn the public baseline's depth scale and sigma from train planets."""

from spectramind.core.atomic import write_json_atomic
from spectramind.core.jobs import rule_job
from spectramind.evaluation.artifacts import learn_public_baseline
from spectramind.io import read_labels

with rule_job(snakemake):
    baseline = learn_public_baseline(
        snakemake.input.lightcurves, read_labels(snakemake.input.labels)
    )
    write_json_atomic(snakemake.output.baseline, baseline)
