# Input functions: what each rule reads, from the plan of the run (plan.smk) and the
# library's layouts of raw and results paths.

import csv

from spectramind.io import layout
from spectramind.workflow import CALIBRATE, EXTRACT, VisitUnit


def top_level(name, root=RAW):
    """A file at the top of the raw root (adc_info.csv, axis_info.parquet, ...); the
    simulator's rules name their own root, which is the raw root only when simulating.
    """
    return str(layout.top_level_file(root, name))


def raw_planet_dir(split, planet_id):
    return str(layout.planet_dir(RAW, split, planet_id))


def raw_visit_files(unit):
    """The raw files calibrating one visit opens. A simulated planet is one directory
    output; on a real root each file is declared, so editing any of them reruns the job.
    """
    if SIMULATING:
        return [raw_planet_dir(unit.split, unit.planet_id)]
    return [str(path) for path in layout.visit_files(RAW, *unit)]


def calibrate_inputs(units):
    """The raw files the units' visits are calibrated from, and the raw root's tables."""
    return {
        "raw": sorted({path for unit in units for path in raw_visit_files(unit)}),
        "adc": top_level("adc_info.csv"),
        "axis": top_level("axis_info.parquet"),
    }


def extract_inputs(units):
    """Every calibrated visit of the units' planets, and the wavelength grid."""
    return {
        "calibrated": [
            CALIBRATE.paths(visit)["dataset"]
            for unit in units
            for visit in stage_units(CALIBRATE, unit.split, [unit.planet_id])
        ],
        "wavelengths": top_level("wavelengths.csv"),
    }


def fit_inputs(units):
    """The units' light curves, their split's star table, the wavelength grid (a failed
    fit's fallback needs it), the priors the fit uses and the fallbacks."""
    return {
        **fit_priors(),
        **fallbacks(),
        "lightcurves": [EXTRACT.paths(unit)["lightcurves"] for unit in units],
        "stars": top_level(f"{units[0].split}_star_info.csv"),
        "wavelengths": top_level("wavelengths.csv"),
    }


def planet_files(wildcards):
    """Every raw file of one planet (check_raw reads them all)."""
    split, planet_id = wildcards.split, wildcards.planet_id
    if SIMULATING:
        return {"planet": raw_planet_dir(split, planet_id)}
    try:
        visits = planet_visits(split, planet_id)
    except RawDataError:  # the check itself reports it, and the planet is excluded
        return {"planet": raw_planet_dir(split, planet_id)}
    return {
        "files": [
            str(path)
            for visit in visits
            for instrument in INSTRUMENTS
            for path in layout.visit_files(
                RAW, split, int(planet_id), instrument, visit
            )
        ]
    }


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


def learning_planets(pattern):
    """Expand ``pattern`` over the train planets that priors, artifacts and the model learn
    from: the usable ones less guards.exclude_from_training (changing that list changes
    these inputs, so what learned from them runs again)."""
    excluded = {str(pid) for pid in config["guards"]["exclude_from_training"]}
    return [
        pattern.format(split="train", planet_id=planet_id)
        for planet_id in usable_planets("train")
        if str(planet_id) not in excluded
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

    def resolve(wildcards=None):
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


def fit_priors(wildcards=None):
    """What the fit options switch on of what is learned from train (artifacts), by input
    name: the option, the input and the artifact share one name."""
    return {
        name: artifact(f"{name}.json")()
        for name in (
            "limb_darkening_prior",
            "white_light_error_scale",
            "spectral_prior",
        )
        if config["fit"][name]
    }


def fallbacks(wildcards=None):
    """The artifacts a planet's fallback is made of, when a guard may need them: the prior
    predictive from the star table, and the naive reference as the last resort."""
    guards = config["guards"]
    if not (guards["transit_coverage"] or guards["failed_planet_fallback"]):
        return {}
    return {
        "prior_predictive": artifact("prior_predictive.json")(),
        "naive_reference": artifact("naive_reference.json")(),
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
    signals = Path(raw_planet_dir(wildcards.split, wildcards.planet_id)).glob(
        "*_signal_*.parquet"
    )
    largest = max((path.stat().st_size for path in signals), default=0)
    return attempt * (500 + 3 * largest // 1_000_000)


def uncalibrated_predictions(wildcards):
    """The test planets' physics fits, or the V50 model's or auto's predictions (config
    predictor), before sigma calibration."""
    if PREDICTS_FROM_FILE:
        return [f"results/predictions/{config['predictor']}.nc"]
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


def guard_inputs(wildcards):
    """What the guard table reads: the test planets' fits (their guard records) and, for
    a predictor with a predictions file, the calibrated predictions (their per-planet
    ``predictor`` variable)."""
    return {
        "guard_fits": planets_of("test", "results/fit/{split}/{planet_id}.nc"),
        "guard_predictions": (
            ["results/predictions/calibrated.nc"] if PREDICTS_FROM_FILE else []
        ),
    }
