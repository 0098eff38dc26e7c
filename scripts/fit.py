"""Snakemake adapter: physics fit of planets' light curves (one planet per unit)."""

from pathlib import Path

import xarray as xr

from spectramind.core.jobs import JobUnit, run_units
from spectramind.core.netcdf import write_netcdf
from spectramind.fit import FitOptions, fit_planet
from spectramind.fit.priors import read_fit_priors
from spectramind.io import read_star_info

options = FitOptions.from_config(snakemake.params.options)
priors = read_fit_priors(options, snakemake.input)
stars = read_star_info(Path(snakemake.input.stars).parent, snakemake.params.split)


def fit(unit: JobUnit) -> None:
    with xr.open_dataset(unit["inputs"]["lightcurves"]) as lightcurves:
        result = fit_planet(
            lightcurves.load(), stars.loc[int(unit["wildcards"]["planet_id"])], options, priors
        )
    write_netcdf(result, unit["outputs"]["fit"])


run_units(snakemake, fit)
