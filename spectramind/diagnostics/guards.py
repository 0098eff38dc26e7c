"""The planets most likely to cost the score, in sight: each test planet's guard record with
the predictor that made its submitted values, the count of planets per guard state and
predictor, and the worst planets first. One confidently wrong planet costs more than many
good ones earn, so these lead the report and the dashboard."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
import xarray as xr

from spectramind.core.atomic import write_csv_atomic
from spectramind.guards.state import GUARD_STATES, guard_table

# Guard states from the one that knows least about the planet to the normal fit: the order
# the worst planets take where no truth scores them.
SEVERITY = ("failed", "no_transit", "grazing", "partial_transit", "normal")
N_WORST = 10
WORST_COLUMNS = ["planet_id", "score", "state", "predictor", "transit_significance", "reason"]


def predictor_name(predictor: str) -> str:
    """The name a config predictor's submitted values go by (``physics`` -> physics_fit)."""
    return "physics_fit" if predictor == "physics" else predictor


def submitted_by(predictions: str | Path) -> dict[int, str]:
    """Planet id -> the predictions' per-planet ``predictor`` variable; empty without one."""
    with xr.open_dataset(predictions) as data:
        if "predictor" not in data:
            return {}
        ids = data["planet"].values.astype(int).tolist()
        return dict(zip(ids, data["predictor"].values.astype(str).tolist(), strict=True))


def planet_guards(
    fit_paths: Sequence[str | Path], predictor: str, predictions: str | Path | None = None
) -> pd.DataFrame:
    """The guard table of the fits (``guard_table``), its predictor column being what made
    each planet's submitted values: the predictions' per-planet ``predictor`` variable when
    they have one, else the configured predictor for v50, else the fit's own record."""
    table = guard_table(list(fit_paths))
    name = predictor_name(predictor)
    made_by = {} if predictions is None else submitted_by(predictions)
    if made_by:
        table["predictor"] = [made_by.get(i, name) for i in table["planet_id"]]
    elif name != "physics_fit":
        table["predictor"] = name
    return table


def guard_counts(table: pd.DataFrame) -> pd.DataFrame:
    """Planets per guard state (rows, every state) and predictor (columns, those that made
    a planet), with totals in an ``all`` row and column."""
    counts = pd.crosstab(table["state"], table["predictor"], margins=True, margins_name="all")
    counts = counts.reindex([*GUARD_STATES, "all"], fill_value=0)
    counts.index.name = "state"
    counts.columns.name = None
    return counts.reset_index()


def fallback_summary(table: pd.DataFrame, predictor: str) -> str:
    """One line for the front: how many planets a guard sent to a fallback predictor, and
    how many are in each non-normal state."""
    name = predictor_name(predictor)
    fallback = table.loc[table["predictor"] != name, "predictor"].value_counts()
    states = table.loc[table["state"] != "normal", "state"].value_counts()
    line = f"{len(table)} test planets: {int(fallback.sum())} got a fallback predictor"
    if not fallback.empty:
        line += " (" + ", ".join(f"{n} {what}" for what, n in fallback.items()) + ")"
    if states.empty:
        return line + "; every guard state normal."
    return line + "; " + ", ".join(f"{n} {state}" for state, n in states.items()) + "."


def worst_planets(
    table: pd.DataFrame, scores: Mapping[int, float] | None = None, n: int = N_WORST
) -> pd.DataFrame:
    """The ``n`` planets most likely to cost the score, worst first.

    With ``scores`` (per-planet score, truth known): lowest score first. Without (real
    data): by guard state in ``SEVERITY`` order, and within a state the weakest transit
    evidence first (lowest significance, untested last): a faint transit is where a fit
    goes wrong unseen. The ``score`` column is NaN where no score exists.
    """
    ranked = table.assign(score=[(scores or {}).get(i, float("nan")) for i in table["planet_id"]])
    if scores:
        ranked = ranked.sort_values(["score", "planet_id"], na_position="last")
    else:
        severity = ranked["state"].map({state: k for k, state in enumerate(SEVERITY)})
        ranked = ranked.assign(severity=severity).sort_values(
            ["severity", "transit_significance", "planet_id"], na_position="last"
        )
    return ranked.head(n)[WORST_COLUMNS].reset_index(drop=True)


def per_planet_scores(score_report: Mapping) -> dict[int, float]:
    """Planet id -> score of the submitted predictor from a score.json report."""
    scores = score_report[score_report["predictor"]]["per_planet_score"]
    return dict(zip(score_report["planet_ids"], scores, strict=True))


def write_guard_tables(
    table: pd.DataFrame,
    scores: Mapping[int, float] | None,
    out_table: str | Path,
    out_counts: str | Path,
    out_worst: str | Path,
) -> None:
    """results/diagnostics/guards.csv (the guard table), guard_counts.csv and
    worst_planets.csv (``worst_planets`` of the scores where truth exists)."""
    write_csv_atomic(out_table, table)
    write_csv_atomic(out_counts, guard_counts(table))
    worst = worst_planets(table, scores)  # rounded: it is read on the report's front page
    write_csv_atomic(out_worst, worst.round({"score": 4, "transit_significance": 2}))
