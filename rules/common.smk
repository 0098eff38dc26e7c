from pathlib import Path

from snakemake.utils import validate

from spectramind.io import INSTRUMENTS, discover_planets, discover_visits
from spectramind.simulate import SimulationConfig, draw_planet, planet_ids

validate(config, schema="../config/schema.yaml")

SIMULATED_RAW = "results/raw"
TRUTH = "results/truth"
SIMULATING = config["raw_dir"] is None
RAW = SIMULATED_RAW if SIMULATING else config["raw_dir"]
SPLITS = ("train", "test")


def simulation_config():
    """The simulator's settings, built from the validated workflow config."""
    return SimulationConfig(seed=config["seed"], **config["simulation"])


def discover_ids():
    """Planet ids per split: drawn by the simulator, or listed from the real root."""
    if SIMULATING:
        return planet_ids(simulation_config())
    return {split: discover_planets(RAW, split) for split in SPLITS}


PLANETS = discover_ids()


wildcard_constraints:
    split="train|test",
    planet_id=r"\d+",
    instrument="FGS1|AIRS-CH0",
    visit=r"\d+",


def planet_visits(split, planet_id):
    """Visit numbers of one planet: from the simulator's draw, or the real root's files."""
    if SIMULATING:
        planet = draw_planet(simulation_config(), int(planet_id), split)
        return list(range(len(planet.visits)))
    return discover_visits(RAW, split, int(planet_id))


def calibrated_files(wildcards):
    """Every calibrated visit of one planet, keyed by instrument, in visit order."""
    visits = planet_visits(wildcards.split, wildcards.planet_id)
    return {
        instrument: [
            f"results/calibrated/{wildcards.split}/{wildcards.planet_id}/{instrument}_{visit}.nc"
            for visit in visits
        ]
        for instrument in INSTRUMENTS
    }


def raw_planet_dir(wildcards):
    return f"{RAW}/{wildcards.split}/{wildcards.planet_id}"


def raw_axis_info(wildcards):
    return f"{RAW}/axis_info.parquet"


def planets_of(split, pattern):
    """Expand ``pattern`` over the planets of one split."""
    return [
        pattern.format(split=split, planet_id=planet_id) for planet_id in PLANETS[split]
    ]


def per_planet(pattern):
    """Expand ``pattern`` over every (split, planet_id) of the data set."""
    return [path for split in SPLITS for path in planets_of(split, pattern)]


def simulate_planet_runtime(wildcards, attempt):
    """Minutes for one simulated planet: ~1.5 min per visit at full size, less when sparser."""
    return attempt * max(2, int(3 * 2 / config["simulation"]["cadence"]) + 2)


def check_raw_mem_mb(wildcards, input, attempt):
    """Signals are streamed, but a parquet row group is decoded whole: allow 3x the largest
    signal file of the planet."""
    signals = Path(input.planet).glob("*_signal_*.parquet")
    largest = max((path.stat().st_size for path in signals), default=0)
    return attempt * (500 + 3 * largest // 1_000_000)


def get_final_output():
    outputs = per_planet("results/fit/{split}/{planet_id}.nc")
    outputs.append("results/submission/submission.zip")
    if config["check_raw"]:
        outputs.append("results/inventory/inventory.csv")
    if SIMULATING:
        outputs += [f"{TRUTH}/noise_floor.csv", "results/diagnostics/score.json"]
    return outputs
