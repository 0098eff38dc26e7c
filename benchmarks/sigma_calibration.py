"""Benchmark: every sigma-calibration method on top of both predictors, fitted on the
validation planets and scored on the held-out planets.

Reads what benchmarks/model.py keeps in --workdir/predictions/: for the physics fit, the
1000 train planets' cross-fitted predictions (validation) and the 200 held-out planets'
fits (test); for V50, the out-of-fold predictions of its validation planets and its test
predictions. Prints, per predictor and method: the held-out score and 68 / 95 % coverage,
and the fitting time; and the same for the physics fit with its sigma halved on both sets
(an over-confident predictor, which calibration must repair).

    python benchmarks/model.py --workdir /tmp/model_bench --n-train 1000 --n-labels 100
    python benchmarks/sigma_calibration.py --workdir /tmp/model_bench
"""

# ruff: noqa: E402 (BLAS threads are set before numpy is imported)

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from physics_fit import truth_table  # noqa: I001 (a sibling script, not a package)

from spectramind import io
from spectramind.evaluation.metrics import competition_score, error_summary, naive_reference
from spectramind.fit.collect import load_validation_predictions
from spectramind.uncertainty import METHODS, SigmaCalibrationOptions, fit_sigma_calibration


def compare(
    workdir: Path, predictor: str, naive: tuple[float, float], seed: int, sigma_factor: float = 1.0
) -> list[dict]:
    """One row per method: held-out score and coverage after fitting on validation.
    ``sigma_factor`` scales the predictor's sigma on both sets first (a stress case: 0.5 is
    an over-confident predictor that calibration must repair)."""
    _, val_mu, val_sigma, val_truth = load_validation_predictions(
        workdir / "predictions" / f"{predictor}_validation.nc"
    )
    _, mu, sigma, truth = load_validation_predictions(
        workdir / "predictions" / f"{predictor}_test.nc"
    )
    val_sigma, sigma = val_sigma * sigma_factor, sigma * sigma_factor
    name = predictor if sigma_factor == 1.0 else f"{predictor}, sigma x {sigma_factor:g}"
    mu = np.clip(mu, 0.0, None)
    wavelength = io.read_wavelengths(workdir / "raw")
    rows = []
    for method in METHODS:
        start = time.time()
        fitted = fit_sigma_calibration(SigmaCalibrationOptions(method=method), val_truth, val_mu,
                                       val_sigma, wavelength, naive, seed)  # fmt: skip
        seconds = time.time() - start
        calibrated = fitted.apply(mu, sigma)
        summary = error_summary(truth, mu, calibrated)
        rows.append({
            "predictor": name, "method": method,
            "score": competition_score(truth, mu, calibrated, *naive),
            "coverage_68": summary.coverage_68, "coverage_95": summary.coverage_95,
            "validation_planets": len(val_truth), "fit_seconds": seconds,
        })  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/model_bench"))
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    naive = naive_reference(truth_table(args.workdir, "train", "depth").to_numpy())
    rows = []
    for predictor in ("physics", "v50"):
        rows += compare(args.workdir, predictor, naive, args.seed)
    rows += compare(args.workdir, "physics", naive, args.seed, sigma_factor=0.5)
    table = pd.DataFrame(rows).set_index(["predictor", "method"])
    n_test = len(truth_table(args.workdir, "test", "depth"))
    print(f"\nSigma calibration on {n_test} held-out planets (fitted on each predictor's "
          "validation planets)")  # fmt: skip
    print(table.round(4).to_string())


if __name__ == "__main__":
    main()
