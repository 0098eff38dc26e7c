"""The command-line tools a user runs outside Snakemake."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from spectramind import io
from spectramind.io import discover_planets
from spectramind.io.cli import main as check_raw
from spectramind.simulate import SimulationConfig, planet_ids
from spectramind.simulate.cli import main as simulate


def test_simulate_writes_a_readable_root_as_asked(tmp_path):
    """Its options reach the simulator: the planets are those of seed 7 with one train and
    one test planet, the frames those of cadence 100, the truth beside the root."""
    simulate([str(tmp_path / "raw"), "--seed", "7", "--n-train", "1", "--n-test", "1",
              "--cadence", "100"])  # fmt: skip
    expected = planet_ids(SimulationConfig(seed=7, n_train=1, n_test=1, cadence=100))
    for split in io.SPLITS:
        assert discover_planets(tmp_path / "raw", split) == expected[split]
    axis = io.read_axis_info(tmp_path / "raw")
    assert axis.n_frames("FGS1") == 2 * (67500 // 100)  # 67500 pairs in a full visit
    assert axis.n_frames("AIRS-CH0") == 2 * (5625 // 100)
    noise = pd.read_csv(tmp_path / "truth" / "noise_floor.csv")
    assert sorted(noise["planet_id"]) == sorted(expected["train"] + expected["test"])


def test_check_raw_summarises_and_names_a_broken_file(small_root, tmp_path, capsys):
    assert check_raw([str(small_root), "--split", "test"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    planets = discover_planets(small_root, "test")
    assert [json.loads(line)["planet_id"] for line in lines] == planets
    # The first planet's summary against the files read here directly.
    summary = json.loads(lines[0])
    visits = io.discover_visits(small_root, "test", planets[0])
    assert len(summary["files"]) == 2 * len(visits)
    for entry in summary["files"]:
        instrument, visit = entry["instrument"], entry["visit"]
        raw = pq.read_table(io.signal_path(small_root, "test", planets[0], instrument, visit))
        values = np.column_stack([column.to_numpy() for column in raw.columns])
        assert entry["frames"] == raw.num_rows
        assert (entry["raw_min"], entry["raw_max"]) == (values.min(), values.max())
        folder = io.calibration_dir(small_root, "test", planets[0], instrument, visit)
        dead = pq.read_table(folder / "dead.parquet").to_pandas().to_numpy()
        assert entry["dead_fraction"] == dead.mean()
    broken = tmp_path / "raw"
    shutil.copytree(small_root, broken)
    planet = discover_planets(broken, "train")[0]
    (broken / "train" / str(planet) / "AIRS-CH0_calibration_0" / "dead.parquet").unlink()
    assert check_raw([str(broken), "--split", "train", "--planet", str(planet)]) == 1
    assert "dead.parquet: file not found" in capsys.readouterr().err
