"""Snakemake adapter: physics fit of one planet's light curves."""

import json
from pathlib import Path

import xarray as xr

from spectramind.core.jobs import rule_job
from spectramind.core.netcdf import write_netcdf
from spectramind.fit import FitOptions, FitPriors, fit_planet
from spectramind.fit.limb_darkening import LimbDarkeningPrior
from spectramind.fit.spectral_prior import SpectralPrior
from spectramind.io import read_star_info


def read_priors(options: FitOptions) -> FitPriors:
    """The learned priors the options switch on, from the rule's artifact inputs."""
    inputs = snakemake.input
    limb_darkening = spectral = white_light_scale = None
    if options.limb_darkening_prior:
        with open(inputs.limb_darkening_prior) as f:
            limb_darkening = LimbDarkeningPrior.from_dict(json.load(f))
    if options.white_light_calibration:
        with open(inputs.white_light_calibration) as f:
            white_light_scale = json.load(f)["scale"]
    if options.spectral_prior:
        with open(inputs.spectral_prior) as f:
            spectral = SpectralPrior.from_dict(json.load(f))
    return FitPriors(limb_darkening, spectral, white_light_scale)


with rule_job(snakemake):
    split, planet_id = snakemake.wildcards.split, int(snakemake.wildcards.planet_id)
    stars = read_star_info(Path(snakemake.input.stars).parent, split)
    options = FitOptions.from_config(snakemake.params.options)
    with xr.open_dataset(snakemake.input.lightcurves) as lightcurves:
        fit = fit_planet(lightcurves.load(), stars.loc[planet_id], options, read_priors(options))
    write_netcdf(fit, snakemake.output.fit)
