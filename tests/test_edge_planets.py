"""Edge-case planets of the simulator (spectramind/simulate/edge.py): no transit in the
visit, only ingress or egress, grazing orbits.

Each kind is checked on the noiseless light curve the simulator draws for the planet over
the whole visit, not on the constants that place it; with every share 0 the planets are
those of the simulator before the switches existed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, replace

import numpy as np
import pandas as pd
import pytest

from spectramind.extract.diagnostics import transit_duration_h
from spectramind.simulate import (
    PlanetTruth,
    SimulationConfig,
    draw_planet,
    planet_ids,
    simulate_planet,
)
from spectramind.simulate.catalogue import write_top_level
from spectramind.simulate.config import EDGE_KINDS
from spectramind.simulate.edge import PARTIAL_INSIDE_FRACTION, VISIT_LENGTH_H
from spectramind.simulate.planet import true_depths
from spectramind.simulate.spectrum import depth_spectrum
from spectramind.simulate.transit import light_curves
from spectramind.simulate.wavelengths import target_wavelengths

BASE = SimulationConfig(seed=7, n_train=0, n_test=12, cadence=500, second_visit_fraction=0.5)
IDS = planet_ids(BASE)["test"]
# sha256 of BASE's planets' params.csv rows (json, sorted keys), computed with the simulator
# before the edge switches existed (commit 70c751b). Update it only with a deliberate change
# of the default simulator.
PINNED_PLANETS_SHA256 = "6ddf947fdc43a20be0f6973f68b9cbdc4ecb3525e2b6d210645ac4ee2ace1954"
# The whole visit, 3.6 s apart: a superset of every instrument's pair times at any cadence.
VISIT_TIMES_H = np.linspace(0.0, VISIT_LENGTH_H, 7501)
WAVELENGTHS_UM = target_wavelengths()


def _planets(config: SimulationConfig) -> list[PlanetTruth]:
    return [draw_planet(config, planet_id, "test") for planet_id in IDS]


def _only(kind: str) -> SimulationConfig:
    return replace(BASE, **{f"edge_{kind}": 1.0})


def _curves(planet: PlanetTruth, visit: int) -> np.ndarray:
    """Noiseless relative flux (times, 283 target wavelengths) of ``visit`` over the visit."""
    t0_h = planet.visits[visit].t0_h
    return light_curves(planet, t0_h, VISIT_TIMES_H, WAVELENGTHS_UM)


def _duration_h(planet: PlanetTruth) -> float:
    return transit_duration_h(planet.P, planet.sma, planet.inclination, planet.base_depth)


def test_zero_shares_are_the_unchanged_simulator():
    """Explicit zero shares draw the planets of the default config and of the pre-edge code,
    with no edge column in their params rows."""
    zero = replace(BASE, **{f"edge_{kind}": 0.0 for kind in EDGE_KINDS})
    planets = _planets(zero)
    assert planets == _planets(BASE)
    assert all(p.edge == "normal" for p in planets)
    rows = json.dumps([p.flat_record() for p in planets], sort_keys=True)
    assert hashlib.sha256(rows.encode()).hexdigest() == PINNED_PLANETS_SHA256
    assert not zero.edges_on


@pytest.mark.parametrize("kind", EDGE_KINDS)
def test_edge_moves_only_the_geometry_it_names_and_keeps_the_labels(kind):
    """An edge planet is the default planet with only its mid-times (no_transit, partial) or
    its inclination (grazing) changed: same star, atmosphere, systematics and labels."""
    moved = {"grazing": {"inclination", "i_catalogue"}}.get(kind, {"visits"})
    for edge, default in zip(_planets(_only(kind)), _planets(BASE), strict=True):
        assert edge.edge == kind
        changed = {key for key, value in asdict(edge).items() if value != asdict(default)[key]} - {
            "edge"
        }
        assert changed == moved
        assert np.array_equal(true_depths(edge), true_depths(default))
        for mine, theirs in zip(edge.visits, default.visits, strict=True):
            assert replace(mine, t0_h=theirs.t0_h) == theirs


def test_no_transit_leaves_the_visit_at_exactly_one():
    """Every visit of every no_transit planet, every wavelength: flux 1 throughout."""
    for planet in _planets(_only("no_transit")):
        for visit in range(len(planet.visits)):
            assert np.all(_curves(planet, visit) == 1.0), planet.planet_id


def test_partial_transit_shows_one_contact_and_a_fifth_of_the_transit():
    """Each visit starts or ends inside the transit and reaches the other contact on neither
    side: flux below 1 at exactly one end, exactly 1 at the other, one contiguous dip; the
    dip inside lasts 20..45 % of T14."""
    both_sides = set()
    for planet in _planets(_only("partial_transit")):
        for visit, truth in enumerate(planet.visits):
            dip = (_curves(planet, visit) < 1.0).any(axis=1)
            starts_inside = bool(dip[0])
            assert dip[0] != dip[-1], planet.planet_id
            assert truth.t0_h < 0.0 or truth.t0_h > VISIT_LENGTH_H
            assert (truth.t0_h < 0.0) == starts_inside
            assert np.count_nonzero(np.diff(dip.astype(int))) == 1
            inside = dip.sum() * (VISIT_TIMES_H[1] - VISIT_TIMES_H[0]) / _duration_h(planet)
            low, high = PARTIAL_INSIDE_FRACTION
            assert low - 0.01 < inside < high + 0.01, (planet.planet_id, inside)
            both_sides.add(starts_inside)
    assert both_sides == {True, False}


def test_grazing_never_lies_wholly_on_the_disc():
    """b above 1 - k at every wavelength (k from its depth label), each channel's deepest
    point below k^2 yet visible, and star_info's inclination within its usual error."""
    for planet in _planets(_only("grazing")):
        k = np.sqrt(depth_spectrum(planet, WAVELENGTHS_UM))
        assert np.all(planet.impact_parameter > 1.0 - k)
        assert np.all(planet.impact_parameter < 1.0 + k)
        for visit in range(len(planet.visits)):
            depth = 1.0 - _curves(planet, visit).min(axis=0)
            assert np.all(depth > 0.0) and np.all(depth < k**2), planet.planet_id
        assert abs(planet.i_catalogue - planet.inclination) < 1.0


