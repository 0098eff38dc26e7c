"""The runtime guard: from the first planets' timing, will the whole run fit in Kaggle's
limit? A notebook killed at 9 h submits nothing, so a run that would overrun stops early
with a valid fallback submission instead (the caller writes it).

The first planets (the probe) run as one Snakemake call; its wall time less Snakemake's
start-up (parsing the workflow and planning the jobs, measured by a dry run of the same
call: paid once, not per planet) over the planets it finished is the time a planet takes at
the profile's parallelism. The estimate is the time spent so far, plus that per remaining
planet, plus a fixed allowance for what comes after the per-planet jobs. Timing at least two
jobs per core keeps the probe's cores busy as the full run's are; its tail, when fewer jobs
than cores are left, only makes the estimate err on the long side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Probe:
    """The timed first planets."""

    planets: int  # planets whose per-planet jobs finished
    seconds: float  # wall time of the probe's Snakemake call
    startup_seconds: float  # its one-off part (a dry run of the same call)

    @property
    def seconds_per_planet(self) -> float:
        """Wall time a planet takes at the profile's parallelism (inf if none finished)."""
        if self.planets == 0:
            return math.inf
        return max(self.seconds - self.startup_seconds, 0.0) / self.planets


@dataclass(frozen=True)
class Estimate:
    """The whole run's projected wall time against the budget."""

    elapsed_seconds: float  # since the run started, the probe included
    probe: Probe
    remaining_planets: int
    final_stage_seconds: float
    budget_seconds: float

    @property
    def total_seconds(self) -> float:
        remaining = 0.0  # not 0 x inf when no planet is left
        if self.remaining_planets:
            remaining = self.remaining_planets * self.probe.seconds_per_planet
        return self.elapsed_seconds + remaining + self.final_stage_seconds

    @property
    def fits(self) -> bool:
        return self.total_seconds <= self.budget_seconds

    def message(self) -> str:
        """What was measured, what it projects, and the decision, in one paragraph."""
        probe = self.probe
        measured = (
            f"{probe.planets} planet(s) in {probe.seconds:.0f} s "
            f"({probe.startup_seconds:.0f} s of Snakemake start-up excluded: "
            f"{probe.seconds_per_planet:.1f} s a planet)"
            if probe.planets
            else f"no planet finished in the probe ({probe.seconds:.0f} s)"
        )
        projected = (
            f"the {self.remaining_planets} others and the final stage would bring the run to "
            f"{hours(self.total_seconds)}, against a budget of {hours(self.budget_seconds)}"
        )
        if self.fits:
            return f"runtime guard: {measured}; {projected}: running the rest."
        return (
            f"runtime guard: {measured}; {projected}: STOPPING EARLY with a fallback "
            "submission (the fitted planets, the naive prediction for the others)."
        )


def hours(seconds: float) -> str:
    return "never" if math.isinf(seconds) else f"{seconds / 3600:.2f} h"


def estimate_run(
    probe: Probe,
    total_planets: int,
    elapsed_seconds: float,
    final_stage_seconds: float,
    budget_seconds: float,
) -> Estimate:
    """Project the run's total wall time from the probe (see the module's docstring)."""
    return Estimate(
        elapsed_seconds=elapsed_seconds,
        probe=probe,
        remaining_planets=max(total_planets - probe.planets, 0),
        final_stage_seconds=final_stage_seconds,
        budget_seconds=budget_seconds,
    )
