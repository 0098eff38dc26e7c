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
# Stream of the edge-case planets (edge.py): the kind of each planet and its geometry.
STREAM_EDGE = 10
# Edge-case kinds a share of the planets is drawn as, each with its field edge_<kind>.
EDGE_KINDS = ("no_transit", "partial_transit", "grazing")


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate.

    cadence: keep the 7.5 h visit but take one CDS pair every ``cadence`` real pair periods
    (1 = full size, 10 = one FGS1 pair per 4 s). second_visit_fraction: share of planets
    observed twice. mismatch_*: systematics from other families than the physics fit's
    (mismatch.py), each switch alone; all off reproduces the default simulator bit for bit.
    edge_*: shares of the planets drawn as edge cases (edge.py): no transit in the visits,
    only ingress or egress, a grazing orbit; their sum at most 1, all 0 the default simulator.
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
    edge_no_transit: float = 0.0
    edge_partial_transit: float = 0.0
    edge_grazing: float = 0.0

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
        self._check_edge_fractions()

    def _check_edge_fractions(self) -> None:
        """Each edge_* share in [0, 1], and together at most all planets."""
        for kind, share in self.edge_fractions().items():
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"edge_{kind} must lie in [0, 1], got {share}")
        total = sum(self.edge_fractions().values())
        if total > 1.0 + 1e-9:
            keys = " + ".join(f"edge_{kind}" for kind in EDGE_KINDS)
            raise ValueError(f"{keys} must be at most 1 (shares of the planets), got {total:g}")

    def edge_fractions(self) -> dict[str, float]:
        """Share of the planets drawn as each edge-case kind (EDGE_KINDS)."""
        return {kind: getattr(self, f"edge_{kind}") for kind in EDGE_KINDS}

    @property
    def edges_on(self) -> bool:
        """Whether any planet can be an edge case (then the truth names each planet's kind)."""
        return any(share > 0.0 for share in self.edge_fractions().values())

    def n_pairs(self, instrument: str) -> int:
        """CDS pairs per visit for ``instrument`` at this cadence."""
        return FULL_PAIRS[instrument] // self.cadence

    def rng(self, stream: int, *key: int) -> np.random.Generator:
        """Independent generator for ``stream`` and a key such as (planet_id, visit)."""
        return np.random.default_rng(np.random.SeedSequence([self.seed, stream, *key]))
