import csv
import os
from functools import cache
from pathlib import Path
from types import SimpleNamespace

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from spectramind.diagnostics import FIGURES as DIAGNOSTIC_FIGURES
from spectramind.io import INSTRUMENTS, RawDataError, discover_visits, list_planets
from spectramind.io.layout import CALIBRATION_FRAMES

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


wildcard_constraints:
    split="train|test",
    planet_id=r"\d+",
    instrument="FGS1|AIRS-CH0",
    visit=r"\d+",


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


def job_unit(wildcards, output, inputs=None):
    """One unit of a per-planet rule's work (see spectramind.core.jobs.run_units): its
    wildcards, its own inputs, and its outputs by name, the manifest apart."""
    outputs = {name: str(path) for name, path in output.items()}
    return {
        "wildcards": dict(wildcards.items()),
        "inputs": inputs or {},
        "manifest": outputs.pop("manifest"),
        "outputs": outputs,
    }


PLANETS_PER_JOB = config["planets_per_job"]


def planet_batches():
    """(split, index, planet ids) of each batch of ``planets_per_job`` planets: none when
    every planet is a job of its own."""
    if PLANETS_PER_JOB == 1:
        return []
    return [
        (
            split,
            start // PLANETS_PER_JOB,
            PLANETS[split][start : start + PLANETS_PER_JOB],
        )
        for split in SPLITS
        for start in range(0, len(PLANETS[split]), PLANETS_PER_JOB)
    ]


def batch_unit(rule, inputs=None, **wildcards):
    """The unit a batched job does for ``rule``'s job with these wildcards: the same
    outputs, from the per-planet rule's own output patterns."""
    output = {
        name: str(pattern).format(**wildcards) for name, pattern in rule.output.items()
    }
    return job_unit(wildcards, output, inputs)


def calibrate_units(split, batch):
    """Every visit of every instrument of the batch's planets."""
    return [
        batch_unit(
            rules.calibrate, split=split, planet_id=pid, instrument=ins, visit=visit
        )
        for pid in batch
        for visit in planet_visits(split, pid)
        for ins in INSTRUMENTS
    ]


def extract_units(split, batch):
    """The light-curve extraction of each of the batch's planets."""
    return [
        batch_unit(
            rules.extract,
            calibrated_files(SimpleNamespace(split=split, planet_id=pid)),
            split=split,
            planet_id=pid,
        )
        for pid in batch
    ]


def fit_units(split, batch):
    """The physics fit of each of the batch's planets."""
    return [
        batch_unit(
            rules.fit,
            {
                "lightcurves": str(rules.extract.output.lightcurves).format(
                    split=split, planet_id=pid
                )
            },
            split=split,
            planet_id=pid,
        )
        for pid in batch
    ]


def batch_raw_files(split, batch):
    """The raw files a calibrate batch opens (as raw_visit_files, for all its visits)."""
    files = []
    for unit in calibrate_units(split, batch):
        for found in raw_visit_files(SimpleNamespace(**unit["wildcards"])).values():
            files += [found] if isinstance(found, str) else found
    return sorted(set(files))


def raw_planet_dir(wildcards):
    return f"{RAW}/{wildcards.split}/{wildcards.planet_id}"


def visit_files(split, planet_id, instrument, visit):
    """The raw files of one visit of one instrument: its signal and calibration frames."""
    planet = f"{RAW}/{split}/{planet_id}"
    folder = f"{planet}/{instrument}_calibration_{visit}"
    return {
        "signal": f"{planet}/{instrument}_signal_{visit}.parquet",
        "calibration": [f"{folder}/{frame}.parquet" for frame in CALIBRATION_FRAMES],
    }


def raw_visit_files(wildcards):
    """The raw files one calibrate job opens. A simulated planet is one directory output;
    on a real root each file is declared, so editing any of them reruns the job."""
    if SIMULATING:
        return {"planet": raw_planet_dir(wildcards)}
    w = wildcards
    return visit_files(w.split, w.planet_id, w.instrument, w.visit)


def planet_files(wildcards):
    """Every raw file of one planet (check_raw reads them all)."""
    if SIMULATING:
        return {"planet": raw_planet_dir(wildcards)}
    try:
        visits = planet_visits(wildcards.split, wildcards.planet_id)
    except RawDataError:  # the check itself reports it, and the planet is excluded
        return {"planet": raw_planet_dir(wildcards)}
    files = []
    for visit in visits:
        for instrument in INSTRUMENTS:
            found = visit_files(wildcards.split, wildcards.planet_id, instrument, visit)
            files += [found["signal"], *found["calibration"]]
    return {"files": files}


def top_level(name):
    """A file at the top of the raw root (adc_info.csv, axis_info.parquet, ...)."""
    return f"{RAW}/{name}"


@cache
def excluded_planets():
    """(split, planet id) of each planet the raw check excluded. The inventory of every
    planet's check is the checkpoint, so the checks run side by side and nothing downstream
    is planned before all are done (a checkpoint per planet is resolved, and so run, one at
    a time). Memoised once the inventory exists; before, .get() raises and Snakemake waits.
    """
    with open(checkpoints.inventory.get().output.excluded) as table:
        return {(row["split"], row["planet_id"]) for row in csv.DictReader(table)}


