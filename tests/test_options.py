"""Config blocks and their option dataclasses: the schema states every key's default,
meaning and limits as the dataclasses do, the workflow's validated config builds the same
options, bad values fail naming their key, and a non-default option changes exactly its own
output."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from spectramind import io
from spectramind.calibrate import CalibrationOptions, calibrate_visit
from spectramind.core.netcdf import write_netcdf
from spectramind.extract import options as extract_options
from spectramind.extract.lightcurves import extract_planet
from spectramind.extract.options import ExtractionOptions
from spectramind.extract.regressors import REGRESSORS
from spectramind.fit import FitOptions, fit_planet
from spectramind.fit import options as fit_options
from spectramind.guards import GuardOptions
from spectramind.guards import options as guard_options
from spectramind.kaggle import options as kaggle_options
from spectramind.kaggle.options import KaggleOptions
from spectramind.models import training, v50
from spectramind.models.fusion import FUSIONS
from spectramind.models.loss import LossWeights
from spectramind.models.training import TrainingOptions
from spectramind.models.v50 import ModelOptions
from spectramind.simulate import SimulationConfig
from spectramind.simulate.config import EDGE_KINDS
from spectramind.simulate.constants import FULL_PAIRS
from spectramind.uncertainty import METHODS, SigmaCalibrationOptions, sigma_calibration

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "config/schema.yaml"
BLOCKS = {
    "calibration": CalibrationOptions,
    "extraction": ExtractionOptions,
    "fit": FitOptions,
    "model": ModelOptions,
    "training": TrainingOptions,
    "sigma_calibration": SigmaCalibrationOptions,
    "kaggle": KaggleOptions,
    "guards": GuardOptions,
}
LIMITS = {
    "extraction": extract_options.LIMITS,
    "fit": fit_options.LIMITS,
    "model": v50.LIMITS,
    "training": training.LIMITS,
    "sigma_calibration": sigma_calibration.LIMITS,
    "kaggle": kaggle_options.LIMITS,
    "guards": guard_options.LIMITS,
}


def schema_block(name: str) -> dict:
    return yaml.safe_load(SCHEMA.read_text())["properties"][name]


def schema_default(prop: dict) -> object:
    """A property's default, built from its sub-properties' defaults for an object."""
    if "properties" in prop:
        return {key: schema_default(sub) for key, sub in prop["properties"].items()}
    return prop["default"]


def plain(value: object) -> object:
    """JSON round trip: tuples become lists, as in YAML."""
    return json.loads(json.dumps(value))


def validated(config: dict) -> dict:
    """``config`` as the workflow gets it: checked, every key left out set to its default."""
    validate(config, str(SCHEMA))
    return config


def test_every_schema_key_has_a_default_and_a_description():
    def check(properties: dict, prefix: str) -> None:
        for key, prop in properties.items():
            assert "description" in prop, prefix + key
            assert "default" in prop or "properties" in prop, prefix + key
            check(prop.get("properties", {}), f"{prefix}{key}.")

    check(yaml.safe_load(SCHEMA.read_text())["properties"], "")


@pytest.mark.parametrize("block", BLOCKS)
def test_schema_states_every_dataclass_default(block):
    cls = BLOCKS[block]
    properties = schema_block(block)["properties"]
    assert set(properties) == {f.name for f in dataclasses.fields(cls)}
    defaults = plain(cls().as_dict())
    for key, prop in properties.items():
        assert schema_default(prop) == defaults[key], key


def test_schema_states_the_simulator_defaults_and_limits():
    """The simulation block and the top-level seed are SimulationConfig's fields."""
    properties = schema_block("simulation")["properties"]
    defaults = dataclasses.asdict(SimulationConfig())
    assert {"seed", *properties} == set(defaults)
    assert schema_block("seed")["default"] == defaults.pop("seed")
    assert {key: prop["default"] for key, prop in properties.items()} == defaults
    assert properties["cadence"]["maximum"] == FULL_PAIRS["AIRS-CH0"] // 8
    for key in ("second_visit_fraction", *(f"edge_{kind}" for kind in EDGE_KINDS)):
        fraction = properties[key]
        assert (fraction["minimum"], fraction["maximum"]) == (0, 1), key


def test_schema_states_the_loss_weights():
    loss = schema_block("training")["properties"]["loss"]["properties"]
    assert schema_default({"properties": loss}) == dataclasses.asdict(LossWeights())


