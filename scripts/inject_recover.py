"""Snakemake adapter: inject a CO2 feature and a white-light ramp into one simulated planet,
run the whole chain for each amplitude, and report what is recovered (JSON and figure).

What the rule passes (spectramind.evaluation.injection.inject_recover does the work):

params:
    seed: config["seed"]
    simulation: config["simulation"] (the simulated data set the planet is drawn from)
    calibration, extraction, fit: the config blocks of those names (the chain's options)
    guards_*: the guards a planet's fit runs (its keys one by one, as rule fit reads them)
    inject_recover: a block with
        planet_id: a planet id of the simulated data set, or null for the first of ``split``
        split: "test" or "train" (default "test")
        co2_amplitudes_ppm: CO2 feature peak depths to inject, e.g. [0, 100, 300, 1000]
        ramp_amplitudes_ppm: white-light flux ramps over the visit, e.g. [0, 300, 1000]
        cadence: the simulation's cadence for these runs, or null for simulation's own
input (each only when the fit option of the same name is on, as fit_priors in
rules/common.smk gives them to the fit rule of rules/planets.smk):
    limb_darkening_prior, white_light_error_scale, spectral_prior: the artifact JSONs
output:
    json: the inject_recover record
    figure: its figure as PNG, "<stem>.png" (save_figure also writes "<stem>.svg" beside it)
    manifest: the run's provenance (rule_job)
One job runs the simulator, calibration (numba, astropy), extraction, the fit (batman) and
a figure (matplotlib): its conda env needs all of them.
"""

from pathlib import Path

from spectramind.calibrate import CalibrationOptions
from spectramind.core.atomic import write_json_atomic
from spectramind.core.jobs import rule_job
from spectramind.diagnostics.figures import injection_figure, save_figure
from spectramind.evaluation.injection import inject_recover
from spectramind.extract.options import ExtractionOptions
from spectramind.fit import FitOptions
from spectramind.fit.priors import read_fit_priors
from spectramind.guards import GuardOptions
from spectramind.simulate import SimulationConfig, planet_ids
from spectramind.workflow.config_keys import block_params

with rule_job(snakemake):
    params = snakemake.params
    block = params.inject_recover
    simulation = dict(params.simulation)
    if block.get("cadence") is not None:
        simulation["cadence"] = block["cadence"]
    config = SimulationConfig(seed=params.seed, **simulation)
    split = block.get("split", "test")
    ids = planet_ids(config)[split]
    planet_id = ids[0] if block.get("planet_id") is None else int(block["planet_id"])
    if planet_id not in ids:
        raise ValueError(f"planet {planet_id} is not a {split} planet of the simulation: {ids}")
    fit_options = FitOptions.from_config(params.fit)
    result = inject_recover(
        config,
        planet_id,
        split,
        co2_amplitudes_ppm=block["co2_amplitudes_ppm"],
        ramp_amplitudes_ppm=block["ramp_amplitudes_ppm"],
        calibration=CalibrationOptions.from_config(params.calibration),
        extraction=ExtractionOptions.from_config(params.extraction),
        fit_options=fit_options,
        priors=read_fit_priors(fit_options, snakemake.input),
        guards=GuardOptions.from_config(block_params(params, "guards")),
    )
    write_json_atomic(snakemake.output.json, result)
    save_figure(injection_figure(result), Path(snakemake.output.figure).with_suffix(""))
