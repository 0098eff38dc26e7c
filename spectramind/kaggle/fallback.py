"""The submission written when the full run cannot finish (the runtime guard stopped it,
the watchdog's deadline came, or Snakemake failed): the physics fits of the planets done,
the fallback (spectramind.guards.fallback) for every other test planet: the prior predictive
when the artifacts hold it, else the naive reference. Validated like any submission, so
Kaggle scores it instead of failing the notebook.

The fits are submitted as fitted: the sigma calibration artifact belongs to the configured
predictor, which may be the V50 model, not to the fit alone.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from spectramind.evaluation.artifacts import read_artifact
from spectramind.fit.collect import load_predictions
from spectramind.guards.fallback import complete_with_fallback
from spectramind.guards.prior_predictive import PriorPredictive, read_prior_predictive
from spectramind.io import read_star_info
from spectramind.io.layout import N_TARGETS
from spectramind.submission import write_validated_submission

log = logging.getLogger(__name__)


def fit_file(working: str | Path, planet_id: int) -> Path:
    """A test planet's physics fit in the workflow's working folder."""
    return Path(working) / "results" / "fit" / "test" / f"{planet_id}.nc"


def fitted_planets(working: str | Path, planet_ids: list[int]) -> list[int]:
    """The planets whose fit exists (fits are written atomically: one there is complete)."""
    return [pid for pid in planet_ids if fit_file(working, pid).is_file()]


def prior_predictive(artifacts: str | Path) -> PriorPredictive | None:
    """The artifacts' prior predictive; None (the naive fallback) when the bundle has none
    or it is unreadable: this submission is the last resort and must not fail on it."""
    path = Path(artifacts) / "prior_predictive.json"
    if not path.is_file():
        return None
    try:
        return read_prior_predictive(path)
    except ValueError as err:
        log.warning("fallback submission: %s; the naive prediction instead", err)
        return None


def write_fallback_submission(
    working: str | Path,
    competition: str | Path,
    artifacts: str | Path,
    csv_path: str | Path,
    zip_path: str | Path,
) -> dict[int, str]:
    """Write and validate the fallback submission; return the planets without a fit and
    the predictor each got (prior_predictive or naive)."""
    stars = read_star_info(competition, "test")
    test_ids = list(stars.index)
    fits = fitted_planets(working, test_ids)
    if fits:
        ids, mu, sigma = load_predictions([fit_file(working, pid) for pid in fits])
    else:
        ids, mu, sigma = [], np.empty((0, N_TARGETS)), np.empty((0, N_TARGETS))
    naive = read_artifact(Path(artifacts) / "naive_reference.json", ("mean", "sigma"))
    prior = prior_predictive(artifacts)
    ids, mu, sigma, filled = complete_with_fallback(ids, mu, sigma, test_ids, stars, prior, naive)
    columns = list(pd.read_csv(Path(competition) / "sample_submission.csv", nrows=0).columns)
    write_validated_submission(ids, mu, sigma, columns, test_ids, csv_path, zip_path)
    counts = Counter(filled.values())
    log.warning(
        "fallback submission %s: %d planet(s) fitted, %d with the prior predictive, %d with "
        "the naive prediction",
        csv_path,
        len(fits),
        counts["prior_predictive"],
        counts["naive"],
    )
    return filled
