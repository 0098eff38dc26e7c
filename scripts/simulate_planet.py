"""Snakemake adapter: simulate one planet's raw folder and its truth record."""

from spectramind.core.jobs import rule_job
from spectramind.simulate import SimulationConfig, simulate_planet

with rule_job(snakemake):
    simulate_planet(
        SimulationConfig(seed=snakemake.params.seed, **snakemake.params.simulation),
        split=snakemake.wildcards.split,
        planet_id=int(snakemake.wildcards.planet_id),
        planet_folder=snakemake.output.planet,
        truth_path=snakemake.output.truth,
    )
