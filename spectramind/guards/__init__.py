"""Guards: know when a planet's data cannot support a prediction, and say so with a fallback
whose sigma covers what is not known (the ``guards:`` config block)."""

from spectramind.guards.options import GuardOptions
from spectramind.guards.state import FALLBACK_PREDICTORS, GUARD_STATES, PREDICTORS, GuardRecord

__all__ = ["FALLBACK_PREDICTORS", "GUARD_STATES", "PREDICTORS", "GuardOptions", "GuardRecord"]
