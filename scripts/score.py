"""Snakemake adapter: score the simulated test planets (physics fit and baselines)."""

import pandas as pd

from spectramind.core.atomic import write_json_atomic
from spectramind.core.jobs import rule_job
from spectramind.evaluation.scoring import score_simulated_run
from spectramind.io import read_labels

with rule_job(snakemake):
    report = score_simulated_run(
        fit_paths=snakemake.input.fits,
        train_lightcurves=snakemake.input.train_lightcurves,
        test_lightcurves=snakemake.input.test_lightcurves,
        train_labels=read_labels(snakemake.input.train_labels),
        test_labels=read_labels(snakemake.input.test_labels),
        noise_floor=pd.read_csv(snakemake.input.noise_floor).set_index("planet_id"),
    )
    write_json_atomic(snakemake.output.score, report)
