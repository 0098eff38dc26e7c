"""Gather per-planet fits into prediction arrays (planets, 283)."""

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
