"""The worst planets in sight: the guard table read from hand-made fit files, the predictor
that made each planet's submitted values, the counts per state and predictor, the worst-10
ranking (by score with truth, by guard state without), and the dashboard that shows them."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from spectramind.diagnostics.dashboard import DashboardEntry, dashboard_html
from spectramind.diagnostics.guards import (
    fallback_summary,
    guard_counts,
    per_planet_scores,
    planet_guards,
    worst_planets,
    write_guard_tables,
)
from spectramind.evaluation.scoring import worst_scored
from spectramind.guards.state import GuardRecord

# planet id -> its guard record; planet 5 has none (a fit written before the guards)
RECORDS = {
    1: GuardRecord(transit_significance=40.0, contacts={"T1": 1.0, "T4": 1.0}),
    2: GuardRecord("no_transit", "naive", 0.5, reason="no transit in the window"),
    3: GuardRecord("partial_transit", "prior_predictive", 6.0, {"T1": 0.1}, reason="no T1"),
    4: GuardRecord("partial_transit", "physics_fit", 9.0, spectral_prior="conflict"),
}


@pytest.fixture
def fits(tmp_path) -> list:
    """Tiny fit files carrying only their guard attributes, and planet 5 without any."""
    paths = []
    for planet in (*RECORDS, 5):
        record = RECORDS.get(planet)
        attrs = record.attrs() if record else {}
        path = tmp_path / f"{planet}.nc"
        xr.Dataset({"depth": ("channel", np.zeros(3))}, attrs=attrs).to_netcdf(path)
        paths.append(path)
    return paths


def predictions(tmp_path, made_by: dict[int, str] | None) -> str:
    """A predictions file over the planets, with a ``predictor`` variable when given."""
    ids = [1, 2, 3, 4, 5]
    data = xr.Dataset(
        {"depth": (("planet", "channel"), np.zeros((5, 3)))},
        coords={"planet": np.array(ids, dtype=np.int64)},
    )
    if made_by is not None:
        data["predictor"] = ("planet", np.array([made_by.get(i, "v50") for i in ids]))
    path = tmp_path / "calibrated.nc"
    data.to_netcdf(path)
    return str(path)


def test_the_table_reads_each_fits_guard_record_and_none_as_normal(fits):
    table = planet_guards(fits, "physics").set_index("planet_id")
    assert table.loc[2, "state"] == "no_transit" and table.loc[2, "predictor"] == "naive"
    assert table.loc[3, "p_T1"] == pytest.approx(0.1) and math.isnan(table.loc[3, "p_T2"])
    assert table.loc[4, "spectral_prior"] == "conflict"
    assert table.loc[5, "state"] == "normal" and table.loc[5, "predictor"] == "physics_fit"
    assert math.isnan(table.loc[5, "transit_significance"])


def test_the_predictor_is_the_predictions_variable_else_the_configured_one(fits, tmp_path):
    with_variable = predictions(tmp_path, {2: "naive", 3: "physics_fit"})
    made = planet_guards(fits, "v50", with_variable).set_index("planet_id")["predictor"]
    assert made.to_dict() == {1: "v50", 2: "naive", 3: "physics_fit", 4: "v50", 5: "v50"}
    without = planet_guards(fits, "v50", predictions(tmp_path, None))
    assert set(without["predictor"]) == {"v50"}


def test_counts_per_state_and_predictor_with_totals(fits):
    counts = guard_counts(planet_guards(fits, "physics")).set_index("state")
    assert list(counts.index) == [
        "normal", "partial_transit", "grazing", "no_transit", "failed", "all",
    ]  # fmt: skip
    assert counts.loc["normal", "physics_fit"] == 2 and counts.loc["grazing", "all"] == 0
    assert counts.loc["partial_transit"].to_dict() == {
        "naive": 0, "physics_fit": 1, "prior_predictive": 1, "all": 2,
    }  # fmt: skip
    assert counts.loc["all", "all"] == 5


def test_the_front_line_counts_fallbacks_and_non_normal_states(fits):
    line = fallback_summary(planet_guards(fits, "physics"), "physics")
    assert line.startswith("5 test planets: 2 got a fallback predictor")
    assert "1 naive" in line and "1 prior_predictive" in line and "2 partial_transit" in line
    normal = fallback_summary(planet_guards(fits[:1], "v50"), "v50")
    assert normal == "1 test planets: 0 got a fallback predictor; every guard state normal."


def test_worst_planets_by_score_where_truth_exists(fits):
    table = planet_guards(fits, "physics")
    worst = worst_planets(table, {1: 0.5, 2: -40.0, 3: 0.2, 4: -1.0, 5: 0.6}, n=3)
    assert worst["planet_id"].tolist() == [2, 4, 3]
    assert worst.loc[0, ["state", "predictor", "reason"]].tolist() == [
        "no_transit", "naive", "no transit in the window",
    ]  # fmt: skip
    assert list(worst.columns) == [
        "planet_id", "score", "state", "predictor", "transit_significance", "reason",
    ]  # fmt: skip


def test_worst_planets_without_truth_by_guard_state_then_weakest_transit(fits):
    worst = worst_planets(planet_guards(fits, "physics"))
    # no_transit, then the partial transits weakest first, then normal (untested last)
    assert worst["planet_id"].tolist() == [2, 3, 4, 1, 5]
    assert worst["score"].isna().all()


def test_score_json_worst_planets_carry_the_guard_state(fits):
    guards = planet_guards(fits, "physics")
    worst = worst_scored([5, 1, 2], np.array([0.3, 0.9, -7.0]), guards, n=2)
    assert worst == [
        {"planet_id": 2, "score": -7.0, "state": "no_transit", "predictor": "naive"},
        {"planet_id": 5, "score": 0.3, "state": "normal", "predictor": "physics_fit"},
    ]
    assert worst_scored([5, 1], np.array([0.3, 0.1]))[0] == {"planet_id": 1, "score": 0.1}
    report = {"predictor": "v50", "planet_ids": [5, 1], "v50": {"per_planet_score": [0.3, 0.1]}}
    assert per_planet_scores(report) == {5: 0.3, 1: 0.1}


def test_the_dashboard_leads_with_the_counts_and_the_worst_planets(fits, tmp_path):
    table = planet_guards(fits, "physics")
    out = {name: tmp_path / f"{name}.csv" for name in ("guards", "counts", "worst")}
    write_guard_tables(table, {1: 0.5, 2: -40.0, 3: 0.2, 4: -1.0, 5: 0.6}, *out.values())
    written = pd.read_csv(out["worst"])
    assert written["planet_id"].tolist()[:2] == [2, 4] and len(written) == 5
    entries = [
        DashboardEntry("Data", "Inventory", "", out["guards"]),
        DashboardEntry("Guards", "Planets per guard state", "", out["counts"]),
        DashboardEntry("Guards", "Worst planets", "", out["worst"]),
    ]
    page = dashboard_html(entries, "run", front=fallback_summary(table, "physics"))
    assert "5 test planets: 2 got a fallback predictor" in page
    assert page.index('id="guards"') < page.index('id="data"')  # the guards lead the page
    assert "<td>no_transit</td><td>naive</td>" in page  # the worst planet's row
    assert "<td>partial_transit</td>" in page and ">-40.0<" in page
