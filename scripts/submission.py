"""Snakemake adapter: the test planets' sigma-calibrated predictions (physics fit or V50,
config predictor) into a validated submission.csv + zip; a test planet without a prediction
gets the fallback (prior predictive from its star row, else naive)."""

import logging
from collections import Counter
from pathlib import Path

import pandas as pd

from spectramind.core.jobs import rule_job
from spectramind.evaluation.artifacts import read_artifact
from spectramind.fit.collect import load_model_predictions
from spectramind.guards.fallback import complete_with_fallback
from spectramind.guards.prior_predictive import read_prior_predictive
from spectramind.io import read_star_info
from spectramind.submission import write_validated_submission

with rule_job(snakemake):
    stars = read_star_info(Path(snakemake.input.stars).parent, "test")
    naive = read_artifact(snakemake.input.naive, ("mean", "sigma"))
    prior = read_prior_predictive(snakemake.input.prior)
    predictions = load_model_predictions(snakemake.input.predictions)
    ids, mu, sigma, filled = complete_with_fallback(*predictions, stars.index, stars, prior, naive)
    if filled:
        logging.warning(
            "%d test planet(s) have no prediction (excluded by check_raw) and get the "
            "fallback (%s): %s",
            len(filled),
            ", ".join(f"{n} {name}" for name, n in Counter(filled.values()).items()),
            sorted(filled),
        )
    write_validated_submission(
        ids,
        mu,
        sigma,
        columns=list(pd.read_csv(snakemake.input.sample, nrows=0).columns),
        test_ids=stars.index,
        csv_path=snakemake.output.csv,
        zip_path=snakemake.output.zip,
    )
