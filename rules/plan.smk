# What this run works on: the raw root (simulated or real), its planets and their visits, the
# artifacts folder, and the units and batches of the per-planet stages. Input functions are
# in common.smk; the layout of raw and results paths is the library's (spectramind.io.layout,
# spectramind.workflow).

import os
from functools import cache
from importlib.util import find_spec
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from spectramind.io import INSTRUMENTS, discover_visits, list_planets
from spectramind.workflow import (
    PlanetUnit,
    VisitUnit,
    config_params,
    plan_batches,
    recorded_batch,
)
from spectramind.workflow.config_keys import PREDICTION_FILES

validate(config, schema="../config/schema.yaml")

# Each job runs one thread (the default of `threads`): stop numpy's BLAS
# from starting a thread per core inside each of the --cores jobs running side by side.
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

# Jobs import the library from this checkout, whatever environment runs them (a per-rule
# conda env holds only third-party packages; a Kaggle bundle is a copy of the source).
os.environ.update(
    PYTHONPATH=os.pathsep.join(
        [workflow.basedir, *filter(None, [os.environ.get("PYTHONPATH")])]
    )
)

SIMULATED_RAW = "results/raw"
TRUTH = "results/truth"
SIMULATING = config["raw_dir"] is None
RAW = SIMULATED_RAW if SIMULATING else config["raw_dir"]
BUILT_ARTIFACTS = "results/artifacts"
ARTIFACTS = config["artifacts_dir"]
BUILDS_ARTIFACTS = os.path.normpath(ARTIFACTS) == BUILT_ARTIFACTS
SPLITS = ("train", "test")
PLANETS_PER_JOB = config["planets_per_job"]


def model_importable():
    """Whether the V50 jobs can import torch: in their conda env (--sdm conda), or in the
    environment that runs this workflow."""
    methods = {str(m).lower() for m in workflow.deployment_settings.deployment_method}
    if any("conda" in m for m in methods):
        return True
    try:  # found without importing it: every Snakemake start parses this
        return find_spec("torch") is not None
    except ImportError:  # an import hook that refuses it
        return False


# predictor auto chooses between the physics fit and V50 by evidence; without torch there is
# no V50 to choose, and it is the physics fit.
if config["predictor"] == "auto" and not model_importable():
    config["predictor"] = "physics"
# The predictors whose test predictions are one file (rule predict's or auto's), and those
# that train the V50 model.
PREDICTS_FROM_FILE = config["predictor"] in PREDICTION_FILES

if PLANETS_PER_JOB > 1 and config["check_raw"]:
    raise WorkflowError(
        "planets_per_job > 1 needs check_raw: false: a batch is fixed when the workflow is "
        "parsed, before check_raw can exclude a planet from it."
    )


def reads(rule):
    """The params of ``rule``: the config keys it reads (spectramind.workflow.config_keys),
    nothing more, so no other key makes its outputs out of date."""
    return config_params(config, rule)


def simulation_config():
    """The simulator's settings, built from the validated workflow config. The simulator
    is imported only here (and below) when simulating: it takes ~1.4 s (scipy.signal) that
    every Snakemake start on a real root, e.g. each SLURM job, would pay for nothing."""
    from spectramind.simulate import SimulationConfig

    return SimulationConfig(seed=config["seed"], **config["simulation"])


def has_split(split):
    """Whether the raw root holds ``split``: a test-only root (what a user with trained
    artifacts has, or a cut-down Kaggle input) has no train/ folder."""
    return SIMULATING or (Path(RAW) / split).is_dir()


def discover_ids():
    """Planet ids per split: drawn by the simulator, or the real root's planet folders
    cross-checked against its star_info tables (empty for a split the root lacks)."""
    if SIMULATING:
        from spectramind.simulate import planet_ids

        return planet_ids(simulation_config())
    return {
        split: list_planets(RAW, split) if has_split(split) else [] for split in SPLITS
    }


PLANETS = discover_ids()


@cache
def planet_visits(split, planet_id):
    """Visit numbers of one planet: from the simulator's draw, or the real root's files.
    Memoised: every job of the planet asks, and the answer cannot change during a run.
    """
    if SIMULATING:
        from spectramind.simulate import draw_planet

        planet = draw_planet(simulation_config(), int(planet_id), split)
        return tuple(range(len(planet.visits)))
    return tuple(discover_visits(RAW, split, int(planet_id)))


def stage_units(stage, split, planets):
    """The units of ``stage`` for ``planets`` of ``split``: each planet, or each visit of
    each instrument of each planet for a per-visit stage (calibrate)."""
    if not stage.per_visit:
        return [PlanetUnit(split, int(planet)) for planet in planets]
    return [
        VisitUnit(split, int(planet), instrument, visit)
        for planet in planets
        for visit in planet_visits(split, planet)
        for instrument in INSTRUMENTS
    ]


def planet_batches(stage, split):
    """The batches of ``split``'s planets that ``stage`` runs as batch jobs: batches that
    ran before, kept as they ran, and the rest cut by planets_per_job (a batch of one is the
    per-planet rule's job). None with check_raw, which excludes planets after parsing.
    """
    if config["check_raw"]:
        return []
    recorded = {}
    for planet in PLANETS[split]:
        manifests = stage.planet_manifests(PlanetUnit(split, int(planet)))
        recorded[int(planet)] = recorded_batch(manifests[0]) if manifests else None
    planets = [int(planet) for planet in PLANETS[split]]
    return [
        batch
        for batch in plan_batches(planets, PLANETS_PER_JOB, recorded)
        if len(batch) > 1
    ]
