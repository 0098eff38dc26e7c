"""Snakemake adapter: learn the prior predictive (a planet's depths from its star row alone,
the no-transit fallback) from the train labels and star table into the artifacts."""

import logging
from pathlib import Path

from spectramind.core.atomic import write_json_atomic
from spectramind.core.jobs import rule_job
from spectramind.guards.prior_predictive import learn_prior_predictive
from spectramind.io import read_labels, read_star_info

with rule_job(snakemake):
    labels = read_labels(snakemake.input.labels)
    stars = read_star_info(Path(snakemake.input.stars).parent, "train")
    prior = learn_prior_predictive(labels, stars, snakemake.params.guards_exclude_from_training)
    logging.info(
        "prior predictive from %d planets: level by %s (leave-one-out RMS of log level %.3f, "
        "plain mean %.3f), sigma x %.2f",
        prior.n_planets,
        prior.method,
        prior.loo_rmse,
        prior.loo_rmse_mean,
        prior.sigma_scale,
    )
    write_json_atomic(snakemake.output.prior, prior.to_dict())
