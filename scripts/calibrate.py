"""Snakemake adapter: calibrate visits (one per unit) into netCDF datasets."""

from pathlib import Path

from spectramind.calibrate import CalibrationOptions, calibrate_visit
from spectramind.core.jobs import JobUnit, run_units
from spectramind.core.netcdf import write_netcdf

options = CalibrationOptions.from_config(snakemake.params.options)


def calibrate(unit: JobUnit) -> None:
    wildcards = unit["wildcards"]
    dataset = calibrate_visit(
        root=Path(snakemake.input.adc).parent,
        split=wildcards["split"],
        planet_id=int(wildcards["planet_id"]),
        instrument=wildcards["instrument"],
        visit=int(wildcards["visit"]),
        options=options,
    )
    write_netcdf(dataset, unit["outputs"]["dataset"])


run_units(snakemake, calibrate)
