"""Snakemake adapter: physics fit of planets' light curves (one planet per unit)."""

from pathlib import Path

import xarray as xr

from spectramind.core.jobs import run_units
from spectramind.core.netcdf import write_netcdf
from spectramind.fit import FitOptions, fit_planet
from spectramind.fit.priors import read_fit_priors
from spectramind.io import read_star_info
from spectramind.workflow import EXTRACT, FIT, PlanetUnit

options = FitOptions.from_config(snakemake.params.fit)
priors = read_fit_priors(options, snakemake.input)
split = FIT.units_of(snakemake.output)[0].split  # a job's planets share one split
stars = read_star_info(Path(snakemake.input.stars).parent, split)


def fit(unit: PlanetUnit, outputs: dict[str, str]) -> None:
    with xr.open_dataset(EXTRACT.paths(unit)["lightcurves"]) as lightcurves:
        result = fit_planet(lightcurves.load(), stars.loc[unit.planet_id], options, priors)
    write_netcdf(result, outputs["fit"])


run_units(snakemake, FIT, fit)
