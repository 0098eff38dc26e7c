"""The command-line tools a user runs outside Snakemake."""

from __future__ import annotations

import json
import shutil

from spectramind.io import discover_planets
from spectramind.io.cli import main as check_raw
from spectramind.simulate.cli import main as simulate


def test_simulate_writes_a_readable_root(tmp_path):
    simulate([str(tmp_path / "raw"), "--n-train", "1", "--n-test", "1", "--cadence", "100"])
    assert len(discover_planets(tmp_path / "raw", "train")) == 1
    assert (tmp_path / "truth" / "noise_floor.csv").is_file()


def test_check_raw_summarises_and_names_a_broken_file(small_root, tmp_path, capsys):
    assert check_raw([str(small_root), "--split", "test"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(discover_planets(small_root, "test"))
    assert json.loads(lines[0])["files"][0]["frames"] > 0
    broken = tmp_path / "raw"
    shutil.copytree(small_root, broken)
    planet = discover_planets(broken, "train")[0]
    (broken / "train" / str(planet) / "AIRS-CH0_calibration_0" / "dead.parquet").unlink()
    assert check_raw([str(broken), "--split", "train", "--planet", str(planet)]) == 1
    assert "dead.parquet: file not found" in capsys.readouterr().err
