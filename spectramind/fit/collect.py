"""Gather predictions into arrays (planets, 283): the per-planet physics fits, or the
V50 model's predictions file (rule predict)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr


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
