"""Snakemake adapter: extract planets' light curves (one per unit) from calibrated visits."""

from pathlib import Path

from spectramind.core.jobs import JobUnit, run_units
from spectramind.core.netcdf import write_netcdf
from spectramind.extract.lightcurves import extract_planet
from spectramind.extract.options import ExtractionOptions
from spectramind.io import read_wavelengths

options = ExtractionOptions.from_config(snakemake.params.options)
wavelengths = read_wavelengths(Path(snakemake.input.wavelengths).parent)


def extract(unit: JobUnit) -> None:
    dataset = extract_planet(
        fgs1_files=unit["inputs"]["FGS1"],
        airs_files=unit["inputs"]["AIRS-CH0"],
        wavelengths=wavelengths,
        options=options,
    )
    write_netcdf(dataset, unit["outputs"]["lightcurves"])


run_units(snakemake, extract)
