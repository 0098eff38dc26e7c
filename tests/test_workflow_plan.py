"""How the workflow cuts per-planet work into jobs (spectramind.workflow): typed units, their
output paths, batches that keep finished work as it ran, and the config keys rules read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from spectramind.core.provenance import write_manifest
from spectramind.io import layout
from spectramind.workflow import (
    CALIBRATE,
    EXTRACT,
    FIT,
    RULE_CONFIG_KEYS,
    PlanetUnit,
    VisitUnit,
    config_params,
    plan_batches,
    recorded_batch,
)
from spectramind.workflow.config_keys import block_params, rules_table
from spectramind.workflow.stages import visits_by_instrument

REPO = Path(__file__).resolve().parents[1]


def test_a_unit_round_trips_through_its_output_path():
    visit = CALIBRATE.unit(split="test", planet_id="17", instrument="AIRS-CH0", visit="1")
    assert visit == VisitUnit("test", 17, "AIRS-CH0", 1)
    paths = CALIBRATE.paths(visit)
    assert paths == {
        "dataset": "results/calibrated/test/17/AIRS-CH0_1.nc",
        "manifest": "results/manifests/calibrate/test/17/AIRS-CH0_1.json",
    }
    assert CALIBRATE.parse(paths["dataset"]) == visit
    assert CALIBRATE.parse(paths["manifest"], "manifest") == visit
    planet = PlanetUnit("train", 5)
    assert FIT.parse(FIT.paths(planet)["fit"]) == planet
    assert EXTRACT.log == "results/logs/extract/{split}/{planet_id}.log"
    assert CALIBRATE.benchmark == (
        "results/benchmarks/calibrate/{split}/{planet_id}/{instrument}_{visit}.tsv"
    )


def test_a_path_of_another_stage_is_refused_by_name():
    with pytest.raises(ValueError, match="is not a fit output"):
        FIT.parse("results/lightcurves/test/5.nc")


def test_a_jobs_units_are_read_from_its_outputs_one_or_many():
    one = {"fit": "results/fit/test/3.nc", "manifest": "results/manifests/fit/test/3.json"}
    assert FIT.units_of(one) == [PlanetUnit("test", 3)]
    many = {"fit": ["results/fit/test/3.nc", "results/fit/test/1.nc"]}
    assert FIT.units_of(many) == [PlanetUnit("test", 3), PlanetUnit("test", 1)]


def test_extraction_reads_its_planets_visits_per_instrument_in_visit_order():
    paths = [
        CALIBRATE.paths(VisitUnit("test", planet, instrument, visit))["dataset"]
        for planet in (4, 9)
        for visit in (1, 0)
        for instrument in ("AIRS-CH0", "FGS1")
    ]
    visits = visits_by_instrument(paths, PlanetUnit("test", 9))
    folder = "results/calibrated/test/9"
    assert visits == {
        "AIRS-CH0": [f"{folder}/AIRS-CH0_0.nc", f"{folder}/AIRS-CH0_1.nc"],
        "FGS1": [f"{folder}/FGS1_0.nc", f"{folder}/FGS1_1.nc"],
    }


def test_batches_cut_new_work_by_size():
    assert plan_batches([5, 1, 2, 3, 4], 2, {}) == [(1, 5), (2, 3), (4,)]
    assert plan_batches([5, 1, 2], 1, {}) == [(1,), (2,), (5,)]
    with pytest.raises(ValueError, match="planets_per_job must be >= 1"):
        plan_batches([1], 0, {})


def test_batches_that_ran_are_kept_whatever_the_size():
    recorded = {1: (1, 2, 3), 2: (1, 2, 3), 3: (1, 2, 3), 4: (4,)}
    for size in (1, 2, 5):
        batches = plan_batches([1, 2, 3, 4, 5, 6], size, recorded)
        assert (1, 2, 3) in batches and (4,) in batches
        assert sorted(p for batch in batches for p in batch) == [1, 2, 3, 4, 5, 6]


def test_a_recorded_batch_with_a_planet_gone_or_taken_is_cut_again():
    # planet 3 left the data set: its old batch cannot be re-run as it was
    assert plan_batches([1, 2], 5, {1: (1, 2, 3), 2: (1, 2, 3)}) == [(1, 2)]
    assert plan_batches([1, 2], 1, {1: (1, 2, 3), 2: (1, 2, 3)}) == [(1,), (2,)]
    # two records claiming planet 2 (an interrupted re-cut): the first wins, once
    batches = plan_batches([1, 2, 3], 1, {1: (1, 2), 2: (1, 2), 3: (2, 3)})
    assert batches == [(1, 2), (3,)]


def test_the_manifest_records_the_batch_read_back(tmp_path):
    output = tmp_path / "fit.nc"
    output.write_bytes(b"x")
    manifest = tmp_path / "m.json"
    write_manifest(manifest, rule="fit", outputs=[output], config={}, batch=[9, 2])
    assert json.loads(manifest.read_text())["batch"] == [2, 9]
    assert recorded_batch(manifest) == (2, 9)
    write_manifest(manifest, rule="diagnose", outputs=[output], config={})
    assert recorded_batch(manifest) is None
    assert recorded_batch(tmp_path / "missing.json") is None


def test_planet_manifests_are_found_without_knowing_the_visits(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for visit in (0, 1):
        path = Path(CALIBRATE.paths(VisitUnit("test", 7, "FGS1", visit))["manifest"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    found = CALIBRATE.planet_manifests(PlanetUnit("test", 7))
    assert [p.name for p in found] == ["FGS1_0.json", "FGS1_1.json"]
    assert CALIBRATE.planet_manifests(PlanetUnit("test", 8)) == []


def test_config_params_are_the_keys_a_rule_reads():
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    config["training"] = {"cross_fit_folds": 5, "epochs": 3}
    config["guards"] = {**config["guards"], "min_transit_significance": 7.0,
                        "contact_probability": 0.9, "prior_conflict_p_value": 1e-3,
                        "failed_planet_fallback": True}  # fmt: skip
    fit = config_params(config, "fit")
    assert fit.pop("fit") == config["fit"]
    assert block_params(fit, "guards") == {
        key: value for key, value in config["guards"].items() if key != "exclude_from_training"
    }
    assert config_params(config, "physics_validation") == {
        "fit": config["fit"], "training_cross_fit_folds": 5, "seed": config["seed"],
        "guards_prior_conflict": True, "guards_prior_conflict_p_value": 1e-3,
    }  # fmt: skip
    assert config_params(config, "submission") == {}
    assert config_params(config, "kaggle_bundle") == {"config": config}


def test_the_rules_table_in_docs_is_current():
    assert (REPO / "docs/rules.md").read_text() == rules_table()
    for rule in RULE_CONFIG_KEYS:
        assert f"| `{rule}` |" in rules_table()


def test_raw_paths_come_from_the_layout():
    files = layout.visit_files("root", "train", 42, "FGS1", 1)
    assert files[0] == Path("root/train/42/FGS1_signal_1.parquet")
    assert [f.name for f in files[1:]] == [
        f"{frame}.parquet" for frame in layout.CALIBRATION_FRAMES
    ]
    assert {f.parent for f in files[1:]} == {Path("root/train/42/FGS1_calibration_1")}
    assert layout.top_level_file("root", "adc_info.csv") == Path("root/adc_info.csv")
    with pytest.raises(ValueError, match="not a top-level file"):
        layout.top_level_file("root", "train/42")
