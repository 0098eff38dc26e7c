"""Where things are in a bundle and on Kaggle (standard library only: the Snakefile imports
this module in every job, and the notebooks' first command runs before any install)."""

from __future__ import annotations

import os
from pathlib import Path

from spectramind.workflow.config_keys import PREDICTION_FILES

KAGGLE_INPUT = "/kaggle/input"
# The workflow's own files a bundle copies (config/config.yaml is written, not copied: the
# training run's effective config, so inference fits with the settings the priors assume).
SOURCES = (
    "Snakefile",
    "pyproject.toml",
    "requirements/lock.txt",
    "README.md",
    "config/schema.yaml",
    "rules",
    "scripts",
    "spectramind",
    "report",
    "envs",
    "profiles/kaggle",
    "kaggle",
)
CONFIG = "config/config.yaml"
PROFILE = "profiles/kaggle"
ARTIFACTS = "artifacts"
WHEELHOUSE = "wheelhouse"
WHEELHOUSE_MANIFEST = "wheelhouse.json"
REQUIREMENTS = "requirements.txt"
# The tested versions of the whole stack (pip's requirements format), which the wheelhouse
# prefers where the image allows.
LOCK = "requirements/lock.txt"
MANIFEST = "bundle.json"
DATASET_METADATA = "dataset-metadata.json"
SKIPPED = ("__pycache__", ".pyc", ".ipynb_checkpoints")


def source_files(root: str | Path) -> list[str]:
    """Every file of ``SOURCES`` under the workflow folder ``root`` (absolute paths, sorted),
    without hidden files and Python caches."""
    root = Path(root)
    files = []
    for name in SOURCES:
        path = root / name
        if path.is_file():
            files.append(path)
            continue
        for folder, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED)
            files += [Path(folder, n) for n in names if not n.startswith(".")]
    return sorted(str(f) for f in files if not f.name.endswith(SKIPPED))


def install_command(bundle: str | Path) -> list[str]:
    """The one-line offline install of a bundle's wheelhouse (after ``python -m``)."""
    wheelhouse = Path(bundle) / WHEELHOUSE
    return [
        "pip", "install", "--no-index", "--find-links", str(wheelhouse),
        "-r", str(wheelhouse / REQUIREMENTS),
    ]  # fmt: skip


def inference_artifacts(predictor: str) -> list[str]:
    """What inference reads from artifacts_dir besides the fit's priors (which the fit
    options select): the fallbacks (naive reference, prior predictive), the sigma
    calibration, the V50 model, auto's choice."""
    names = ["naive_reference.json", "prior_predictive.json", "sigma_calibration.json"]
    model = ["model/checkpoint.pt"] if predictor in PREDICTION_FILES else []
    choice = ["predictor_choice.json"] if predictor == "auto" else []
    return [*names, *model, *choice]
