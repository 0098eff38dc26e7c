"""Snakemake adapter: one table row per planet, visit and instrument; the excluded planets."""

from spectramind.core.jobs import rule_job
from spectramind.io.inventory import write_inventory_table

with rule_job(snakemake):
    write_inventory_table(snakemake.input, snakemake.output.table, snakemake.output.excluded)
