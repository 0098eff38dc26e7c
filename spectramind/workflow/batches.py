"""Batches of planets: many planets' units of a per-planet stage in one job (config
``planets_per_job``), which pays the interpreter start-up and imports once.

Snakemake records, for each output, the inputs of the job that made it, and reruns a job
whose set of inputs changed. A batch's inputs are its planets' together, so re-cutting
finished work into other batches would make it out of date. A batch that ran is therefore
kept (each unit's manifest records the batch's planets) and ``planets_per_job`` only cuts
the planets whose work was never done: changing it never re-plans finished work.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

Batch = tuple[int, ...]


def recorded_batch(manifest: str | Path) -> Batch | None:
    """The planets of the job that wrote ``manifest`` (sorted), or None if there is no
    readable manifest (work not done yet, or written before batches were recorded)."""
    try:
        planets = json.loads(Path(manifest).read_text())["batch"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return tuple(sorted(int(planet) for planet in planets))


def plan_batches(
    planets: Sequence[int], size: int, recorded: Mapping[int, Batch | None]
) -> list[Batch]:
    """Cut ``planets`` into the batches their jobs run, each sorted, in the order of their
    first planet: a recorded batch whose planets are all still here (and in no batch kept
    before it) is kept as it ran; the other planets go, in their order, into batches of at
    most ``size``."""
    if size < 1:
        raise ValueError(f"planets_per_job must be >= 1, got {size}")
    here = set(planets)
    kept: list[Batch] = []
    claimed: set[int] = set()
    for planet in planets:
        batch = recorded.get(planet)
        if batch and planet in batch and set(batch) <= here and claimed.isdisjoint(batch):
            kept.append(batch)
            claimed.update(batch)
    rest = [planet for planet in planets if planet not in claimed]
    cut = [tuple(sorted(rest[start : start + size])) for start in range(0, len(rest), size)]
    return sorted([*kept, *cut], key=lambda batch: batch[0])
