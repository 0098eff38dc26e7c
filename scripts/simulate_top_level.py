"""Snakemake adapter: write the top-level files of the simulated raw root and truth tables."""

from pathlib import Path

from spectramind.core.jobs import rule_job
from spectramind.simulate import SimulationConfig, write_top_level

with rule_job(snakemake):
    write_top_level(
        SimulationConfig(seed=snakemake.params.seed, **snakemake.params.simulation),
        root=Path(snakemake.output.adc).parent,
        truth_dir=Path(snakemake.output.params).parent,
    )
