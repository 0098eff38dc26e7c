"""Temperature scaling: sigma times one factor per group of bins (all bins, each
instrument, or each bin), the factor that maximises the Gaussian likelihood of the
validation residuals: s^2 = mean(z^2) over the group."""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np

from spectramind.diagnostics.summary import normalised_residual
from spectramind.uncertainty.groups import instrument_of_bins, per_instrument

# Per-bin factors are shrunk towards their instrument's: with n validation planets a bin's
# mean z^2 is a chi^2_n / n estimate; the instrument value counts as this many planets.
PRIOR_PLANETS_PER_BIN = 10


class TemperatureScaling:
    """``groups``: "global" (one factor), "instrument" (FGS1, AIRS-CH0) or "bin" (283,
    shrunk towards the instrument's factor)."""

    GROUPS: ClassVar[tuple[str, ...]] = ("global", "instrument", "bin")

    def __init__(self, groups: str, scale: np.ndarray | None = None) -> None:
        if groups not in self.GROUPS:
            raise ValueError(f"temperature groups must be one of {self.GROUPS}, got {groups!r}")
        self.groups = groups
        self.scale = scale

    def fit(self, truth: np.ndarray, mu: np.ndarray, sigma: np.ndarray, **_: Any) -> Self:
        z2 = normalised_residual(truth, mu, sigma) ** 2
        instrument = instrument_of_bins(z2.shape[1])
        if self.groups == "global":
            variance = np.full(z2.shape[1], z2.mean())
        else:
            variance = per_instrument(z2, np.mean)[instrument]
            if self.groups == "bin":
                n = z2.shape[0]
                variance = (z2.sum(axis=0) + PRIOR_PLANETS_PER_BIN * variance) / (
                    n + PRIOR_PLANETS_PER_BIN
                )
        self.scale = np.sqrt(variance)
        return self

    def apply(self, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        return sigma * self.scale

    def state(self) -> dict[str, Any]:
        return {"groups": self.groups, "scale": self.scale.tolist()}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Self:
        return cls(state["groups"], np.asarray(state["scale"], dtype=float))
