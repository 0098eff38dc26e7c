"""Snakemake adapter: physics fit of one planet's light curves."""

from pathlib import Path

import xarray as xr

from spectramind.core.jobs import rule_job
from spectramind.core.netcdf import write_netcdf
from spectramind.fit import FitOptions, fit_planet
from spectramind.fit.priors import read_fit_priors
from spectramind.io import read_star_info

with rule_job(snakemake):
    split, planet_id = snakemake.wildcards.split, int(snakemake.wildcards.planet_id)
    stars = read_star_info(Path(snakemake.input.stars).parent, split)
    options = FitOptions.from_config(snakemake.params.options)
    with xr.open_dataset(snakemake.input.lightcurves) as lightcurves:
        fit = fit_planet(
            lightcurves.load(),
            stars.loc[planet_id],
            options,
            read_fit_priors(options, snakemake.input),
        )
    write_netcdf(fit, snakemake.output.fit)
