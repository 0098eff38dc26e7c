"""Snakemake adapter: gather the per-planet Cramer-Rao bounds into noise_floor.csv."""

from spectramind.simulate import write_noise_floor_table
from spectramind.workflow import rule_job

with rule_job(snakemake):
    write_noise_floor_table(snakemake.input, snakemake.output.table)
