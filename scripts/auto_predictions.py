"""Snakemake adapter: predictor auto's test predictions: those of the predictor its choice
artifact names (V50's predictions file, or the physics fits), with each planet's predictor."""

from spectramind.core.jobs import rule_job
from spectramind.core.netcdf import write_netcdf
from spectramind.evaluation.predictor_choice import read_choice
from spectramind.fit.collect import load_predictor_output, load_predictors, predictions_dataset

with rule_job(snakemake):
    chosen = read_choice(snakemake.input.choice)
    paths = snakemake.input.v50 if chosen == "v50" else snakemake.input.fits
    ids, mu, sigma = load_predictor_output(chosen, paths)
    write_netcdf(
        predictions_dataset(ids, mu, sigma, f"auto ({chosen}) test predictions",
                            predictors=load_predictors(chosen, paths)),
        snakemake.output.predictions,
    )  # fmt: skip
