"""Physics simulator writing an ADC 2025 raw root in the exact Kaggle layout, with known truth.

Typical use::

    config = SimulationConfig(seed=1, n_train=8, n_test=4, cadence=10)
    simulate_dataset(config, "results/raw", "results/truth")
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from spectramind.simulate.catalogue import (
    edge_record,
    write_noise_floor_table,
    write_planet_truth,
    write_top_level,
)
from spectramind.simulate.config import SimulationConfig
from spectramind.simulate.injection import Injection
from spectramind.simulate.mismatch import mismatch_truth
from spectramind.simulate.planet import noise_floors, write_planet
from spectramind.simulate.population import PlanetTruth, draw_planet, planet_ids
from spectramind.simulate.wavelengths import target_wavelengths

log = logging.getLogger(__name__)

__all__ = [
    "Injection",
    "PlanetTruth",
    "SimulationConfig",
    "draw_planet",
    "planet_ids",
    "simulate_dataset",
    "simulate_planet",
    "write_noise_floor_table",
    "write_top_level",
]


def simulate_planet(
    config: SimulationConfig,
    split: str,
    planet_id: int,
    planet_folder: str | Path,
    truth_path: str | Path,
    injection: Injection | None = None,
) -> None:
    """Write one planet's raw folder and its truth record (labels and noise floors).

    ``injection``: a known signal added to the frames and the labels (injection.py), drawn
    with the same noise as without it; the noise floors stay the uninjected planet's.
    """
    planet = draw_planet(config, planet_id, split)
    log.info(
        "planet %s (%s, %s): Ts %.0f K, depth %.5f, b %.2f, %d visit(s), cadence %d",
        planet_id,
        split,
        planet.edge,
        planet.Ts,
        planet.base_depth,
        planet.impact_parameter,
        len(planet.visits),
        config.cadence,
    )
    write_planet(config, planet, Path(planet_folder), injection)
    floor, marginalised = noise_floors(config, planet)
    log.info(
        "noise floor: FGS1 %.1f ppm, AIRS median %.1f ppm; marginalised %.1f, %.1f ppm",
        floor[0] * 1e6,
        float(np.median(floor[1:])) * 1e6,
        marginalised[0] * 1e6,
        float(np.median(marginalised[1:])) * 1e6,
    )
    mismatch = mismatch_truth(config, planet, target_wavelengths())
    edge = edge_record(config, planet)
    write_planet_truth(truth_path, planet, floor, marginalised, mismatch, injection, edge)


def simulate_dataset(config: SimulationConfig, root: str | Path, truth_dir: str | Path) -> None:
    """Write a whole raw root and its truth tables in one process (the non-Snakemake path)."""
    root, truth_dir = Path(root), Path(truth_dir)
    write_top_level(config, root, truth_dir)
    records = []
    for split, ids in planet_ids(config).items():
        for planet_id in ids:
            record = truth_dir / "planets" / split / f"{planet_id}.json"
            simulate_planet(config, split, planet_id, root / split / str(planet_id), record)
            records.append(record)
    write_noise_floor_table(records, truth_dir / "noise_floor.csv")
    write_noise_floor_table(
        records, truth_dir / "noise_floor_marginalised.csv", key="noise_floor_marginalised"
    )
