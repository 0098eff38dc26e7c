"""Snakemake adapter: extract planets' light curves (one per unit) from calibrated visits; a
planet whose extraction raises, or with a calibrated visit that is a failure record, gets a
failure record instead (guards.failed_planet_fallback)."""

from pathlib import Path

from spectramind.core.failure import UpstreamFailure, first_failure
from spectramind.core.netcdf import write_netcdf
from spectramind.core.units import run_units
from spectramind.extract.lightcurves import extract_planet
from spectramind.extract.options import ExtractionOptions
from spectramind.io import read_wavelengths
from spectramind.workflow import EXTRACT, PlanetUnit
from spectramind.workflow.stages import visits_by_instrument

options = ExtractionOptions.from_config(snakemake.params.extraction)
wavelengths = read_wavelengths(Path(snakemake.input.wavelengths).parent)


def extract(unit: PlanetUnit, outputs: dict[str, str]) -> None:
    visits = visits_by_instrument(snakemake.input.calibrated, unit)
    failure = first_failure(path for files in visits.values() for path in files)
    if failure is not None:
        raise UpstreamFailure(failure)
    dataset = extract_planet(
        fgs1_files=visits["FGS1"],
        airs_files=visits["AIRS-CH0"],
        wavelengths=wavelengths,
        options=options,
    )
    write_netcdf(dataset, outputs["lightcurves"])


run_units(snakemake, EXTRACT, extract, snakemake.params.guards_failed_planet_fallback)
