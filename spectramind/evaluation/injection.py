"""Inject and recover: a known signal in the raw frames, the whole chain, what comes out.

The simulator injects (spectramind.simulate.injection) a CO2 feature into a planet's depth
spectrum and a white-light drift ramp into its flux, with the same noise realisation as
without them. Each injected planet then runs the chain as the workflow does (calibrate each
visit, extract, fit with the given options and learned priors) and its depths are compared
with the uninjected run's: the difference is the chain's response to the injected signal
alone, so its bias is measured well below the noise.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import xarray as xr

from spectramind import io
from spectramind.calibrate import CalibrationOptions, calibrate_visit
from spectramind.core.netcdf import write_netcdf
from spectramind.extract.lightcurves import extract_planet
from spectramind.extract.options import ExtractionOptions
from spectramind.fit import FitOptions, FitPriors, fit_planet
from spectramind.guards import GuardOptions
from spectramind.simulate import Injection, SimulationConfig, simulate_planet, write_top_level
from spectramind.simulate.injection import CO2_BANDS, co2_template

log = logging.getLogger(__name__)

# The fit's two estimates, (depth, sigma) variables of its output: the submitted one (the
# spectral prior's posterior when fit.spectral_prior is on) and the data's alone.
ESTIMATES = {"depth": "sigma", "fit_depth": "fit_sigma"}


class ChainResult(NamedTuple):
    """One chain run: the fit (fit_planet's Dataset) and the true depths (283,)."""

    fit: xr.Dataset
    truth: np.ndarray


def simulated_lightcurves(
    config: SimulationConfig,
    split: str,
    planet_id: int,
    root: str | Path,
    truth_path: str | Path,
    calibration: CalibrationOptions | None = None,
    extraction: ExtractionOptions | None = None,
    injection: Injection | None = None,
) -> xr.Dataset:
    """Simulate one planet into ``root`` (whose top-level files must exist), calibrate its
    visits and extract its light curves in process, through netCDF files as the workflow's
    rules pass them; its raw folder is deleted afterwards, its truth kept at ``truth_path``."""
    root = Path(root)
    folder = root / split / str(planet_id)
    simulate_planet(config, split, planet_id, folder, truth_path, injection)
    try:
        files: dict[str, list[Path]] = {ins: [] for ins in io.INSTRUMENTS}
        with tempfile.TemporaryDirectory() as scratch:
            for visit in io.discover_visits(root, split, planet_id):
                for ins in io.INSTRUMENTS:
                    path = Path(scratch) / f"{ins}_{visit}.nc"
                    calibrated = calibrate_visit(root, split, planet_id, ins, visit, calibration)
                    write_netcdf(calibrated, path)
                    files[ins].append(path)
            return extract_planet(
                files["FGS1"], files["AIRS-CH0"], io.read_wavelengths(root), extraction
            )
    finally:
        shutil.rmtree(folder)


def run_chain(
    config: SimulationConfig,
    split: str,
    planet_id: int,
    injection: Injection | None = None,
    calibration: CalibrationOptions | None = None,
    extraction: ExtractionOptions | None = None,
    fit_options: FitOptions | None = None,
    priors: FitPriors | None = None,
    guards: GuardOptions | None = None,
) -> ChainResult:
    """Simulate one planet of ``config`` (with ``injection``) in a scratch folder, run it
    through calibration, extraction and the fit, and return the fit and the truth; the
    scratch folder (raw frames included) is deleted."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        root, truth_dir = Path(scratch) / "raw", Path(scratch) / "truth"
        write_top_level(config, root, truth_dir)
        truth_path = truth_dir / f"{planet_id}.json"
        lightcurves = simulated_lightcurves(
            config, split, planet_id, root, truth_path, calibration, extraction, injection
        )
        star = io.read_star_info(root, split).loc[planet_id]
        truth = np.array(json.loads(truth_path.read_text())["depth"])
    fit = fit_planet(lightcurves, star, fit_options, priors, guards)
    log.info("planet %s, %s: chain %.1f s", planet_id, injection, time.perf_counter() - start)
    return ChainResult(fit, truth)


def project_amplitude(
    difference: np.ndarray, sigma: np.ndarray, template: np.ndarray
) -> tuple[float, float]:
    """Weighted least-squares amplitude A of ``difference`` ~ A * ``template`` (weights
    1 / sigma^2) and its uncertainty (sum template^2 / sigma^2)^(-1/2)."""
    weight = 1.0 / np.asarray(sigma) ** 2
    information = float(np.sum(weight * template**2))
    return float(np.sum(weight * template * difference)) / information, information**-0.5


def _co2_row(
    injected: float, run: ChainResult, baseline: ChainResult, estimate: str
) -> dict[str, float]:
    """Recovered amplitude, its sigma, bias and significance of one CO2 run (ppm)."""
    depth, sigma = run.fit[estimate].values, run.fit[ESTIMATES[estimate]].values
    difference = (depth - baseline.fit[estimate].values)[1:] * 1e6
    template = co2_template(run.fit["wavelength"].values[1:])
    recovered, sigma_a = project_amplitude(difference, sigma[1:] * 1e6, template)
    return {
        "injected_ppm": injected,
        "recovered_ppm": recovered,
        "sigma_ppm": sigma_a,
        "bias_ppm": recovered - injected,
        "significance": recovered / sigma_a,
    }


def _ramp_row(
    ramp: float, run: ChainResult, baseline: ChainResult, estimate: str
) -> dict[str, float]:
    """FGS1 and mean-AIRS depth shifts of one ramp run vs the uninjected run: in ppm, and in
    the fit's sigma (FGS1's; the AIRS bins' mean sigma, the error each bin is scored with)."""
    shift = (run.fit[estimate].values - baseline.fit[estimate].values) * 1e6
    sigma = run.fit[ESTIMATES[estimate]].values * 1e6
    airs = float(shift[1:].mean())
    return {
        "ramp_ppm": ramp,
        "fgs1_bias_ppm": float(shift[0]),
        "fgs1_bias_sigma": float(shift[0] / sigma[0]),
        "airs_bias_ppm": airs,
        "airs_bias_sigma": airs / float(sigma[1:].mean()),
    }


def inject_recover(
    config: SimulationConfig,
    planet_id: int,
    split: str,
    co2_amplitudes_ppm: Sequence[float],
    ramp_amplitudes_ppm: Sequence[float],
    calibration: CalibrationOptions | None = None,
    extraction: ExtractionOptions | None = None,
    fit_options: FitOptions | None = None,
    priors: FitPriors | None = None,
    guards: GuardOptions | None = None,
) -> dict[str, Any]:
    """Run one planet uninjected, then with each CO2 amplitude and each ramp amplitude
    (ppm; a zero amplitude is the uninjected run), and compare every run with the
    uninjected one. Returns a JSON-ready record: the planet, the settings and, for each of
    the fit's estimates (ESTIMATES), one row per amplitude (_co2_row, _ramp_row)."""
    fit_options = fit_options or FitOptions()
    priors = priors or FitPriors()
    grid = [Injection()]  # the uninjected run; a zero amplitude is the same Injection
    grid += [Injection(co2_amplitude_ppm=float(a)) for a in co2_amplitudes_ppm]
    grid += [Injection(ramp_amplitude_ppm=float(r)) for r in ramp_amplitudes_ppm]
    runs: dict[Injection, ChainResult] = {}
    for injection in grid:
        if injection not in runs:
            runs[injection] = run_chain(
                config,
                split,
                planet_id,
                injection,
                calibration,
                extraction,
                fit_options,
                priors,
                guards,
            )
    baseline = runs[Injection()]
    co2 = {
        estimate: [
            _co2_row(a, runs[Injection(co2_amplitude_ppm=a)], baseline, estimate)
            for a in map(float, co2_amplitudes_ppm)
        ]
        for estimate in ESTIMATES
    }
    ramp = {
        estimate: [
            _ramp_row(r, runs[Injection(ramp_amplitude_ppm=r)], baseline, estimate)
            for r in map(float, ramp_amplitudes_ppm)
        ]
        for estimate in ESTIMATES
    }
    return {
        "planet_id": int(planet_id),
        "split": split,
        "simulation": asdict(config),
        "co2_bands": [{"centre_um": c, "width_um": w, "peak": p} for c, w, p in CO2_BANDS],
        "options": {
            "calibration": (calibration or CalibrationOptions()).as_dict(),
            "extraction": (extraction or ExtractionOptions()).as_dict(),
            "fit": fit_options.as_dict(),
            "guards": (guards or GuardOptions()).as_dict(),
        },
        "priors": {
            "limb_darkening": fit_options.limb_darkening_prior
            and priors.limb_darkening is not None,
            "white_light_error_scale": fit_options.white_light_error_scale
            and priors.white_light_error_scale is not None,
            "spectral": fit_options.spectral_prior and priors.spectral is not None,
        },
        "co2": co2,
        "ramp": ramp,
    }
