"""Same config + seed -> identical bytes; outputs are atomic; manifests record provenance."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest

from spectramind.core import provenance
from spectramind.simulate import (
    SimulationConfig,
    draw_planet,
    planet_ids,
    simulate_dataset,
    simulate_planet,
)
from spectramind.simulate import planet as planet_module
from spectramind.simulate.planet import true_depths

REPO = Path(__file__).resolve().parents[1]
TINY = SimulationConfig(seed=5, n_train=2, n_test=1, cadence=100, second_visit_fraction=0.5)


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("tiny")
    simulate_dataset(TINY, base / "raw", base / "truth")
    return _digests(base)


def test_same_seed_gives_identical_bytes(tiny, tmp_path):
    simulate_dataset(TINY, tmp_path / "raw", tmp_path / "truth")
    assert len(tiny) > 20
    assert _digests(tmp_path) == tiny


# Functions of the cadence alone (real data: the same for every planet and data set).
SEED_FREE = {"raw/adc_info.csv", "raw/axis_info.parquet", "raw/wavelengths.csv"}


def test_other_seed_changes_every_drawn_file_and_nothing_else(tiny, tmp_path):
    """Other planets (ids, labels, stars, frames, calibration files, truth), the same time
    axis, wavelengths and ADC settings."""
    other = SimulationConfig(seed=6, n_train=2, n_test=1, cadence=100, second_visit_fraction=0.5)
    simulate_dataset(other, tmp_path / "raw", tmp_path / "truth")
    digests = _digests(tmp_path)
    for name in SEED_FREE:
        assert digests[name] == tiny[name], name
    shared = set(digests) & set(tiny)
    assert shared > SEED_FREE | {"raw/train.csv", "truth/test_labels.csv"}
    for name in shared - SEED_FREE:
        assert digests[name] != tiny[name], name
    # Planet folders and truth records are named by planet id: other ids, no file in common.
    assert not any("/train/" in name or "/test/" in name for name in shared)
    # The same planet id under the other seed: other parameters, detector, frames and truth.
    planet_id = planet_ids(TINY)["train"][0]
    simulate_planet(other, "train", planet_id, tmp_path / "same" / str(planet_id),
                    tmp_path / "same.json")  # fmt: skip
    same = {f"raw/train/{planet_id}/{name}": digest
            for name, digest in _digests(tmp_path / "same" / str(planet_id)).items()}  # fmt: skip
    same[f"truth/planets/train/{planet_id}.json"] = _digests(tmp_path)["same.json"]
    assert len(same) > 10 and set(same) <= set(tiny)
    for name, digest in same.items():
        assert digest != tiny[name], name
    # Its depths too (the noise floor alone would make the truth files differ).
    depths = json.loads((tmp_path / "same.json").read_text())["depth"]
    assert not np.allclose(depths, true_depths(draw_planet(TINY, planet_id, "train")))


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
    for package in ("numpy", "scipy", "pandas", "batman-package"):
        assert on_disk["packages"][package] == version(package)
    if (REPO / ".git").exists():  # a git checkout (an installed copy records "unknown")
        # The commit of this checkout: a full hash git knows, "+dirty" with local changes.
        match = re.fullmatch(r"([0-9a-f]{40})(\+dirty)?", on_disk["git_commit"])
        assert match, on_disk["git_commit"]
        known = subprocess.run(["git", "cat-file", "-t", match[1]], cwd=REPO,
                               capture_output=True, text=True, check=False)  # fmt: skip
        assert known.stdout.strip() == "commit"
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