def usable_planets(split):
    """The planets of ``split`` that are calibrated and fitted: with check_raw, those that
    passed it; without, all."""
    if not config["check_raw"]:
        return PLANETS[split]
    excluded = excluded_planets()
    return [pid for pid in PLANETS[split] if (split, str(pid)) not in excluded]


def planets_of(split, pattern):
    """Expand ``pattern`` over the usable planets of one split."""
    return [
        pattern.format(split=split, planet_id=planet_id)
        for planet_id in usable_planets(split)
    ]


def per_planet(pattern):
    """Expand ``pattern`` over every (split, planet_id) of the data set, checks or not."""
    return [
        pattern.format(split=split, planet_id=planet_id)
        for split in SPLITS
        for planet_id in PLANETS[split]
    ]


def artifact(name):
    """An input learned from the train split. The default artifacts_dir is built by this
    run; any other folder (e.g. an attached Kaggle dataset) is read as given, never written.
    Say what is missing instead of Snakemake's generic missing-input message."""
    path = f"{ARTIFACTS}/{name}"

    def resolve(wildcards):
        if Path(path).is_file() or (BUILDS_ARTIFACTS and has_split("train")):
            return path
        if BUILDS_ARTIFACTS:
            problem = f"the raw root {RAW} has no train split to learn it from"
        else:
            problem = f"artifacts_dir {ARTIFACTS} is read as given and lacks it"
        raise WorkflowError(
            f"{path} not found: {problem}. Point artifacts_dir at the results/artifacts "
            "folder of a run that had train data (--config artifacts_dir=/path/to/it)."
        )

    return resolve


def fit_priors(wildcards):
    """What the fit options switch on of what is learned from train (artifacts), by input
    name: the option, the input and the artifact share one name."""
    return {
        name: artifact(f"{name}.json")(wildcards)
        for name in (
            "limb_darkening_prior",
            "white_light_error_scale",
            "spectral_prior",
        )
        if config["fit"][name]
    }


def simulate_planet_runtime(wildcards, attempt):
    """Minutes for one simulated planet: ~1.5 min per visit at full size, less when sparser."""
    return attempt * max(2, int(3 * 2 / config["simulation"]["cadence"]) + 2)


def per_attempt(mem_mb):
    """Memory that doubles on each retry (``--retries``), for a job killed for memory."""
    return lambda wildcards, attempt: mem_mb * 2 ** (attempt - 1)


def check_raw_mem_mb(wildcards, input, attempt):
    """Signals are streamed, but a parquet row group is decoded whole: allow 3x the largest
    signal file of the planet."""
    signals = Path(raw_planet_dir(wildcards)).glob("*_signal_*.parquet")
    largest = max((path.stat().st_size for path in signals), default=0)
    return attempt * (500 + 3 * largest // 1_000_000)


def uncalibrated_predictions(wildcards):
    """The test planets' physics fits, or the V50 model's predictions (config predictor),
    before sigma calibration."""
    if config["predictor"] == "v50":
        return ["results/predictions/v50.nc"]
    return planets_of("test", "results/fit/{split}/{planet_id}.nc")


def validation_predictions(wildcards):
    """The predictor's validation planets that sigma calibration is fitted on (none for
    method none, which needs no data: runs with too few train planets to cross-fit)."""
    if config["sigma_calibration"]["method"] == "none":
        return []
    return [f"results/validation/{config['predictor']}.nc"]


def example_planet():
    """The test planet the light-curve and frame figures show: the first usable one."""
    return usable_planets("test")[0]


def example_calibrated(wildcards):
    """The example planet's calibrated first visit: FGS1, then AIRS-CH0."""
    planet = example_planet()
    return [f"results/calibrated/test/{planet}/{ins}_0.nc" for ins in INSTRUMENTS]


def diagnose_inputs(wildcards):
    """Planets with known truth for the diagnose rule: the simulated test planets (their
    predictions before and after sigma calibration), else the validation planets; and the
    example planet's light curves and fit for the light-curve figure."""
    example = example_planet()
    inputs = {
        "example_lightcurve": f"results/lightcurves/test/{example}.nc",
        "example_fit": f"results/fit/test/{example}.nc",
        "example_stars": top_level("test_star_info.csv"),
    }
    if not SIMULATING:
        return inputs | {"validation": "results/validation/calibrated.nc"}
    return inputs | {
        "calibrated": "results/predictions/calibrated.nc",
        "uncalibrated": uncalibrated_predictions(wildcards),
        "test_labels": f"{TRUTH}/test_labels.csv",
        "noise_floor": f"{TRUTH}/noise_floor.csv",
        "marginalised_floor": f"{TRUTH}/noise_floor_marginalised.csv",
    }


def inference_output():
    """What the ``inference`` target builds: the test planets' submission, nothing of train."""
    return ["results/submission/submission.zip"]


def get_final_output(wildcards):
    """Every planet's fit, the submission, the dashboard and what it shows."""
    return (
        per_planet_fits()
        + inference_output()
        + report_items()
        + ["results/dashboard.html"]
    )


def caption_file(path):
    """The caption file (report/<name>.rst) of a REPORT_ITEMS path."""
    return f"{workflow.basedir}/report/{REPORT_ITEMS[path][0]}.rst"


def per_planet_fits():
    return [
        path
        for split in SPLITS
        for path in planets_of(split, "results/fit/{split}/{planet_id}.nc")
    ]
