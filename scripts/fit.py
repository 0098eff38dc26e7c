"""Snakemake adapter: physics fit of planets' light curves (one planet per unit); a planet
whose fit fails, or whose light curves are a failure record (calibrate or extract raised),
gets the fallback (guards.failed_planet_fallback)."""

from pathlib import Path

import xarray as xr

from spectramind.core.failure import UpstreamFailure, failure_of
from spectramind.core.netcdf import write_netcdf
from spectramind.core.units import run_units
from spectramind.fit import FitOptions, fit_planet
from spectramind.fit.fallback import fit_or_fallback
from spectramind.fit.priors import read_fit_priors
from spectramind.guards import GuardOptions
from spectramind.io import read_star_info, read_wavelengths
from spectramind.workflow import EXTRACT, FIT, PlanetUnit
from spectramind.workflow.config_keys import block_params

options = FitOptions.from_config(snakemake.params.fit)
guards = GuardOptions.from_config(block_params(snakemake.params, "guards"))
priors = read_fit_priors(options, snakemake.input)
split = FIT.units_of(snakemake.output)[0].split  # a job's planets share one split
stars = read_star_info(Path(snakemake.input.stars).parent, split)
wavelength = read_wavelengths(Path(snakemake.input.wavelengths).parent)


def fit(unit: PlanetUnit, outputs: dict[str, str]) -> None:
    star = stars.loc[unit.planet_id] if unit.planet_id in stars.index else None

    def run() -> xr.Dataset:
        with xr.open_dataset(EXTRACT.paths(unit)["lightcurves"]) as lightcurves:
            failure = failure_of(lightcurves.attrs)
            if failure is not None:
                raise UpstreamFailure(failure)
            if star is None:
                raise KeyError(f"planet {unit.planet_id} is not in {snakemake.input.stars}")
            return fit_planet(lightcurves.load(), star, options, priors, guards)

    result = fit_or_fallback(
        run, wavelength, star, priors.prior_predictive, priors.naive, options, guards
    )
    write_netcdf(result, outputs["fit"])


run_units(snakemake, FIT, fit)
