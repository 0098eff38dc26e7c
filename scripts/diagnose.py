"""Snakemake adapter: error tables and figures of the submitted predictions (before and
after sigma calibration) on planets with known truth: the simulated test planets, or on a
real root the validation planets."""

import json
from pathlib import Path
from typing import Any

import xarray as xr

from spectramind.core.jobs import rule_job
from spectramind.diagnostics.diagnose import (
    EvaluatedPredictions,
    LightCurveExample,
    write_diagnostics,
)
from spectramind.evaluation.artifacts import read_artifact
from spectramind.fit.collect import (
    load_model_predictions,
    load_predictor_output,
)
from spectramind.io import read_labels, read_star_info, read_wavelengths
from spectramind.io.exact_csv import read_csv


def evaluated(inputs: Any) -> EvaluatedPredictions:
    """Test planets with the simulator's truth, else the validation planets."""
    if "test_labels" in inputs.keys():
        ids, mu, sigma = load_model_predictions(inputs.calibrated)
        _, _, sigma_before = load_predictor_output(snakemake.params.predictor, inputs.uncalibrated)
        floors = [read_csv(path).set_index("planet_id").loc[ids].to_numpy()
                  for path in (inputs.noise_floor, inputs.marginalised_floor)]  # fmt: skip
        truth = read_labels(inputs.test_labels).loc[ids].to_numpy()
        return EvaluatedPredictions(ids, truth, mu, sigma_before, sigma,
                                    "held-out test planets (simulator truth)", *floors)  # fmt: skip
    with xr.load_dataset(inputs.validation) as validation:  # calibrate_validation's file
        ids = [int(i) for i in validation["planet"].values]
        names = ("truth", "depth", "sigma", "sigma_uncalibrated")
        truth, mu, sigma, sigma_before = (validation[name].values for name in names)
    described = "validation planets (the calibration's own: optimistic)"
    return EvaluatedPredictions(ids, truth, mu, sigma_before, sigma, described)


with rule_job(snakemake):
    inputs = snakemake.input
    naive = read_artifact(inputs.naive, ("mean", "sigma"))
    fit = xr.load_dataset(inputs.example_fit)
    planet = int(Path(inputs.example_fit).stem)
    # The example planet's stars: <root>/<split>_star_info.csv, its split the fit's folder.
    star = read_star_info(Path(inputs.example_stars).parent, Path(inputs.example_fit).parent.name)
    example = LightCurveExample(xr.load_dataset(inputs.example_lightcurve), fit,
                                float(star.loc[planet]["P"]))  # fmt: skip
    write_diagnostics(
        Path(snakemake.output.summary).parent, evaluated(inputs),
        read_wavelengths(Path(inputs.wavelengths).parent), (naive["mean"], naive["sigma"]),
        json.loads(Path(inputs.calibration).read_text())["method"], example,
    )  # fmt: skip
