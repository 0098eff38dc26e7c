"""Same config + seed -> identical bytes; outputs are atomic; manifests record provenance."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from spectramind.core import provenance
from spectramind.simulate import SimulationConfig, planet_ids, simulate_dataset, simulate_planet
from spectramind.simulate import planet as planet_module

TINY = SimulationConfig(seed=5, n_train=2, n_test=1, cadence=100, second_visit_fraction=0.5)


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_identical_bytes(tmp_path):
    simulate_dataset(TINY, tmp_path / "a" / "raw", tmp_path / "a" / "truth")
    simulate_dataset(TINY, tmp_path / "b" / "raw", tmp_path / "b" / "truth")
    first, second = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert len(first) > 20
    assert first == second


def test_other_seed_gives_other_data(tmp_path):
    other = SimulationConfig(seed=6, n_train=2, n_test=1, cadence=100, second_visit_fraction=0.5)
    simulate_dataset(TINY, tmp_path / "a" / "raw", tmp_path / "a" / "truth")
    simulate_dataset(other, tmp_path / "b" / "raw", tmp_path / "b" / "truth")
    a = (tmp_path / "a" / "raw" / "train.csv").read_bytes()
    b = (tmp_path / "b" / "raw" / "train.csv").read_bytes()
    assert a != b


def test_failed_planet_leaves_nothing_behind(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(planet_module, "write_calibration", fail)
    planet_id = planet_ids(TINY)["train"][0]
    folder = tmp_path / "raw" / "train" / str(planet_id)
    with pytest.raises(OSError, match="disk full"):
        simulate_planet(TINY, "train", planet_id, folder, tmp_path / "truth.json")
    assert not folder.exists()
    assert list((tmp_path / "raw" / "train").iterdir()) == []
    assert not (tmp_path / "truth.json").exists()


def test_manifest_records_config_commit_versions_and_hashes(tmp_path):
    out = tmp_path / "result.txt"
    out.write_text("transit depth\n")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.bin").write_bytes(b"\x00\x01")
    config = {"seed": 1, "simulation": {"cadence": 10}}
    manifest = provenance.write_manifest(
        tmp_path / "manifest.json", rule="demo", outputs=[out, folder], config=config
    )
    on_disk = json.loads((tmp_path / "manifest.json").read_text())
    assert on_disk["config_sha256"] == manifest["config_sha256"]
    assert on_disk["outputs"][str(out)] == hashlib.sha256(b"transit depth\n").hexdigest()
    assert on_disk["outputs"][str(folder / "a.bin")] == hashlib.sha256(b"\x00\x01").hexdigest()
    assert on_disk["packages"]["numpy"] != "not installed"
    assert on_disk["git_commit"]
    # The hash depends on content only, not key order.
    reordered = {"simulation": {"cadence": 10}, "seed": 1}
    assert provenance.config_hash(reordered) == manifest["config_sha256"]
    assert (
        provenance.config_hash({"seed": 2, "simulation": {"cadence": 10}})
        != (manifest["config_sha256"])
    )


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"cadence": 0}, "cadence"),
        ({"n_train": 0, "n_test": 0}, "not both 0"),
        ({"second_visit_fraction": 1.5}, "second_visit_fraction"),
    ],
)
def test_bad_simulation_settings_are_refused(kwargs, words):
    with pytest.raises(ValueError, match=words):
        SimulationConfig(**kwargs)
