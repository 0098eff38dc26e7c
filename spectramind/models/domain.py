"""Per-planet check that V50 predicts where it was trained: a planet whose inputs lie beyond
the training planets' range, whose V50 level departs from the physics fit's by more than
their joint sigma allows, or whose V50 sigma claims far more precision than the fit's, is out
of the model's domain (its physics fit is the safer answer).

With a few dozen training planets a learned correction is a guess outside the inputs it saw:
its level readout and its networks extrapolate linearly or worse, while its sigma stays the
physics fit's, so one such planet can zero a submission. The ranges come from the training
planets (kept in the checkpoint, see ``TrainRanges``); the test needs no labels.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from spectramind.models.dataset import FIT_SUMMARY_NAMES, STAR_FEATURES, PlanetSample
from spectramind.models.level import residual_features

# What V50 reads of a planet, one number each: the star (log catalogue values), the fit's
# summary, the FGS1 white-light depth and its ln sigma, and the RMS (noise units) of each
# white light's residual, the level readout's input (drift and pointing systematics).
DOMAIN_FEATURES = (
    *(f"star_{name}" for name in STAR_FEATURES), *FIT_SUMMARY_NAMES,
    "fgs1_depth", "ln_fgs1_sigma", "fgs1_residual_rms", "airs_white_residual_rms",
)  # fmt: skip
MARGIN = 0.25  # beyond the train range by this fraction of its width
MAX_LEVEL_PULL = 4.0  # |mean over bins of (V50 - physics) / joint sigma|
# Median over bins of V50 sigma / physics sigma: below it V50 claims a precision the fit
# cannot back (a 30-planet model at 0.33 covered 27 % of the test bins within 1 sigma).
MIN_SIGMA_RATIO = 0.5


def domain_features(samples: Sequence[PlanetSample]) -> np.ndarray:
    """(planets, DOMAIN_FEATURES) of ``samples``."""
    fgs1 = torch.stack([s.fgs1.T for s in samples]).double()  # (B, steps, features)
    residual = residual_features(fgs1).reshape(len(samples), 2, -1)
    return np.column_stack(
        [
            torch.stack([s.star for s in samples]).double().numpy(),
            torch.stack([s.fit_summary for s in samples]).double().numpy(),
            [float(s.physics_mu[0]) for s in samples],
            [math.log(float(s.physics_sigma[0])) for s in samples],
            residual.pow(2).mean(dim=2).sqrt().numpy(),
        ]
    )


@dataclass(frozen=True)
class TrainRanges:
    """Per DOMAIN_FEATURES, the training planets' smallest and largest value."""

    low: tuple[float, ...]
    high: tuple[float, ...]

    @classmethod
    def of(cls, samples: Sequence[PlanetSample]) -> TrainRanges:
        features = domain_features(samples)
        return cls(tuple(features.min(axis=0).tolist()), tuple(features.max(axis=0).tolist()))

    def as_dict(self) -> dict[str, list]:
        """Plain lists (a checkpoint's ``domain`` entry), with the feature names."""
        return {"names": list(DOMAIN_FEATURES), "low": list(self.low), "high": list(self.high)}

    @classmethod
    def from_dict(cls, values: Mapping[str, list]) -> TrainRanges:
        """Back from ``as_dict``; other feature names (another version) are an error."""
        if list(values["names"]) != list(DOMAIN_FEATURES):
            raise ValueError(f"train ranges of features {values['names']}, expected "
                             f"{list(DOMAIN_FEATURES)}: retrain with this version")  # fmt: skip
        return cls(tuple(values["low"]), tuple(values["high"]))


@dataclass(frozen=True)
class DomainVerdict:
    """One planet: out of the domain or not, and why (empty when inside)."""

    planet_id: int
    out: bool
    reason: str


def level_pull(
    mu: np.ndarray, sigma: np.ndarray, physics_mu: np.ndarray, physics_sigma: np.ndarray
) -> np.ndarray:
    """Per planet (rows), the mean over bins of (mu - physics mu) / sqrt(sigma^2 +
    physics sigma^2): a level shift counts in every bin, a scatter averages out."""
    return np.mean((mu - physics_mu) / np.sqrt(sigma**2 + physics_sigma**2), axis=1)


def out_of_domain(
    samples: Sequence[PlanetSample],
    mu: np.ndarray,
    sigma: np.ndarray,
    ranges: TrainRanges | None,
    margin: float = MARGIN,
    max_level_pull: float = MAX_LEVEL_PULL,
    min_sigma_ratio: float = MIN_SIGMA_RATIO,
) -> list[DomainVerdict]:
    """A verdict per planet of ``samples`` given V50's ``mu``, ``sigma`` (planets, 283, rows
    in the order of ``samples``): out where a DOMAIN_FEATURES value lies beyond the training
    planets' ``ranges`` by more than ``margin`` of the range's width (``ranges`` None, as an
    older checkpoint has: not tested), or where |``level_pull``| against the physics fit the
    samples carry exceeds ``max_level_pull``, or where the median over bins of ``sigma`` /
    physics sigma is below ``min_sigma_ratio``."""
    physics_mu = torch.stack([s.physics_mu for s in samples]).numpy()
    physics_sigma = torch.stack([s.physics_sigma for s in samples]).numpy()
    pulls = level_pull(np.asarray(mu), np.asarray(sigma), physics_mu, physics_sigma)
    ratios = np.median(np.asarray(sigma) / physics_sigma, axis=1)
    reasons: list[list[str]] = [[] for _ in samples]
    if ranges is not None:
        low, high = np.array(ranges.low), np.array(ranges.high)
        slack = margin * (high - low)
        for k, row in enumerate(domain_features(samples)):
            for j in np.flatnonzero((row < low - slack) | (row > high + slack)):
                reasons[k].append(f"{DOMAIN_FEATURES[j]} {row[j]:.4g} outside the train range "
                                  f"[{low[j]:.4g}, {high[j]:.4g}]")  # fmt: skip
    for k, pull in enumerate(pulls):
        if not abs(pull) <= max_level_pull:  # a NaN prediction is out too
            reasons[k].append(f"V50 level {pull:+.1f} joint sigmas from the physics fit's")
        if not ratios[k] >= min_sigma_ratio:
            reasons[k].append(f"V50 sigma {ratios[k]:.2f} of the physics fit's")
    return [
        DomainVerdict(s.planet_id, bool(r), "; ".join(r))
        for s, r in zip(samples, reasons, strict=True)
    ]
