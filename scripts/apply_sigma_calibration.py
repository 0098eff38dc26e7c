"""Snakemake adapter: the test predictions (physics fits or V50) with calibrated sigma, in
one predictions file for the submission. A fallback planet's sigma is kept: the calibration
was fitted on measured planets."""

from spectramind.core.jobs import rule_job
from spectramind.core.netcdf import write_netcdf
from spectramind.fit.collect import (
    fallback_rows,
    load_predictor_output,
    load_predictors,
    predictions_dataset,
)
from spectramind.uncertainty import load_sigma_calibration

with rule_job(snakemake):
    predictor, paths = snakemake.params.predictor, snakemake.input.predictions
    ids, mu, sigma = load_predictor_output(predictor, paths)
    predictors = load_predictors(predictor, paths)
    measured = ~fallback_rows(predictors)
    calibration = load_sigma_calibration(snakemake.input.calibration)
    calibrated = sigma.copy()
    if measured.any():
        calibrated[measured] = calibration.apply(mu[measured], sigma[measured])
    write_netcdf(
        predictions_dataset(ids, mu, calibrated,
                            f"{predictor} predictions, sigma calibrated ({calibration.method})",
                            predictors=predictors),
        snakemake.output.predictions,
    )  # fmt: skip
