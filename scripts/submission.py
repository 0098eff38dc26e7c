"""Snakemake adapter: the test planets' sigma-calibrated predictions (physics fit or V50,
config predictor) into a validated submission.csv + zip."""

import logging
from pathlib import Path

import pandas as pd

from spectramind.core.jobs import rule_job
from spectramind.evaluation.artifacts import read_artifact
from spectramind.fit.collect import load_model_predictions
from spectramind.io import read_star_info
from spectramind.submission import write_validated_submission
from spectramind.submission.fallback import complete_with_naive

with rule_job(snakemake):
    test_ids = read_star_info(Path(snakemake.input.stars).parent, "test").index
    naive = read_artifact(snakemake.input.naive, ("mean", "sigma"))
    predictions = load_model_predictions(snakemake.input.predictions)
    ids, mu, sigma, filled = complete_with_naive(*predictions, test_ids, naive)
    if filled:
        logging.warning(
            "%d test planet(s) have no fit (excluded by check_raw) and get the naive "
            "prediction: %s",
            len(filled),
            filled,
        )
    write_validated_submission(
        ids,
        mu,
        sigma,
        columns=list(pd.read_csv(snakemake.input.sample, nrows=0).columns),
        test_ids=test_ids,
        csv_path=snakemake.output.csv,
        zip_path=snakemake.output.zip,
    )
