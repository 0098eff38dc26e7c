"""Snakemake adapter: calibrate visits (one per unit) into netCDF datasets."""

from pathlib import Path

from spectramind.calibrate import CalibrationOptions, calibrate_visit
from spectramind.core.jobs import run_units
from spectramind.core.netcdf import write_netcdf
from spectramind.workflow import CALIBRATE, VisitUnit

options = CalibrationOptions.from_config(snakemake.params.calibration)
root = Path(snakemake.input.adc).parent


def calibrate(unit: VisitUnit, outputs: dict[str, str]) -> None:
    dataset = calibrate_visit(root, unit.split, unit.planet_id, unit.instrument, unit.visit,
                              options=options)  # fmt: skip
    write_netcdf(dataset, outputs["dataset"])


run_units(snakemake, CALIBRATE, calibrate)