def test_shares_are_drawn_per_planet():
    """Mixed shares: each kind about its share of 400 planets, all kinds present."""
    config = replace(BASE, edge_no_transit=0.2, edge_partial_transit=0.1, edge_grazing=0.3)
    kinds = pd.Series([draw_planet(config, pid, "test").edge for pid in range(400)])
    counts = kinds.value_counts()
    expected = {"no_transit": 80, "partial_transit": 40, "grazing": 120, "normal": 160}
    for kind, n in expected.items():
        assert abs(counts[kind] - n) < 4 * np.sqrt(n), (kind, counts[kind])


@pytest.mark.parametrize(
    "shares",
    [
        {"edge_no_transit": 0.5, "edge_partial_transit": 0.4, "edge_grazing": 0.2},
        {"edge_no_transit": 1.0, "edge_grazing": 0.01},
    ],
)
def test_shares_over_one_are_refused_naming_the_keys(shares):
    with pytest.raises(ValueError) as error:
        SimulationConfig(**shares)
    for kind in EDGE_KINDS:
        assert f"edge_{kind}" in str(error.value)


@pytest.mark.parametrize("key", [f"edge_{kind}" for kind in EDGE_KINDS])
def test_a_share_outside_zero_one_is_refused(key):
    with pytest.raises(ValueError, match=key):
        SimulationConfig(**{key: -0.1})
    with pytest.raises(ValueError, match=key):
        SimulationConfig(**{key: 1.5})


def test_shares_summing_to_one_in_floating_point_are_accepted():
    SimulationConfig(edge_no_transit=0.1, edge_partial_transit=0.2, edge_grazing=0.7)


def test_truth_tables_name_the_kind(tmp_path):
    """params.csv has an edge column with the drawn kinds while a share is above 0 (none at
    0); the per-planet record of a simulated no_transit planet names it, infinite floors."""
    config = replace(BASE, edge_no_transit=0.3, edge_partial_transit=0.3, edge_grazing=0.3)
    write_top_level(config, tmp_path / "raw", tmp_path / "truth")
    params = pd.read_csv(tmp_path / "truth" / "params.csv").set_index("planet_id")
    assert params["edge"].to_dict() == {p.planet_id: p.edge for p in _planets(config)}
    assert set(params["edge"]) == {"normal", *EDGE_KINDS}
    write_top_level(BASE, tmp_path / "raw_off", tmp_path / "truth_off")
    assert "edge" not in pd.read_csv(tmp_path / "truth_off" / "params.csv").columns

    no_transit = replace(_only("no_transit"), second_visit_fraction=0.0)
    record_path = tmp_path / "truth" / "planets" / f"{IDS[0]}.json"
    folder = tmp_path / "raw" / "test" / str(IDS[0])
    simulate_planet(no_transit, "test", IDS[0], folder, record_path)
    record = json.loads(record_path.read_text())
    assert record["edge"] == "no_transit"
    assert np.isinf(record["noise_floor"]).all()
    assert np.isinf(record["noise_floor_marginalised"]).all()
    assert record["depth"] == true_depths(draw_planet(BASE, IDS[0], "test")).tolist()
