"""Snakemake adapter: learn the naive reference (train mean and std) into the artifacts."""

from spectramind.core.atomic import write_json_atomic
from spectramind.core.jobs import rule_job
from spectramind.evaluation.artifacts import learn_naive_reference
from spectramind.io import read_labels

with rule_job(snakemake):
    reference = learn_naive_reference(read_labels(snakemake.input.labels))
    write_json_atomic(snakemake.output.reference, reference)
