"""Snakemake adapter: calibrate one visit of one instrument into a netCDF dataset."""

from pathlib import Path

from spectramind.calibrate import CalibrationOptions, calibrate_visit
from spectramind.core.jobs import rule_job
from spectramind.core.netcdf import write_netcdf

with rule_job(snakemake):
    dataset = calibrate_visit(
        root=Path(snakemake.input.adc).parent,
        split=snakemake.wildcards.split,
        planet_id=int(snakemake.wildcards.planet_id),
        instrument=snakemake.wildcards.instrument,
        visit=int(snakemake.wildcards.visit),
        options=CalibrationOptions.from_config(snakemake.params.options),
    )
    write_netcdf(dataset, snakemake.output.dataset)
