"""Snakemake adapter: one table row per planet, visit and instrument of the raw root."""

from spectramind.io.inventory import write_inventory_table
from spectramind.workflow import rule_job

with rule_job(snakemake):
    write_inventory_table(snakemake.input, snakemake.output.table)
