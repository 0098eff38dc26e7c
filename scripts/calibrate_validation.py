"""Snakemake adapter: the validation planets' predictions with the sigma calibration fitted
on them applied (in sample), for the diagnostics of a run without simulated truth."""

from spectramind.core.jobs import rule_job
from spectramind.core.netcdf import write_netcdf
from spectramind.fit.collect import load_validation_predictions, predictions_dataset
from spectramind.uncertainty import load_sigma_calibration

with rule_job(snakemake):
    ids, mu, sigma, truth = load_validation_predictions(snakemake.input.validation)
    calibration = load_sigma_calibration(snakemake.input.calibration)
    mu = mu.clip(0.0)
    calibrated = predictions_dataset(
        ids, mu, calibration.apply(mu, sigma),
        f"validation planets, sigma calibrated in sample ({calibration.method})", truth,
    )  # fmt: skip
    calibrated["sigma_uncalibrated"] = (("planet", "channel"), sigma)
    write_netcdf(calibrated, snakemake.output.validation)
