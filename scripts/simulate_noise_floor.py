"""Snakemake adapter: gather the per-planet Cramer-Rao bounds into noise_floor.csv."""

from spectramind.core.jobs import rule_job
from spectramind.simulate import write_noise_floor_table

with rule_job(snakemake):
    write_noise_floor_table(snakemake.input, snakemake.output.table)
