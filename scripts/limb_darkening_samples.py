"""Snakemake adapter: (u1, u2) of one training planet with its depths fixed to the truth."""

from pathlib import Path

import xarray as xr

from spectramind.core.atomic import write_csv_atomic
from spectramind.core.jobs import rule_job
from spectramind.fit import FitOptions
from spectramind.fit.priors import limb_darkening_samples
from spectramind.guards import GuardOptions
from spectramind.io import read_labels, read_star_info
from spectramind.workflow.config_keys import block_params

with rule_job(snakemake):
    planet_id = int(snakemake.wildcards.planet_id)
    star = read_star_info(Path(snakemake.input.stars).parent, "train").loc[planet_id]
    truth = read_labels(snakemake.input.labels).loc[planet_id].to_numpy()
    options = FitOptions.from_config(snakemake.params.fit)
    guards = GuardOptions.from_config(block_params(snakemake.params, "guards"))
    with xr.open_dataset(snakemake.input.lightcurves) as lightcurves:
        samples = limb_darkening_samples(lightcurves.load(), star, truth, options, guards)
    write_csv_atomic(snakemake.output.samples, samples)
