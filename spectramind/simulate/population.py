"""Draw the simulated planets: ids, stars, orbits, atmospheres and per-visit systematics.

Everything is a pure function of (seed, planet_id), so the top-level job and each per-planet
job agree without sharing files.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from spectramind.extract.diagnostics import transit_duration_h
from spectramind.simulate import edge
from spectramind.simulate.config import (
    STREAM_EDGE,
    STREAM_PARAMETERS,
    STREAM_PLANET_IDS,
    STREAM_SYSTEMATICS,
    SimulationConfig,
)
from spectramind.simulate.constants import DEPTH_RANGE, STAR_RANGES

R_SUN_PER_AU = 215.032
DAYS_PER_YEAR = 365.25
MAX_IMPACT_PARAMETER = 0.85
MOLECULES = ("H2O", "CO2", "CH4", "CO")


@dataclass(frozen=True)
class VisitTruth:
    """Per-visit truth: transit mid-time and systematics amplitudes."""

    t0_h: float
    jitter_fast_px: float
    jitter_slow_px: float
    drift_slope: float
    drift_slope_colour: float
    drift_curvature: float
    ramp_amplitude: float
    ramp_colour: float
    ramp_timescale_h: float


@dataclass(frozen=True)
class PlanetTruth:
    """Everything the simulator knows about one planet.

    Catalogue values (what star_info.csv shows) are ``Rs, Ms, Ts, Mp, P, sma_catalogue,
    i_catalogue``; the transit is simulated with the true ``sma`` and ``inclination``.
    Units: Rs, Ms solar; Ts K; Mp Jupiter masses; P days; sma stellar radii; angles degrees.
    ``edge``: "normal" or the edge-case kind the planet was drawn as (edge.py).
    """

    planet_id: int
    split: str
    Rs: float
    Ms: float
    Ts: float
    Mp: float
    P: float
    sma: float
    inclination: float
    sma_catalogue: float
    i_catalogue: float
    base_depth: float
    brightness: float
    cloud_opacity: float
    abundances: tuple[float, ...]
    visits: tuple[VisitTruth, ...]
    edge: str = edge.NORMAL

    @property
    def impact_parameter(self) -> float:
        return float(self.sma * np.cos(np.radians(self.inclination)))

    def star_info_row(self) -> dict[str, float]:
        """The row star_info.csv shows for this planet (catalogue values, e = 0)."""
        return {
            "Rs": self.Rs,
            "Ms": self.Ms,
            "Ts": self.Ts,
            "Mp": self.Mp,
            "e": 0.0,
            "P": self.P,
            "sma": self.sma_catalogue,
            "i": self.i_catalogue,
        }

    def flat_record(self) -> dict[str, float | int | str]:
        """One flat row for params.csv: all scalars, molecules and visits spelled out; the
        edge kind is added only while the edge switches are on (catalogue.edge_record)."""
        skipped = ("abundances", "visits", "edge")
        record = {k: v for k, v in asdict(self).items() if k not in skipped}
        record["impact_parameter"] = self.impact_parameter
        record["n_visits"] = len(self.visits)
        abundances = zip(MOLECULES, self.abundances, strict=True)
        record.update({f"abundance_{m}": a for m, a in abundances})
        for n, visit in enumerate(self.visits):
            record.update({f"visit{n}_{k}": v for k, v in asdict(visit).items()})
        return record


def planet_ids(config: SimulationConfig) -> dict[str, list[int]]:
    """Distinct integer planet ids per split, drawn like the real ones (up to ~4.3e9)."""
    rng = config.rng(STREAM_PLANET_IDS)
    total = config.n_train + config.n_test
    ids: list[int] = []
    while len(ids) < total:
        ids = sorted(set(ids) | set(rng.integers(10_000, 4_294_967_295, total).tolist()))[:total]
    order = rng.permutation(total)
    chosen = [ids[k] for k in order]
    return {
        "train": sorted(chosen[: config.n_train]),
        "test": sorted(chosen[config.n_train :]),
    }


def _within(value: float, name: str) -> bool:
    lo, hi = STAR_RANGES[name]
    return lo <= value <= hi


def _draw_star_and_orbit(rng: np.random.Generator) -> dict[str, float]:
    """Main-sequence-like star and a transiting circular orbit, inside the real ranges."""
    while True:
        ms = rng.uniform(*STAR_RANGES["Ms"])
        rs = ms**0.9 * np.exp(rng.normal(0.0, 0.25))
        ts = 5600.0 * ms**0.45 * np.exp(rng.normal(0.0, 0.05))
        period = rng.uniform(*STAR_RANGES["P"])
        sma = (ms * (period / DAYS_PER_YEAR) ** 2) ** (1 / 3) * R_SUN_PER_AU / rs
        b = rng.uniform(0.0, MAX_IMPACT_PARAMETER)
        inclination = float(np.degrees(np.arccos(b / sma)))
        if all(
            _within(v, k) for k, v in (("Rs", rs), ("Ts", ts), ("sma", sma), ("i", inclination))
        ):
            return {"Rs": rs, "Ms": ms, "Ts": ts, "P": period, "sma": sma, "i": inclination}


def _draw_visit(rng: np.random.Generator) -> VisitTruth:
    """Transit timing and systematics of one visit (amplitudes as fractions of flux)."""
    return VisitTruth(
        t0_h=3.75 + float(np.clip(rng.normal(0.0, 0.4), -1.5, 1.5)),
        jitter_fast_px=rng.uniform(0.8, 1.2),
        jitter_slow_px=rng.uniform(0.8, 1.2),
        drift_slope=rng.normal(0.0, 1.5e-3),
        drift_slope_colour=rng.normal(0.0, 5e-4),
        drift_curvature=rng.normal(0.0, 5e-4),
        ramp_amplitude=rng.uniform(0.0, 2e-3),
        ramp_colour=rng.uniform(-0.5, 0.5),
        ramp_timescale_h=rng.uniform(0.2, 1.0),
    )


def draw_planet(config: SimulationConfig, planet_id: int, split: str) -> PlanetTruth:
    """All parameters of one planet, deterministic in (config.seed, planet_id)."""
    rng = config.rng(STREAM_PARAMETERS, planet_id)
    star = _draw_star_and_orbit(rng)
    mp = float(np.exp(rng.uniform(*np.log(STAR_RANGES["Mp"]))))
    base_depth = rng.uniform(*DEPTH_RANGE)
    brightness = 10 ** (-0.4 * rng.normal(0.0, 0.15))
    cloudy = rng.random() < 0.3
    cloud_opacity = float(np.exp(rng.uniform(np.log(0.3), np.log(10.0)))) if cloudy else 0.0
    abundances = tuple(float(10 ** rng.uniform(-2.0, 0.0)) for _ in MOLECULES)
    n_visits = 2 if rng.random() < config.second_visit_fraction else 1
    # Catalogue geometry is off by the small errors real star_info values carry.
    sma_catalogue = star["sma"] * (1.0 + rng.normal(0.0, 0.02))
    inclination_error = rng.normal(0.0, 0.2)
    visit_rng = config.rng(STREAM_SYSTEMATICS, planet_id)
    visits = tuple(_draw_visit(visit_rng) for _ in range(n_visits))
    kind, inclination, visits = _edge_case(config, planet_id, star, base_depth, visits)
    return PlanetTruth(
        planet_id=int(planet_id),
        split=split,
        Rs=star["Rs"],
        Ms=star["Ms"],
        Ts=star["Ts"],
        Mp=mp,
        P=star["P"],
        sma=star["sma"],
        inclination=inclination,
        sma_catalogue=float(np.clip(sma_catalogue, *STAR_RANGES["sma"])),
        i_catalogue=_catalogue_inclination(inclination, inclination_error),
        base_depth=base_depth,
        brightness=brightness,
        cloud_opacity=cloud_opacity,
        abundances=abundances,
        visits=visits,
        edge=kind,
    )


def _edge_case(
    config: SimulationConfig,
    planet_id: int,
    star: dict[str, float],
    base_depth: float,
    visits: tuple[VisitTruth, ...],
) -> tuple[str, float, tuple[VisitTruth, ...]]:
    """The planet's kind (edge.py), from its own stream, with the true inclination and the
    visits that kind gives: a grazing b, or mid-times outside the visit."""
    rng = config.rng(STREAM_EDGE, planet_id)
    kind = edge.draw_kind(rng, config.edge_fractions())
    if kind == "grazing":
        b = edge.grazing_impact_parameter(rng, float(np.sqrt(base_depth)))
        return kind, float(np.degrees(np.arccos(b / star["sma"]))), visits
    if kind in edge.OUTSIDE_VISIT:
        duration = transit_duration_h(star["P"], star["sma"], star["i"], base_depth)
        visits = tuple(replace(v, t0_h=edge.mid_time_h(rng, kind, duration)) for v in visits)
    return kind, star["i"], visits


def _catalogue_inclination(inclination: float, error: float) -> float:
    """star_info's inclination: the true one plus ``error``, at most 90 deg, inside the real
    catalogue's range unless the true one lies below it (a grazing orbit)."""
    value = min(90.0, inclination + error)
    low, high = STAR_RANGES["i"]
    return float(np.clip(value, low, high)) if inclination >= low else float(value)


def draw_population(config: SimulationConfig) -> list[PlanetTruth]:
    """Every planet of the data set, train first, each split sorted by id."""
    return [
        draw_planet(config, planet_id, split)
        for split, ids in planet_ids(config).items()
        for planet_id in ids
    ]
