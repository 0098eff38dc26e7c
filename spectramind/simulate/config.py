"""Settings of one simulated data set, and the random streams derived from them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spectramind.simulate.constants import FULL_PAIRS

# Each random stream has its own key so that, e.g., changing the noise draw of a visit never
# changes the planet's parameters or its detector maps.
STREAM_PLANET_IDS = 0
STREAM_PARAMETERS = 1
STREAM_DETECTOR = 2
STREAM_SYSTEMATICS = 3
STREAM_PHOTONS = 4
STREAM_JITTER = 5
# Streams of the model-mismatch effects (mismatch.py); unused while their switches are off.
STREAM_GP_DRIFT = 6
STREAM_GRANULATION = 7
STREAM_POINTING_WANDER = 8
STREAM_SKY = 9


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate.

    cadence: keep the 7.5 h visit but take one CDS pair every ``cadence`` real pair periods
    (1 = full size, 10 = one FGS1 pair per 4 s). second_visit_fraction: share of planets
    observed twice. mismatch_*: systematics from other families than the physics fit's
    (mismatch.py), each switch alone; all off reproduces the default simulator bit for bit.
    The defaults are config/schema.yaml's (its simulation block and top-level seed).
    """

    seed: int = 42
    n_train: int = 6
    n_test: int = 4
    cadence: int = 10
    second_visit_fraction: float = 0.1
    mismatch_limb_darkening: bool = False
    mismatch_drift: bool = False
    mismatch_granulation: bool = False
    mismatch_pointing_wander: bool = False
    mismatch_sky: bool = False

    def __post_init__(self) -> None:
        if self.n_train < 0 or self.n_test < 0 or self.n_train + self.n_test == 0:
            raise ValueError("n_train and n_test must be >= 0 and not both 0")
        if not 1 <= self.cadence <= FULL_PAIRS["AIRS-CH0"] // 8:
            raise ValueError(
                f"cadence must be between 1 and {FULL_PAIRS['AIRS-CH0'] // 8} "
                f"(AIRS needs at least 8 pairs per visit), got {self.cadence}"
            )
        if not 0.0 <= self.second_visit_fraction <= 1.0:
            raise ValueError("second_visit_fraction must lie in [0, 1]")

    def n_pairs(self, instrument: str) -> int:
        """CDS pairs per visit for ``instrument`` at this cadence."""
        return FULL_PAIRS[instrument] // self.cadence

    def rng(self, stream: int, *key: int) -> np.random.Generator:
        """Independent generator for ``stream`` and a key such as (planet_id, visit)."""
        return np.random.default_rng(np.random.SeedSequence([self.seed, stream, *key]))
