"""Snakemake adapter: read one planet's raw files completely and summarise them."""

from pathlib import Path

from spectramind.core.jobs import rule_job
from spectramind.io.inventory import write_planet_summary

with rule_job(snakemake):
    write_planet_summary(
        root=Path(snakemake.input.axis).parent,
        split=snakemake.wildcards.split,
        planet_id=int(snakemake.wildcards.planet_id),
        out=snakemake.output.summary,
    )