@pytest.mark.parametrize("block", LIMITS)
def test_schema_states_the_dataclass_limits(block):
    properties = schema_block(block)["properties"]
    for key, (low, high) in LIMITS[block].items():
        prop = properties[key]
        schema_low = prop.get("minimum", prop.get("exclusiveMinimum"))
        assert (schema_low, prop["maximum"]) == (low, high), key
        assert prop["type"] == ("integer" if isinstance(low, int) else "number"), key


def test_schema_lists_the_allowed_names():
    properties = schema_block("fit")["properties"]
    for instrument in io.INSTRUMENTS:
        items = properties["regressors"]["properties"][instrument]["items"]
        assert items["enum"] == list(REGRESSORS)
    model = schema_block("model")["properties"]
    assert (model["conv"]["enum"], model["fusion"]["enum"]) == (list(v50.CONVS), list(FUSIONS))
    assert schema_block("sigma_calibration")["properties"]["method"]["enum"] == list(METHODS)


def test_schema_states_the_limb_darkening_bounds_and_aperture_radii():
    prefix = schema_block("fit")["properties"]["start_limb_darkening"]["prefixItems"]
    bounds = tuple((p["minimum"], p["maximum"]) for p in prefix)
    assert bounds == fit_options.LIMB_DARKENING_BOUNDS
    radius = schema_block("extraction")["properties"]["fgs1_aperture_radii_px"]["items"]
    assert (radius["minimum"], radius["maximum"]) == extract_options.APERTURE_RADIUS_LIMITS


def test_an_empty_config_validates_to_the_dataclass_defaults():
    config = validated({})
    for block, cls in BLOCKS.items():
        assert cls.from_config(config[block]) == cls(), block
    assert SimulationConfig(seed=config["seed"], **config["simulation"]) == SimulationConfig()


@pytest.mark.parametrize(
    ("block", "given"),
    [
        ("model", {"hidden": 16, "heads": 2}),
        ("model", {"bands": {}}),
        ("model", {"bands": {"CO": [[2.25, 2.45]]}}),
        ("training", {"loss": {"smoothness": 1.0}, "epochs": 3}),
        ("calibration", {"time_bin": {"FGS1": 120, "AIRS-CH0": 10}}),
        ("fit", {"spectral_prior": False}),
        ("sigma_calibration", {"method": "conformal"}),
        ("kaggle", {"probe_jobs": 4}),
    ],
)
def test_a_partial_block_validates_to_the_options_the_dataclass_builds(block, given):
    """What the workflow gets (the block with the schema's defaults filled in, nested ones
    included) builds the same options as the block given to the dataclass alone."""
    config = validated({block: json.loads(json.dumps(given))})
    assert BLOCKS[block].from_config(config[block]) == BLOCKS[block].from_config(given)


def test_shipped_config_validates_and_builds_every_block():
    config = validated(yaml.safe_load((REPO / "config/config.yaml").read_text()))
    for block, cls in BLOCKS.items():
        cls.from_config(config[block])
    SimulationConfig(seed=config["seed"], **config["simulation"])


@pytest.mark.parametrize(
    ("block", "key", "value"),
    [
        ("extraction", "fgs1_aperture_radii_px", [-3.0]),
        ("extraction", "airs_edge_rows", 2.5),
        ("fit", "regressors", {"FGS1": ["fgs1_centroid_z"]}),
        ("fit", "max_depth", 0),
    ],
)
def test_schema_refuses_bad_values(block, key, value):
    with pytest.raises(WorkflowError, match=key):
        validate({block: {key: value}}, str(SCHEMA))


