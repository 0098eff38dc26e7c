"""What the workflow learns from the training planets, kept as small JSON artifacts.

Inference reads these instead of the train split, so it runs on a test-only raw root (a
cut-down Kaggle input, or a user who trained elsewhere) and never touches train planets.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spectramind.evaluation.baselines import best_constant_sigma, depth_scale, white_light_depths
from spectramind.evaluation.metrics import naive_reference


class ArtifactError(ValueError):
    """A trained artifact is missing or malformed; the message names the file."""


def learn_naive_reference(train_labels: pd.DataFrame) -> dict[str, Any]:
    """The score's zero point (mean and std of every training depth) as an artifact."""
    mean, sigma = naive_reference(train_labels.to_numpy())
    return {"mean": mean, "sigma": sigma, "n_planets": len(train_labels)}


def learn_public_baseline(
    train_lightcurves: Sequence[str | Path], train_labels: pd.DataFrame
) -> dict[str, Any]:
    """The public baseline's two trained numbers: the white-light depth scale and the
    constant sigma that scores best on the training planets."""
    white = white_light_depths(train_lightcurves)
    truth = train_labels.loc[list(white)].to_numpy()
    depths = np.array(list(white.values()))
    scale = depth_scale(truth, depths)
    sigma = best_constant_sigma(truth, scale * depths)
    return {"depth_scale": scale, "constant_sigma": sigma, "n_planets": len(white)}


def read_artifact(path: str | Path, keys: Sequence[str]) -> dict[str, Any]:
    """Read a JSON artifact and check it holds finite numbers under ``keys``."""
    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"{path}: artifact not found (built from the train split)")
    try:
        record = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ArtifactError(f"{path}: not a readable JSON artifact: {err}") from err
    bad = [k for k in keys if not isinstance(record.get(k), int | float)]
    if bad or not np.isfinite([record[k] for k in keys if k not in bad]).all():
        raise ArtifactError(f"{path}: artifact lacks finite values for {bad or list(keys)}")
    return record
