"""Snakemake adapter: the physics fit's predictions of the train planets as a test planet
would get them (spectral prior cross-fitted), with their truth: the validation set that
sigma calibration of the physics predictor is fitted on."""

from pathlib import Path

import xarray as xr

from spectramind.core.jobs import rule_job
from spectramind.core.netcdf import write_netcdf
from spectramind.fit import FitOptions
from spectramind.fit.collect import fallback_rows, load_predictors, predictions_dataset
from spectramind.fit.cross_fit import train_physics_predictions
from spectramind.guards.options import prior_conflict_p_value
from spectramind.io import read_labels, read_wavelengths

with rule_job(snakemake):
    fit_options = FitOptions.from_config(snakemake.params.fit)
    # a planet whose fit is a fallback is no measurement to calibrate sigma on
    fallback = fallback_rows(load_predictors("physics", snakemake.input.fits))
    paths = [p for p, skip in zip(snakemake.input.fits, fallback, strict=True) if not skip]
    ids = [int(Path(p).stem) for p in paths]
    fits = [xr.load_dataset(p) for p in paths]
    truth = read_labels(snakemake.input.labels).loc[ids].to_numpy()
    mu, sigma = train_physics_predictions(
        fits, truth, read_wavelengths(Path(snakemake.input.wavelengths).parent),
        fit_options,
        snakemake.params.training_cross_fit_folds, snakemake.params.seed,
        prior_conflict_p_value(snakemake.params),
    )  # fmt: skip
    write_netcdf(predictions_dataset(ids, mu.clip(0.0), sigma,
                                     "Physics fit of the train planets (cross-fitted prior)",
                                     truth), snakemake.output.validation)  # fmt: skip
