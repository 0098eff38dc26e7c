"""Which bins belong to which instrument, and checks of the validation arrays."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

FGS1_BIN = 0  # the score's first target is FGS1's white light; the 282 AIRS-CH0 bins follow


def instrument_of_bins(n_bins: int) -> np.ndarray:
    """Group index of each bin: 0 for FGS1 (bin 0), 1 for AIRS-CH0."""
    groups = np.ones(n_bins, dtype=int)
    groups[FGS1_BIN] = 0
    return groups


def per_instrument(values: np.ndarray, statistic: Callable[[np.ndarray], float]) -> np.ndarray:
    """``statistic`` of each instrument's (planets, its bins) block of ``values``: (FGS1,
    AIRS-CH0); index it with ``instrument_of_bins`` to spread it back over the bins."""
    instrument = instrument_of_bins(values.shape[1])
    return np.array([statistic(values[:, instrument == g]) for g in (0, 1)])


def mean_log_sigma(sigma: np.ndarray) -> np.ndarray:
    """Mean log sigma of each instrument (FGS1, AIRS-CH0) over planets and bins: the
    reference that sigma-dependent scale models keep so they apply to new planets."""
    return per_instrument(np.log(sigma), np.mean)


def check_validation(truth: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> None:
    """Same 2-D shapes, finite values and positive sigma, or a ValueError saying which."""
    if not (truth.shape == mu.shape == sigma.shape) or truth.ndim != 2:
        raise ValueError(
            f"validation arrays differ in shape: truth {truth.shape}, mu {mu.shape}, "
            f"sigma {sigma.shape} (expected (planets, bins) each)"
        )
    if truth.shape[0] == 0:
        raise ValueError("no validation planets: sigma calibration needs at least one")
    for name, values in (("truth", truth), ("mu", mu), ("sigma", sigma)):
        if not np.isfinite(values).all():
            raise ValueError(f"validation {name} has NaN or infinite values")
    if (sigma <= 0).any():
        raise ValueError("validation sigma has zero or negative values")
