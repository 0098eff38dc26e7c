"""Score predictions of the simulated test planets against the simulator's truth."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from spectramind.evaluation.baselines import (
    best_constant_sigma,
    depth_scale,
    naive_prediction,
    public_baseline_prediction,
    white_light_depth,
)
from spectramind.evaluation.metrics import competition_score, error_summary, naive_reference
from spectramind.fit.collect import load_predictions


def evaluate(
    predictions: Mapping[str, tuple[np.ndarray, np.ndarray]],
    truth: np.ndarray,
    train_depths: np.ndarray,
    noise_floor: np.ndarray | None = None,
) -> dict[str, Any]:
    """Score, RMSE, bias, coverage and RMSE / noise floor of each named (mu, sigma)."""
    mean, std = naive_reference(train_depths)
    report: dict[str, Any] = {"n_planets": int(truth.shape[0]), "naive_mean": mean,
                              "naive_sigma": std}  # fmt: skip
    for name, (mu, sigma) in predictions.items():
        summary = error_summary(truth, mu, sigma, noise_floor).as_dict()
        summary.pop("bias_per_bin")
        report[name] = {
            "score": competition_score(truth, mu, sigma, mean, std),
            "score_unclipped": competition_score(truth, mu, sigma, mean, std, clip=False),
            **summary,
        }
    return report


def score_simulated_run(
    fit_paths: Sequence[str | Path],
    train_lightcurves: Sequence[str | Path],
    test_lightcurves: Sequence[str | Path],
    train_labels: pd.DataFrame,
    test_labels: pd.DataFrame,
    noise_floor: pd.DataFrame,
) -> dict[str, Any]:
    """Physics fit vs the naive and public baselines on the simulated test planets."""
    ids, mu, sigma = load_predictions(fit_paths)
    truth = test_labels.loc[ids].to_numpy()
    floor = noise_floor.loc[ids].to_numpy()
    train = train_labels.to_numpy()

    def white_depths(paths: Sequence[str | Path]) -> dict[int, float]:
        depths = {}
        for path in paths:
            with xr.open_dataset(path) as lc:
                depths[int(Path(path).stem)] = white_light_depth(lc)
        return depths

    train_white = white_depths(train_lightcurves)
    train_truth = train_labels.loc[list(train_white)].to_numpy()
    scale = depth_scale(train_truth, np.array(list(train_white.values())))
    sigma_public = best_constant_sigma(train_truth, scale * np.array(list(train_white.values())))
    test_white = white_depths(test_lightcurves)
    public = public_baseline_prediction(
        scale * np.array([test_white[i] for i in ids]), sigma_public
    )
    report = evaluate(
        {
            "physics_fit": (mu, sigma),
            "naive": naive_prediction(train, len(ids)),
            "public_baseline": public,
        },
        truth,
        train,
        floor,
    )
    report["public_baseline"]["constant_sigma"] = sigma_public
    report["public_baseline"]["depth_scale"] = scale
    report["planet_ids"] = ids
    return report
