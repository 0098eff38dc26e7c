"""Snakemake adapter: the raw and the calibrated frames of one planet's visit 0 as figures
(spectramind.diagnostics.frames does the work).

What the rule passes:

input:
    raw_planet: the raw planet folder <root>/<split>/<planet_id> (its path names the
        planet; the signals are found from the raw root)
    adc: adc_info.csv of the raw root (its folder is the raw root, as in scripts/calibrate.py)
    axis: axis_info.parquet of the raw root
    calibrated: the calibrated netCDF files of visit 0, FGS1 then AIRS-CH0 (either a failure
        record: both figures say why, and the raw visit is not read)
output:
    raw, calibrated: the figures as PNG; the SVG is written beside each (same stem, .svg)
    manifest: the run's provenance (rule_job)
log: the rule's log file (rule_job)
"""

from pathlib import Path

import xarray as xr

from spectramind.core.failure import first_failure
from spectramind.core.jobs import rule_job
from spectramind.diagnostics.figures import failure_figure, save_figure
from spectramind.diagnostics.frames import calibrated_frames, raw_frames, read_raw_visit


def draw(root: Path, planet: Path) -> None:
    """The raw and the calibrated frames of visit 0."""
    raw = read_raw_visit(root, planet.parent.name, int(planet.name), visit=0)
    # save_figure swaps the suffix: the PNG path is the stem, the SVG lands beside it.
    save_figure(raw_frames(raw), Path(snakemake.output.raw))
    fgs1_path, airs_path = snakemake.input.calibrated
    with xr.open_dataset(fgs1_path) as fgs1, xr.open_dataset(airs_path) as airs:
        figure = calibrated_frames(fgs1, airs)
    save_figure(figure, Path(snakemake.output.calibrated))


with rule_job(snakemake):
    failure = first_failure(snakemake.input.calibrated)
    if failure is None:
        draw(Path(snakemake.input.adc).parent, Path(snakemake.input.raw_planet))
    else:  # the example planet failed in calibrate: both figures say why, nothing is read
        for name in ("raw", "calibrated"):
            figure = failure_figure(f"{name.capitalize()} frames: the example planet failed",
                                    failure.reason)  # fmt: skip
            save_figure(figure, Path(getattr(snakemake.output, name)))
