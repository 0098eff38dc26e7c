"""Snakemake adapter: gather the test-planet fits into a validated submission.csv + zip."""

from pathlib import Path

import pandas as pd

from spectramind.core.jobs import rule_job
from spectramind.fit.collect import load_predictions
from spectramind.io import read_star_info
from spectramind.submission import write_validated_submission

with rule_job(snakemake):
    ids, mu, sigma = load_predictions(snakemake.input.fits)
    write_validated_submission(
        ids,
        mu,
        sigma,
        columns=list(pd.read_csv(snakemake.input.sample, nrows=0).columns),
        test_ids=read_star_info(Path(snakemake.input.sample).parent, "test").index,
        csv_path=snakemake.output.csv,
        zip_path=snakemake.output.zip,
    )
