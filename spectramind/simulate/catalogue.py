"""The top-level files of a simulated raw root, and the truth tables kept beside it.

Kaggle layout: adc_info.csv, axis_info.parquet, wavelengths.csv, train.csv,
train_star_info.csv, test_star_info.csv, sample_submission.csv. Truth (never in the
Kaggle layout): test_labels.csv, params.csv and, gathered from the planet jobs,
noise_floor.csv (depth-only Cramer-Rao floor) and noise_floor_marginalised.csv (drift,
limb darkening and geometry marginalised).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from spectramind.core.atomic import write_csv_atomic, write_json_atomic, write_parquet_atomic
from spectramind.io.layout import N_TARGETS
from spectramind.io.tables import sigma_columns, target_columns
from spectramind.simulate.config import SimulationConfig
from spectramind.simulate.constants import ADC_GAIN, ADC_OFFSET
from spectramind.simulate.injection import Injection
from spectramind.simulate.mismatch import flat_mismatch_record
from spectramind.simulate.planet import true_depths
from spectramind.simulate.population import PlanetTruth, draw_population
from spectramind.simulate.timing import axis_info_table
from spectramind.simulate.wavelengths import target_wavelengths

SAMPLE_SIGMA = 1e-3


def labels_table(planets: Iterable[PlanetTruth]) -> pd.DataFrame:
    """planet_id, wl_1..wl_283 with the true depths."""
    planets = list(planets)
    depths = np.array([true_depths(p) for p in planets]).reshape(len(planets), N_TARGETS)
    table = pd.DataFrame(depths, columns=target_columns())
    table.insert(0, "planet_id", [p.planet_id for p in planets])
    return table


def star_info_table(planets: Iterable[PlanetTruth], float_ids: bool) -> pd.DataFrame:
    """planet_id, Rs, Ms, Ts, Mp, e, P, sma, i; the public test copy writes ids as floats."""
    planets = list(planets)
    table = pd.DataFrame([p.star_info_row() for p in planets])
    ids = [float(p.planet_id) if float_ids else p.planet_id for p in planets]
    table.insert(0, "planet_id", ids)
    return table


def sample_submission_table(test: list[PlanetTruth], mean_depth: float) -> pd.DataFrame:
    """One row per test planet: a constant depth and sigma, in the submission column order."""
    values = np.concatenate(
        [np.full(len(target_columns()), mean_depth), np.full(len(sigma_columns()), SAMPLE_SIGMA)]
    )
    table = pd.DataFrame(
        np.tile(values, (len(test), 1)), columns=target_columns() + sigma_columns()
    )
    table.insert(0, "planet_id", [p.planet_id for p in test])
    return table


def write_top_level(config: SimulationConfig, root: str | Path, truth_dir: str | Path) -> None:
    """Write every top-level Kaggle file of ``root`` and the cheap truth tables."""
    root, truth_dir = Path(root), Path(truth_dir)
    planets = draw_population(config)
    train = [p for p in planets if p.split == "train"]
    test = [p for p in planets if p.split == "test"]
    train_labels = labels_table(train)
    mean_depth = float(train_labels[target_columns()].to_numpy().mean()) if train else 0.02
    write_csv_atomic(
        root / "adc_info.csv",
        pd.DataFrame(
            [
                {
                    "FGS1_adc_offset": ADC_OFFSET,
                    "FGS1_adc_gain": ADC_GAIN,
                    "AIRS-CH0_adc_offset": ADC_OFFSET,
                    "AIRS-CH0_adc_gain": ADC_GAIN,
                }
            ]
        ),
    )
    write_parquet_atomic(root / "axis_info.parquet", axis_info_table(config))
    write_csv_atomic(
        root / "wavelengths.csv", pd.DataFrame([target_wavelengths()], columns=target_columns())
    )
    write_csv_atomic(root / "train.csv", train_labels)
    write_csv_atomic(root / "train_star_info.csv", star_info_table(train, float_ids=False))
    write_csv_atomic(root / "test_star_info.csv", star_info_table(test, float_ids=True))
    write_csv_atomic(root / "sample_submission.csv", sample_submission_table(test, mean_depth))
    write_csv_atomic(truth_dir / "test_labels.csv", labels_table(test))
    params = [
        p.flat_record() | edge_record(config, p) | flat_mismatch_record(config, p) for p in planets
    ]
    write_csv_atomic(truth_dir / "params.csv", pd.DataFrame(params))


def edge_record(config: SimulationConfig, planet: PlanetTruth) -> dict[str, str]:
    """The planet's edge kind ("normal", "no_transit", ...) while an edge_* share is above 0;
    nothing otherwise, so the default truth stays as it was."""
    return {"edge": planet.edge} if config.edges_on else {}


def write_planet_truth(
    path: str | Path,
    planet: PlanetTruth,
    noise_floor: np.ndarray,
    marginalised_floor: np.ndarray,
    mismatch: dict[str, object] | None = None,
    injection: Injection | None = None,
    edge: dict[str, str] | None = None,
) -> None:
    """Per-planet truth record (JSON): split, labels, both Cramer-Rao noise floors and, when
    a mismatch switch is on, what its effects drew (mismatch.mismatch_truth); with an active
    ``injection``, the labels include its depth and the record names it; ``edge``: the
    planet's edge kind while the edge switches are on (edge_record).

    With mismatch on, the floors stay those of the fit's own model family (quadratic limb
    darkening, polynomial drift): a reference, no longer a bound."""
    record = {
        "planet_id": planet.planet_id,
        "split": planet.split,
        "depth": true_depths(planet, injection).tolist(),
        "noise_floor": np.asarray(noise_floor).tolist(),
        "noise_floor_marginalised": np.asarray(marginalised_floor).tolist(),
    }
    if mismatch:
        record["mismatch"] = mismatch
    record.update(edge or {})
    if injection is not None and injection.active:
        record["injection"] = asdict(injection)
    write_json_atomic(path, record)


def write_noise_floor_table(
    records: Iterable[str | Path], out: str | Path, key: str = "noise_floor"
) -> None:
    """Gather one floor (``key``: noise_floor or noise_floor_marginalised) of the per-planet
    truth records into a table (planet_id, wl_1..wl_283)."""
    rows = []
    for path in records:
        record = json.loads(Path(path).read_text())
        rows.append([record["planet_id"], *record[key]])
    table = pd.DataFrame(rows, columns=["planet_id", *target_columns()])
    write_csv_atomic(out, table.sort_values("planet_id"))
