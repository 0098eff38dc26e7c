"""Failure records: what a per-planet stage (calibrate, extract) writes in place of a unit's
output when processing that unit raised (``guards.failed_planet_fallback``), so that one
planet fails alone and the stages downstream see the failure instead of a missing file.

A record is a netCDF file at the output's own path with no variables, only attributes
(``failure_*``): its stage, unit, error and traceback. Nothing reads it as data (it has no
``flux``); extract passes an upstream record on to its own output, the fit turns it into
the planet's fallback with guard state ``failed``, and what learns from the train planets
skips it (``read_failure``, ``failure_of``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import xarray as xr

from spectramind import __version__
from spectramind.core.netcdf import write_netcdf

TITLE = "SpectraMind V50 failure record (not data: the stage raised on this unit)"


@dataclass(frozen=True)
class FailureRecord:
    """One unit's failure. stage: the stage that raised (calibrate, extract); unit: the
    unit's fields (split, planet_id, and instrument and visit for calibrate); error: the
    exception's type and message; traceback: where it was raised."""

    stage: str
    unit: Mapping[str, Any]
    error: str
    traceback: str = ""

    @property
    def planet_id(self) -> int:
        return int(self.unit["planet_id"])

    @property
    def reason(self) -> str:
        """One sentence for the log and the guard record: the stage, the unit and the error."""
        where = f"planet {self.planet_id}"
        if "instrument" in self.unit:
            where += f" {self.unit['instrument']} visit {self.unit['visit']}"
        return f"{self.stage} failed on {where}: {self.error}"

    def attrs(self) -> dict[str, str | int]:
        return {
            "title": TITLE,
            "failure_stage": self.stage,
            "failure_unit": json.dumps(dict(self.unit), sort_keys=True),
            "failure_error": self.error,
            "failure_traceback": self.traceback,
            "planet_id": self.planet_id,
            "software": f"spectramind {__version__}",
        }

    def as_dict(self) -> dict[str, Any]:
        """For a manifest: stage, unit and error (the traceback is in the log)."""
        values = asdict(self)
        values.pop("traceback")
        values["unit"] = dict(self.unit)
        return values


def failure_of(attrs: Mapping[str, Any]) -> FailureRecord | None:
    """The failure record these netCDF attributes hold, or None for a data file."""
    if "failure_stage" not in attrs:
        return None
    return FailureRecord(
        stage=str(attrs["failure_stage"]),
        unit=json.loads(attrs["failure_unit"]),
        error=str(attrs["failure_error"]),
        traceback=str(attrs.get("failure_traceback", "")),
    )


def read_failure(path: str | Path) -> FailureRecord | None:
    """The failure record at ``path``, or None when it holds data."""
    with xr.open_dataset(path) as dataset:
        return failure_of(dataset.attrs)


def first_failure(paths: Iterable[str | Path]) -> FailureRecord | None:
    """The first failure record among ``paths`` (in their order), or None."""
    for path in paths:
        record = read_failure(path)
        if record is not None:
            return record
    return None


def write_failure(record: FailureRecord, path: str | Path) -> None:
    """Write ``record`` to ``path`` atomically, as every output is written."""
    write_netcdf(xr.Dataset(attrs=record.attrs()), path)


class UpstreamFailure(Exception):
    """Raised by a stage whose input is a failure record: the planet failed upstream."""

    def __init__(self, record: FailureRecord) -> None:
        self.record = record
        super().__init__(record.reason)
