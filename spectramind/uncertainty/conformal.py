"""Split-conformal sigma scaling with a coverage guarantee.

Per instrument, sigma is scaled by q / Phi^-1((1 + level) / 2), where q is the smallest
|z| threshold that covers at least level * (n + 1) planets' worth of the n validation
planets' bins (each planet weighs 1, spread over its bins). The units that are exchangeable
are planets, not bins (a planet's bins share its errors), so the finite-sample correction
counts planets: for a new planet exchangeable with the validation planets, the expected
share of its bins inside the scaled central ``level`` interval is at least ``level``.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
from scipy.stats import norm

from spectramind.diagnostics.summary import normalised_residual
from spectramind.uncertainty.groups import instrument_of_bins, per_instrument


def min_planets(level: float) -> int:
    """Validation planets the guarantee needs at ``level``: level * (n + 1) <= n."""
    return int(np.ceil(level / (1.0 - level) - 1e-9))


def conformal_threshold(abs_z: np.ndarray, level: float) -> float:
    """The |z| threshold q of one instrument's (planets, bins) residuals: the smallest
    value whose pooled coverage, counted in planets, reaches level * (n + 1)."""
    n_planets, n_bins = abs_z.shape
    if n_planets < min_planets(level):
        raise ValueError(
            f"split-conformal at level {level} needs at least {min_planets(level)} validation "
            f"planets, got {n_planets}: lower sigma_calibration.conformal_level or choose "
            "another method"
        )
    pooled = np.sort(abs_z, axis=None)
    covered_planets = np.arange(1, pooled.size + 1) / n_bins
    return float(pooled[np.searchsorted(covered_planets, level * (n_planets + 1) - 1e-12)])


class SplitConformal:
    """Per-instrument conformal scale for the central ``level`` interval."""

    def __init__(self, level: float = 0.95, scale: np.ndarray | None = None) -> None:
        if not 0.5 <= level < 1.0:
            raise ValueError(f"conformal level must be in [0.5, 1), got {level}")
        self.level = level
        self.scale = scale

    def fit(self, truth: np.ndarray, mu: np.ndarray, sigma: np.ndarray, **_: Any) -> Self:
        abs_z = np.abs(normalised_residual(truth, mu, sigma))
        instrument = instrument_of_bins(abs_z.shape[1])
        gaussian = norm.ppf(0.5 * (1.0 + self.level))
        threshold = per_instrument(abs_z, lambda block: conformal_threshold(block, self.level))
        self.scale = threshold[instrument] / gaussian
        return self

    def apply(self, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        return sigma * self.scale

    def state(self) -> dict[str, Any]:
        return {"level": self.level, "scale": self.scale.tolist()}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Self:
        return cls(state["level"], np.asarray(state["scale"], dtype=float))
