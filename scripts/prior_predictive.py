"""Snakemake adapter: learn the prior predictive (a planet's depths from its star row alone,
the no-transit fallback) from the train labels and star table into the artifacts."""

import logging
from pathlib import Path

from spectramind.core.atomic import write_json_atomic
from spectramind.core.jobs import rule_job
from spectramind.guards.prior_predictive import prior_predictive_record
from spectramind.io import read_labels, read_star_info

with rule_job(snakemake):
    labels = read_labels(snakemake.input.labels)
    stars = read_star_info(Path(snakemake.input.stars).parent, "train")
    record = prior_predictive_record(labels, stars, snakemake.params.guards_exclude_from_training)
    if "unlearned" in record:
        logging.warning("no prior predictive (%s): the naive reference is the fallback",
                        record["unlearned"])  # fmt: skip
    else:
        logging.info(
            "prior predictive from %d planets: level by %s (leave-one-out RMS of log level "
            "%.3f, plain mean %.3f), sigma x %.2f",
            record["n_planets"], record["method"], record["loo_rmse"], record["loo_rmse_mean"],
            record["sigma_scale"],
        )  # fmt: skip
    write_json_atomic(snakemake.output.prior, record)
