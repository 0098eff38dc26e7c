"""Snakemake adapter: predictor auto's choice between the physics fit and V50 by their
out-of-fold scores on the train planets (an artifact), and the chosen one's validation
planets, which sigma calibration is fitted on."""

import logging

from spectramind.core.atomic import write_json_atomic
from spectramind.core.jobs import rule_job
from spectramind.core.netcdf import write_netcdf
from spectramind.evaluation.artifacts import read_artifact
from spectramind.evaluation.predictor_choice import choose_predictor
from spectramind.fit.collect import load_validation_predictions, predictions_dataset

log = logging.getLogger("spectramind")

with rule_job(snakemake):
    validation = {
        name: load_validation_predictions(snakemake.input[name]) for name in ("physics", "v50")
    }
    naive = read_artifact(snakemake.input.naive, ("mean", "sigma"))
    choice = choose_predictor(validation, naive)
    log.info("predictor auto: %s (%s; scores %s)", choice["predictor"], choice["reason"],
             choice["scores"])  # fmt: skip
    write_json_atomic(snakemake.output.choice, choice)
    ids, mu, sigma, truth = validation[choice["predictor"]]
    write_netcdf(
        predictions_dataset(ids, mu, sigma, f"auto ({choice['predictor']}) validation planets",
                            truth),
        snakemake.output.validation,
    )  # fmt: skip
