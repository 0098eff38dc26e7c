"""Snakemake adapter: gather the per-planet Cramer-Rao bounds into noise_floor.csv
(depth-only) and noise_floor_marginalised.csv."""

from spectramind.core.jobs import rule_job
from spectramind.simulate import write_noise_floor_table

with rule_job(snakemake):
    write_noise_floor_table(snakemake.input, snakemake.output.table)
    write_noise_floor_table(
        snakemake.input, snakemake.output.marginalised, key="noise_floor_marginalised"
    )
