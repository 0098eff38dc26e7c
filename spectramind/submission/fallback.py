"""Keep a submission complete when some test planets have no prediction.

Kaggle rejects a submission without a row for every test planet. A planet excluded by the
raw-data check (or, later, stopped by a runtime guard) gets the naive reference, the score's
zero point, in every bin: it costs that planet's score but keeps the rest valid.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from spectramind.guards.fallback import naive_prediction


def complete_with_naive(
    planet_ids: list[int],
    mu: np.ndarray,
    sigma: np.ndarray,
    test_ids: Iterable[int],
    naive: Mapping[str, float],
) -> tuple[list[int], np.ndarray, np.ndarray, list[int]]:
    """Rows for every test planet in ``test_ids`` order: the given predictions, and the
    naive reference for the planets without one (returned last, as ``filled``)."""
    known = {pid: k for k, pid in enumerate(planet_ids)}
    ids = [int(pid) for pid in test_ids]
    filled = [pid for pid in ids if pid not in known]
    naive_mu, naive_sigma = naive_prediction(naive["mean"], naive["sigma"], 1, mu.shape[1])
    rows = [known.get(pid) for pid in ids]
    full_mu = np.array([mu[k] if k is not None else naive_mu[0] for k in rows])
    full_sigma = np.array([sigma[k] if k is not None else naive_sigma[0] for k in rows])
    return ids, full_mu, full_sigma, filled