@pytest.mark.parametrize(
    ("cls", "block", "message"),
    [
        (
            ExtractionOptions,
            {"fgs1_aperture_radii_px": [-3.0]},
            "extraction.fgs1_aperture_radii_px",
        ),
        (ExtractionOptions, {"fgs1_aperture_radii_px": [3.0, 13.0]}, "fgs1_background_radius_px"),
        (ExtractionOptions, {"fgs1_method": "aperture4"}, "extraction.fgs1_method"),
        (ExtractionOptions, {"airs_edge_rows": 2.5}, "extraction.airs_edge_rows"),
        (ExtractionOptions, {"fgs1_background_radius_px": "12"}, "fgs1_background_radius_px"),
        (ExtractionOptions, {"edge_rows": 4}, "unknown extraction option(s) ['edge_rows']"),
        (
            FitOptions,
            {"regressors": {"FGS1": ["fgs1_centroid_z"], "AIRS-CH0": []}},
            "fit.regressors.FGS1",
        ),
        (FitOptions, {"regressors": {"FGS1": []}}, "fit.regressors"),
        (FitOptions, {"limb_darkening_groups": 0}, "fit.limb_darkening_groups"),
        (FitOptions, {"ramp_timescale_h": -0.5}, "fit.ramp_timescale_h"),
        (FitOptions, {"start_limb_darkening": [2.0, 0.1]}, "fit.start_limb_darkening"),
    ],
)
def test_bad_option_is_an_error_naming_its_key(cls, block, message):
    with pytest.raises(ValueError) as error:
        cls.from_config(block)
    assert message in str(error.value)


@pytest.fixture(scope="module")
def one_visit(small_root, tmp_path_factory):
    """Calibrated files of the first training planet's first visit, and its star."""
    out = tmp_path_factory.mktemp("options")
    planet_id = io.discover_planets(small_root, "train")[0]
    files = {}
    for instrument in io.INSTRUMENTS:
        path = out / f"{instrument}.nc"
        write_netcdf(calibrate_visit(small_root, "train", planet_id, instrument, 0), path)
        files[instrument] = [path]
    star = io.read_star_info(small_root, "train").loc[planet_id]
    return files, io.read_wavelengths(small_root), star


def extract(one_visit, options=None):
    files, wavelengths, _ = one_visit
    return extract_planet(files["FGS1"], files["AIRS-CH0"], wavelengths, options)


@pytest.fixture(scope="module")
def default_lightcurves(one_visit):
    return extract(one_visit)


def test_fgs1_aperture_changes_only_the_fgs1_channel(one_visit):
    five = extract(one_visit, ExtractionOptions(fgs1_method="aperture5"))
    four = extract(
        one_visit, ExtractionOptions(fgs1_aperture_radii_px=(4.0,), fgs1_method="aperture4")
    )
    flux_five, flux_four = five["flux"].values, four["flux"].values
    assert not np.allclose(flux_four[..., 0], flux_five[..., 0], rtol=1e-4)
    np.testing.assert_array_equal(flux_four[..., 1:], flux_five[..., 1:])
    assert json.loads(four.attrs["fgs1_method"]) == ["aperture4"]
    assert json.loads(four.attrs["options"])["fgs1_aperture_radii_px"] == [4.0]


def test_airs_edge_rows_change_only_the_airs_channels(one_visit, default_lightcurves):
    lc = extract(one_visit, ExtractionOptions(airs_edge_rows=2))
    default = default_lightcurves["flux"].values
    np.testing.assert_array_equal(lc["flux"].values[..., 0], default[..., 0])
    assert not np.allclose(lc["flux"].values[..., 1:], default[..., 1:], rtol=1e-6)


def test_fit_options_change_the_spectrum(one_visit, default_lightcurves):
    _, _, star = one_visit
    default = fit_planet(default_lightcurves, star)
    grouped = fit_planet(default_lightcurves, star, FitOptions(limb_darkening_groups=4))
    assert not np.allclose(grouped["limb_darkening_u1"].values, default["limb_darkening_u1"].values)
    assert not np.allclose(grouped["depth"].values[1:], default["depth"].values[1:])
    # FGS1 keeps its white-light limb darkening and its own design: unchanged.
    assert grouped["depth"].values[0] == default["depth"].values[0]
    assert json.loads(grouped.attrs["options"])["limb_darkening_groups"] == 4


@pytest.mark.parametrize(
    "overlay",
    sorted(
        p.name
        for p in (REPO / "config").glob("*.yaml")
        if p.name not in {"config.yaml", "schema.yaml"}
    ),
)
def test_config_overlays_pass_the_schema(overlay):
    """Each documented overlay (--configfile config/<overlay>) merged over config.yaml, as
    Snakemake merges them, is a valid configuration."""
    from snakemake.utils import update_config

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    update_config(config, yaml.safe_load((REPO / "config" / overlay).read_text()))
    validate(config, str(SCHEMA))
    bad = {**config, "simulation": {**config["simulation"], "cadence": 0}}
    with pytest.raises(WorkflowError, match="cadence"):
        validate(bad, str(SCHEMA))
