"""Snakemake adapter: extract one planet's light curves from its calibrated visits."""

from pathlib import Path

from spectramind.core.jobs import rule_job
from spectramind.core.netcdf import write_netcdf
from spectramind.extract.lightcurves import extract_planet
from spectramind.extract.options import ExtractionOptions
from spectramind.io import read_wavelengths

with rule_job(snakemake):
    dataset = extract_planet(
        fgs1_files=snakemake.input["FGS1"],
        airs_files=snakemake.input["AIRS-CH0"],
        wavelengths=read_wavelengths(Path(snakemake.input.wavelengths).parent),
        options=ExtractionOptions.from_config(snakemake.params.options),
    )
    write_netcdf(dataset, snakemake.output.lightcurves)
