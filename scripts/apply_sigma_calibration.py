"""Snakemake adapter: the test predictions (physics fits or V50) with calibrated sigma, in
one predictions file for the submission."""

from spectramind.core.jobs import rule_job
from spectramind.core.netcdf import write_netcdf
from spectramind.fit.collect import load_predictor_output, predictions_dataset
from spectramind.uncertainty import load_sigma_calibration

with rule_job(snakemake):
    ids, mu, sigma = load_predictor_output(snakemake.params.predictor, snakemake.input.predictions)
    calibration = load_sigma_calibration(snakemake.input.calibration)
    write_netcdf(
        predictions_dataset(ids, mu, calibration.apply(mu, sigma),
                            f"{snakemake.params.predictor} predictions, sigma calibrated "
                            f"({calibration.method})"),
        snakemake.output.predictions,
    )  # fmt: skip
