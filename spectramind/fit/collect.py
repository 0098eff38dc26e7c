"""Gather predictions into arrays (planets, 283): the per-planet physics fits, or the
V50 model's predictions file (rule predict)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from spectramind.guards import FALLBACK_PREDICTORS, GuardRecord
from spectramind.workflow.config_keys import PREDICTION_FILES


def load_predictions(paths: Sequence[str | Path]) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Planet ids (from the file names), depths clipped at 0, and sigmas."""
    ids, mu, sigma = [], [], []
    for path in paths:
        with xr.open_dataset(path) as fit:
            ids.append(int(Path(path).stem))
            mu.append(np.clip(fit["depth"].values, 0.0, None))
            sigma.append(fit["sigma"].values)
    return ids, np.array(mu), np.array(sigma)


def load_model_predictions(path: str | Path) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Planet ids, depths and sigmas of the V50 model's predictions file."""
    with xr.open_dataset(path) as predictions:
        return (
            [int(i) for i in predictions["planet"].values],
            predictions["depth"].values,
            predictions["sigma"].values,
        )


def load_predictor_output(
    predictor: str, paths: Sequence[str | Path]
) -> tuple[list[int], np.ndarray, np.ndarray]:
    """A predictor's test predictions: a predictions file (V50's, or auto's), or the physics
    fits."""
    if predictor in PREDICTION_FILES:
        return load_model_predictions(paths[0])
    return load_predictions(paths)


def load_predictors(predictor: str, paths: Sequence[str | Path]) -> list[str]:
    """What made each planet's values in ``load_predictor_output``: the V50 predictions
    file's ``predictor`` variable (all "v50" in a file without it), or each fit's guard
    record (the physics fit, or a fallback)."""
    if predictor in PREDICTION_FILES:
        with xr.open_dataset(paths[0]) as predictions:
            if "predictor" in predictions:
                return [str(p) for p in predictions["predictor"].values]
            return ["v50"] * predictions.sizes["planet"]
    names = []
    for path in paths:
        with xr.open_dataset(path) as fit:
            names.append(GuardRecord.from_attrs(dict(fit.attrs)).predictor)
    return names


def fallback_rows(predictors: Sequence[str]) -> np.ndarray:
    """Boolean mask of the planets whose values are a fallback, not a measurement."""
    return np.array([name in FALLBACK_PREDICTORS for name in predictors], dtype=bool)


def predictions_dataset(
    ids: Sequence[int],
    mu: np.ndarray,
    sigma: np.ndarray,
    title: str,
    truth: np.ndarray | None = None,
    predictors: Sequence[str] | None = None,
) -> xr.Dataset:
    """Predictions (planets, 283) as a dataset with ``depth`` and ``sigma`` (and ``truth``
    for validation planets, ``predictor`` when planets came from different predictors): the
    one file format of rule predict, of the validation predictions and of the calibrated
    predictions."""
    dims = ("planet", "channel")
    variables = {"depth": (dims, np.asarray(mu)), "sigma": (dims, np.asarray(sigma))}
    if truth is not None:
        variables["truth"] = (dims, np.asarray(truth))
    if predictors is not None:
        variables["predictor"] = ("planet", np.asarray(predictors, dtype=str))
    coords = {"planet": np.asarray(ids, dtype=np.int64), "channel": np.arange(np.shape(mu)[1])}
    return xr.Dataset(variables, coords=coords, attrs={"title": title})


def load_validation_predictions(
    path: str | Path,
) -> tuple[list[int], np.ndarray, np.ndarray, np.ndarray]:
    """Planet ids, depths, sigmas and true depths of a validation predictions file."""
    with xr.open_dataset(path) as predictions:
        if "truth" not in predictions:
            raise ValueError(f"{path}: no 'truth' variable: not a validation predictions file")
        ids, mu, sigma = load_model_predictions(path)
        return ids, mu, sigma, predictions["truth"].values
