"""Snakemake adapter: fit the configured sigma calibration on the predictor's validation
planets and keep it as an artifact."""

from pathlib import Path

from spectramind.core.jobs import rule_job
from spectramind.evaluation.artifacts import read_artifact
from spectramind.fit.collect import load_validation_predictions
from spectramind.io import read_wavelengths
from spectramind.uncertainty import (
    SigmaCalibrationOptions,
    fit_sigma_calibration,
    identity_sigma_calibration,
    save_sigma_calibration,
)

with rule_job(snakemake):
    options = SigmaCalibrationOptions.from_config(snakemake.params.sigma_calibration)
    if not snakemake.input.validation:  # method none: nothing to fit
        fitted = identity_sigma_calibration()
    else:
        _, mu, sigma, truth = load_validation_predictions(snakemake.input.validation[0])
        naive = read_artifact(snakemake.input.naive, ("mean", "sigma"))
        fitted = fit_sigma_calibration(
            options, truth, mu, sigma,
            read_wavelengths(Path(snakemake.input.wavelengths).parent),
            (naive["mean"], naive["sigma"]), snakemake.params.seed,
        )  # fmt: skip
    save_sigma_calibration(snakemake.output.calibration, fitted)
