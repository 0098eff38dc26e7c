"""What a guard records about a planet: the attributes every fit file carries, and the one
row per planet of the guard table (results/diagnostics/guards.csv)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
import xarray as xr

# normal: the fit saw the whole transit. partial_transit: the window misses T1 or T4.
# grazing: the planet never lies wholly on the disc (no T2, T3). no_transit: no transit in
# the window. failed: the fit raised, or calibrate or extract did (a failure record).
GUARD_STATES = ("normal", "partial_transit", "grazing", "no_transit", "failed")
# What made a planet's submitted depth and sigma.
PREDICTORS = ("physics_fit", "v50", "prior_predictive", "naive")
# The predictors of a planet the data cannot support: not a measurement, so no model refines
# it and no sigma calibration fitted on measured planets rescales it.
FALLBACK_PREDICTORS = ("prior_predictive", "naive")
CONTACTS = ("T1", "T2", "T3", "T4")


@dataclass
class GuardRecord:
    """One planet's guard outcome, stored as attributes of its fit file.

    state: one of GUARD_STATES. predictor: one of PREDICTORS. transit_significance: sigma
    by which a transit beats no transit (NaN: not tested). contacts: probability of each
    contact T1-T4 inside the window. spectral_prior: applied, conflict (dropped) or off.
    reason: a sentence for the log and the report.
    """

    state: str = "normal"
    predictor: str = "physics_fit"
    transit_significance: float = float("nan")
    contacts: dict[str, float] = field(default_factory=dict)
    spectral_prior: str = "off"
    reason: str = ""

    def __post_init__(self) -> None:
        if self.state not in GUARD_STATES:
            raise ValueError(f"guard state {self.state!r} is not one of {GUARD_STATES}")
        if self.predictor not in PREDICTORS:
            raise ValueError(f"predictor {self.predictor!r} is not one of {PREDICTORS}")

    @property
    def fired(self) -> bool:
        """Whether the planet got anything but the normal fit: a fallback, or the spectral
        prior dropped. (A partial transit or a grazing orbit keeps the fit, whose sigma holds
        the geometry's uncertainty: its state is a warning, not another prediction.)"""
        return self.predictor in FALLBACK_PREDICTORS or self.spectral_prior == "conflict"

    def attrs(self) -> dict[str, str | float]:
        """netCDF attributes (``guard_*``) of a fit file."""
        values = asdict(self)
        values["contacts"] = json.dumps(self.contacts)
        return {f"guard_{name}": value for name, value in values.items()}

    @classmethod
    def from_attrs(cls, attrs: dict) -> GuardRecord:
        """Inverse of ``attrs``; a file written before the guards reads as normal."""
        if "guard_state" not in attrs:
            return cls(reason="no guard recorded")
        values = {
            name: attrs[f"guard_{name}"]
            for name in cls.__dataclass_fields__
            if f"guard_{name}" in attrs
        }
        values["contacts"] = json.loads(values.get("contacts", "{}"))
        values["transit_significance"] = float(values.get("transit_significance", "nan"))
        return cls(**values)


def guard_table(fit_paths: list[str | Path]) -> pd.DataFrame:
    """One row per fit file (planet id from its name): state, predictor, significance, the
    contacts' probabilities, the spectral prior's use and the reason."""
    rows = []
    for path in fit_paths:
        with xr.open_dataset(path) as fit:
            record = GuardRecord.from_attrs(dict(fit.attrs))
        row = {"planet_id": int(Path(path).stem), **asdict(record)}
        contacts = row.pop("contacts")
        row.update({f"p_{c}": contacts.get(c, float("nan")) for c in CONTACTS})
        rows.append(row)
    columns = ["planet_id", "state", "predictor", "transit_significance",
               *(f"p_{c}" for c in CONTACTS), "spectral_prior", "reason"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)
