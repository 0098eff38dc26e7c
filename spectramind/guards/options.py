"""Which guards run and how strict they are (the ``guards:`` config block)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from spectramind.core.options import ConfigBlock, check_limits

# Inclusive [low, high] of every numeric option; config/schema.yaml states the same limits.
LIMITS = {
    "min_transit_significance": (0.0, 1000.0),
    "contact_probability": (0.5, 1.0),
    "prior_conflict_p_value": (1e-12, 0.5),
}
# The real ADC 2025 train planet whose FGS1 holds a strong foreground (published solutions
# excluded it); on simulated data no planet has this id.
KNOWN_BAD_TRAIN_PLANETS = (2486733311,)


@dataclass(frozen=True)
class GuardOptions(ConfigBlock):
    """transit_coverage: test each fit for a transit in the window (no transit: the prior
    predictive fallback) and for which contacts T1-T4 it holds (partial: the geometry the
    data leave open is marginalised); a transit counts as seen when the no-transit model is
    worse by min_transit_significance sigma (sqrt of delta chi2 after the red-noise
    inflation), and a contact as inside the window when at least contact_probability of the
    geometry's uncertainty puts it there. prior_conflict: test the data-alone depths against
    the spectral prior's predictive and drop the prior where they conflict at
    prior_conflict_p_value. failed_planet_fallback: a planet whose calibration, extraction
    or fit raises fails alone (logged; calibrate and extract write failure records,
    spectramind.core.failure) and gets the fallback instead of failing its job.
    v50_domain: a planet outside the V50 model's domain (inputs beyond the train planets'
    range, a level its physics fit's sigma rules out, or a sigma far below the fit's;
    spectramind.models.domain) gets its physics fit. exclude_from_training: planet ids no
    prior, artifact or model learns from.
    """

    BLOCK = "guards"

    transit_coverage: bool = True
    min_transit_significance: float = 5.0
    contact_probability: float = 0.95
    prior_conflict: bool = True
    prior_conflict_p_value: float = 1e-4
    failed_planet_fallback: bool = True
    v50_domain: bool = True
    exclude_from_training: tuple[int, ...] = field(default=KNOWN_BAD_TRAIN_PLANETS)

    def __post_init__(self) -> None:
        check_limits(self, LIMITS, "guards")
        for name in ("transit_coverage", "prior_conflict", "failed_planet_fallback", "v50_domain"):
            if not isinstance(getattr(self, name), bool):
                value = getattr(self, name)
                raise ValueError(f"guards.{name} must be true or false, got {value!r}")
        ids = self.exclude_from_training
        if isinstance(ids, str | bytes) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in ids
        ):
            raise ValueError(f"guards.exclude_from_training must be planet ids, got {ids!r}")
        object.__setattr__(self, "exclude_from_training", tuple(ids))


def prior_conflict_p_value(params: Mapping[str, Any]) -> float | None:
    """The prior-conflict test's p-value from a rule's params (``guards_prior_conflict``,
    ``guards_prior_conflict_p_value``), None when the test is off."""
    if not params["guards_prior_conflict"]:
        return None
    return float(params["guards_prior_conflict_p_value"])
