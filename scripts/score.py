"""Snakemake adapter: score the simulated test planets (the submission's predictor before
and after sigma calibration, the physics fit and the baselines), each planet's score and the
worst planets with their guard state."""

from spectramind.core.atomic import write_json_atomic
from spectramind.core.jobs import rule_job
from spectramind.diagnostics.guards import planet_guards, predictor_name
from spectramind.evaluation.artifacts import read_artifact
from spectramind.evaluation.scoring import score_simulated_run
from spectramind.fit.collect import load_predictions, load_predictor_output
from spectramind.io import read_labels
from spectramind.io.exact_csv import read_csv

with rule_job(snakemake):
    predictor = snakemake.params.predictor
    name = predictor_name(predictor)
    others = {
        f"{name}_uncalibrated": load_predictor_output(predictor, snakemake.input.uncalibrated)
    }
    if snakemake.input.physics_fits:
        others["physics_fit"] = load_predictions(snakemake.input.physics_fits)
    guards = planet_guards(
        snakemake.input.guard_fits, predictor, next(iter(snakemake.input.guard_predictions), None)
    )
    report = score_simulated_run(
        submission=snakemake.input.submission,
        test_lightcurves=snakemake.input.test_lightcurves,
        naive=read_artifact(snakemake.input.naive, ("mean", "sigma")),
        public_baseline=read_artifact(
            snakemake.input.public_baseline, ("depth_scale", "constant_sigma")
        ),
        test_labels=read_labels(snakemake.input.test_labels),
        noise_floor=read_csv(snakemake.input.noise_floor).set_index("planet_id"),
        marginalised_floor=read_csv(snakemake.input.marginalised_floor).set_index("planet_id"),
        predictor=name,
        others=others,
        guards=guards,
    )
    write_json_atomic(snakemake.output.score, report)
