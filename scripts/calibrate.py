"""Snakemake adapter: calibrate visits (one per unit) into netCDF datasets; a visit whose
calibration raises gets a failure record instead (guards.failed_planet_fallback)."""

from pathlib import Path

from spectramind.calibrate import CalibrationOptions, calibrate_visit
from spectramind.core.netcdf import write_netcdf
from spectramind.core.units import run_units
from spectramind.io import read_adc_info, read_axis_info
from spectramind.workflow import CALIBRATE, VisitUnit

options = CalibrationOptions.from_config(snakemake.params.calibration)
root = Path(snakemake.input.adc).parent
# The raw root's tables serve every planet: one that cannot be read fails the job here,
# before any unit, not each planet alone.
read_adc_info(root)
read_axis_info(root)


def calibrate(unit: VisitUnit, outputs: dict[str, str]) -> None:
    dataset = calibrate_visit(root, unit.split, unit.planet_id, unit.instrument, unit.visit,
                              options=options)  # fmt: skip
    write_netcdf(dataset, outputs["dataset"])


run_units(snakemake, CALIBRATE, calibrate, snakemake.params.guards_failed_planet_fallback)
