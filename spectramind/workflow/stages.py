"""The per-planet stages (calibrate per visit, extract and fit per planet): what one unit of
work is, where its outputs go, and which units a job's outputs stand for.

A job of a stage does one unit (a per-planet rule) or the units of a batch of planets (config
``planets_per_job``); either way each unit's outputs and manifest are the same paths, made
from the patterns below, so what a file holds never depends on which job made it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple


class PlanetUnit(NamedTuple):
    """One planet of one split: a unit of extract and fit."""

    split: str
    planet_id: int


class VisitUnit(NamedTuple):
    """One visit of one instrument of one planet: a unit of calibrate."""

    split: str
    planet_id: int
    instrument: str
    visit: int


Unit = PlanetUnit | VisitUnit
INTEGER_FIELDS = ("planet_id", "visit")


@dataclass(frozen=True)
class PlanetStage:
    """A per-planet stage: its name (rule, script, log and manifest folders) and the path
    pattern of each output, the manifest included, in the fields of its unit type."""

    name: str
    outputs: Mapping[str, str]
    per_visit: bool = False

    @property
    def unit_type(self) -> type[PlanetUnit] | type[VisitUnit]:
        return VisitUnit if self.per_visit else PlanetUnit

    @property
    def primary(self) -> str:
        """The output every unit has first: the one a job's units are read from."""
        return next(iter(self.outputs))

    @property
    def log(self) -> str:
        return self._pattern("results/logs", "log")

    @property
    def benchmark(self) -> str:
        return self._pattern("results/benchmarks", "tsv")

    def _pattern(self, folder: str, suffix: str) -> str:
        fields = "/".join(f"{{{name}}}" for name in self.unit_type._fields[:2])
        leaf = "/{instrument}_{visit}" if self.per_visit else ""
        return f"{folder}/{self.name}/{fields}{leaf}.{suffix}"

    def unit(self, **fields: str | int) -> Unit:
        """The unit of these wildcards (strings from Snakemake, ids as integers)."""
        return self.unit_type(
            **{
                name: int(fields[name]) if name in INTEGER_FIELDS else str(fields[name])
                for name in self.unit_type._fields
            }
        )

    def paths(self, unit: Unit) -> dict[str, str]:
        """Every output path of ``unit`` by name, the manifest included."""
        return {name: pattern.format(**unit._asdict()) for name, pattern in self.outputs.items()}

    def parse(self, path: str, output: str | None = None) -> Unit:
        """The unit whose ``output`` (default: the primary one) is ``path``."""
        pattern = self.outputs[output or self.primary]
        regex = re.escape(pattern)
        for name in self.unit_type._fields:
            regex = regex.replace(re.escape(f"{{{name}}}"), f"(?P<{name}>[^/]+)")
        match = re.fullmatch(regex, str(path))
        if match is None:
            raise ValueError(f"{path} is not a {self.name} output ({pattern})")
        return self.unit(**match.groupdict())

    def planet_manifests(self, planet: PlanetUnit) -> list[Path]:
        """The manifests already written for ``planet``'s units (one per visit and instrument
        for a per-visit stage), found without knowing its visits."""
        unit = dict(planet._asdict(), instrument="*", visit="*")
        return sorted(Path().glob(self.outputs["manifest"].format(**unit)))

    def units_of(self, output: Mapping[str, str | Iterable[str]]) -> list[Unit]:
        """The units a job's named outputs stand for, in their order: one path for a
        per-planet job, a list for a batch."""
        paths = output[self.primary]
        return [self.parse(path) for path in ([paths] if isinstance(paths, str) else paths)]


CALIBRATE = PlanetStage(
    "calibrate",
    {
        "dataset": "results/calibrated/{split}/{planet_id}/{instrument}_{visit}.nc",
        "manifest": "results/manifests/calibrate/{split}/{planet_id}/{instrument}_{visit}.json",
    },
    per_visit=True,
)
EXTRACT = PlanetStage(
    "extract",
    {
        "lightcurves": "results/lightcurves/{split}/{planet_id}.nc",
        "manifest": "results/manifests/extract/{split}/{planet_id}.json",
    },
)
FIT = PlanetStage(
    "fit",
    {
        "fit": "results/fit/{split}/{planet_id}.nc",
        "manifest": "results/manifests/fit/{split}/{planet_id}.json",
    },
)
PLANET_STAGES: dict[str, PlanetStage] = {stage.name: stage for stage in (CALIBRATE, EXTRACT, FIT)}


def visits_by_instrument(paths: Iterable[str], planet: PlanetUnit) -> dict[str, list[str]]:
    """The calibrated visits of ``planet`` among ``paths`` (a job's calibrate outputs), per
    instrument in visit order: what extraction reads of one planet."""
    found: dict[str, list[tuple[int, str]]] = {}
    for path in paths:
        unit = CALIBRATE.parse(path)
        if (unit.split, unit.planet_id) == planet:
            found.setdefault(unit.instrument, []).append((unit.visit, str(path)))
    return {instrument: [path for _, path in sorted(pairs)] for instrument, pairs in found.items()}
