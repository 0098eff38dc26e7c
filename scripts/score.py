"""Snakemake adapter: score the simulated test planets (the submission's predictor, the
physics fit and the baselines)."""

import pandas as pd

from spectramind.core.atomic import write_json_atomic
from spectramind.core.jobs import rule_job
from spectramind.evaluation.artifacts import read_artifact
from spectramind.evaluation.scoring import score_simulated_run
from spectramind.io import read_labels

with rule_job(snakemake):
    report = score_simulated_run(
        submission=snakemake.input.submission,
        test_lightcurves=snakemake.input.test_lightcurves,
        naive=read_artifact(snakemake.input.naive, ("mean", "sigma")),
        public_baseline=read_artifact(
            snakemake.input.public_baseline, ("depth_scale", "constant_sigma")
        ),
        test_labels=read_labels(snakemake.input.test_labels),
        noise_floor=pd.read_csv(snakemake.input.noise_floor).set_index("planet_id"),
        marginalised_floor=pd.read_csv(snakemake.input.marginalised_floor).set_index("planet_id"),
        predictor="physics_fit" if snakemake.params.predictor == "physics" else "v50",
        physics_fits=snakemake.input.physics_fits,
    )
    write_json_atomic(snakemake.output.score, report)
