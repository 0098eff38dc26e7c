"""Systematics from other model families than the physics fit's, each behind its own switch.

The fit assumes quadratic limb darkening, a polynomial drift plus settling ramp, a constant
sky and pointing that its jitter regressors describe; the default simulator draws from the
same family, so its scores are upper bounds. Switched on (SimulationConfig.mismatch_*), these
replace or add:

- limb darkening: the power-2 law I(mu) = 1 - c (1 - mu^alpha), smooth in Ts and wavelength;
- drift: a smooth Gaussian process in time (squared-exponential kernel), linear in colour,
  instead of polynomial + ramp;
- granulation: red noise in the star's flux, a sum of Harvey-like (AR(1)) components;
- pointing wander: a slow smooth pointing drift added to the AR(1) jitter;
- sky: a background that varies smoothly in time.

Every effect draws from its own random stream (config.STREAM_*), parameters and realisations
from separate keys, so no existing draw moves and each switch can be studied alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from spectramind.simulate.config import (
    STREAM_GP_DRIFT,
    STREAM_GRANULATION,
    STREAM_POINTING_WANDER,
    STREAM_SKY,
    SimulationConfig,
)
from spectramind.simulate.constants import FGS1_WAVELENGTH_UM, VISIT_LENGTH_S
from spectramind.simulate.population import PlanetTruth
from spectramind.simulate.star import HC_OVER_K_UM_K
from spectramind.simulate.systematics import GRID_S, ar1_process

# Sub-keys of every mismatch stream: the parameters of a process, and its realisation.
PART_PARAMETERS = 0
PART_REALISATION = 1
# Random Fourier features per smooth process: enough for a near-Gaussian marginal (central
# limit over 128 terms) at negligible cost, even on the 0.4 s jitter grid.
N_FOURIER = 128

# Power-2 law, shaped after the solar-type Kepler/TESS-band values of Maxted (2018, A&A 616,
# A39) and Claret & Southworth (2022): c ~ 0.65, alpha ~ 0.6 at 0.7 um and 5800 K. c (the
# total darkening at the limb, 1 - I(0)) equals the simulator's quadratic u1 + u2 at 0.7 um
# and weakens towards the infrared and hotter stars like it; alpha grows slowly with
# wavelength (the profile flattens in the core).
POWER2_REFERENCE_TEFF_K = 5800.0
POWER2_C_REF = 0.67
POWER2_C_WAVELENGTH_INDEX = -0.5
POWER2_C_TEMPERATURE_INDEX = -0.8
POWER2_ALPHA_REF = 0.6
POWER2_ALPHA_WAVELENGTH_INDEX = 0.2

# GP drift: rms 50..300 ppm (the polynomial drift's slope spans ~1.5e-3 over the visit, but a
# GP wiggle inside the transit is what biases depths), timescale 0.7..2.5 h (a few wiggles
# per 7.5 h visit, too many for a quadratic); the colour term is a fraction of it.
DRIFT_RMS_RANGE = (5e-5, 3e-4)
DRIFT_TIMESCALE_H_RANGE = (0.7, 2.5)
DRIFT_COLOUR_FRACTION_RANGE = (0.0, 0.5)
DRIFT_COLOUR_PIVOT_UM, DRIFT_COLOUR_SPAN_UM = 2.5, 1.5  # as in systematics.thermal_drift

# Granulation (Harvey-like components) of solar-type stars: granulation proper, tens of ppm
# at timescales of minutes as Kepler shows it (Kallinger et al. 2014, A&A 570, A41), and a
# slower, weaker component standing in for meso/supergranulation (our choice: it puts red
# noise on the transit's own timescale). Amplitudes are at the FGS1 wavelength; redder
# channels see less through the Planck temperature sensitivity (granulation_colour).
GRANULATION_RMS_PPM_RANGES = ((20.0, 60.0), (5.0, 20.0))
GRANULATION_TIMESCALE_S_RANGES = ((180.0, 900.0), (1800.0, 5400.0))

# Pointing wander per axis in FGS1 pixels: comparable to the slow AR(1) jitter's 0.2 px but
# with a smooth (squared-exponential) spectrum on hour scales, which the AR(1) jitter lacks.
WANDER_RMS_PX_RANGE = (0.1, 0.4)
WANDER_TIMESCALE_H_RANGE = (1.0, 3.0)
WANDER_STEP = 25  # jitter grid points (10 s) between exact evaluations of the wander

# Sky background: relative rms 5..30 % of BACKGROUND_E_PER_S on hour scales (a zodiacal and
# thermal background that moves with the spacecraft attitude), never below zero.
SKY_RMS_RANGE = (0.05, 0.3)
SKY_TIMESCALE_H_RANGE = (1.0, 4.0)


@dataclass(frozen=True)
class SmoothProcess:
    """A stationary squared-exponential process: rms and timescale (h)."""

    rms: float
    timescale_h: float


@dataclass(frozen=True)
class Granulation:
    """Harvey-like components of the star's flux: rms at FGS1 (fraction) and timescale (s)."""

    rms: tuple[float, ...]
    timescale_s: tuple[float, ...]


def _log_uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(np.exp(rng.uniform(np.log(bounds[0]), np.log(bounds[1]))))


def _smooth_parameters(
    rng: np.random.Generator, rms: tuple[float, float], timescale_h: tuple[float, float]
) -> SmoothProcess:
    """Draw rms and timescale log-uniformly inside their ranges."""
    return SmoothProcess(rms=_log_uniform(rng, rms), timescale_h=_log_uniform(rng, timescale_h))


def smooth_process(
    rng: np.random.Generator, process: SmoothProcess, time_h: np.ndarray, n_series: int = 1
) -> np.ndarray:
    """(time, n_series) independent realisations of the process at any times.

    Random Fourier features: frequencies from the kernel's Gaussian spectral density and
    Gaussian weights give covariance rms^2 exp(-dt^2 / 2 tau^2) in expectation. Evaluated
    directly at each instrument's own times, both instruments see the same realisation.
    """
    omega = rng.standard_normal((n_series, N_FOURIER)) / process.timescale_h
    weights = rng.standard_normal((2, n_series, N_FOURIER))
    phase = np.asarray(time_h, dtype=np.float64)[:, None, None] * omega[None]
    series = (weights[0] * np.cos(phase) + weights[1] * np.sin(phase)).sum(axis=-1)
    return process.rms / np.sqrt(N_FOURIER) * series


# --- limb darkening -------------------------------------------------------------------


def power2_limb_darkening(wavelength_um: np.ndarray, t_eff: float) -> tuple[np.ndarray, np.ndarray]:
    """Power-2 coefficients (c, alpha), smooth in wavelength and effective temperature."""
    wl = np.asarray(wavelength_um, dtype=np.float64) / FGS1_WAVELENGTH_UM
    temperature = (t_eff / POWER2_REFERENCE_TEFF_K) ** POWER2_C_TEMPERATURE_INDEX
    c = POWER2_C_REF * wl**POWER2_C_WAVELENGTH_INDEX * temperature
    alpha = POWER2_ALPHA_REF * wl**POWER2_ALPHA_WAVELENGTH_INDEX
    return c, alpha


# --- GP drift -------------------------------------------------------------------------


def drift_parameters(config: SimulationConfig, planet_id: int, visit: int) -> dict[str, float]:
    """Rms, timescale and colour fraction of one visit's GP drift."""
    rng = config.rng(STREAM_GP_DRIFT, planet_id, visit, PART_PARAMETERS)
    process = _smooth_parameters(rng, DRIFT_RMS_RANGE, DRIFT_TIMESCALE_H_RANGE)
    return {**asdict(process), "colour_fraction": float(rng.uniform(*DRIFT_COLOUR_FRACTION_RANGE))}


def gp_drift(
    config: SimulationConfig,
    planet_id: int,
    visit: int,
    time_h: np.ndarray,
    wavelength_um: np.ndarray,
) -> np.ndarray:
    """Multiplicative drift (time, wavelength): 1 + g0(t) + colour(lambda) * g1(t).

    g0 and g1 share the kernel, g1 scaled by the colour fraction, so the drift is smooth
    (linear) in wavelength like the thermal drift it replaces.
    """
    parameters = drift_parameters(config, planet_id, visit)
    process = SmoothProcess(parameters["rms"], parameters["timescale_h"])
    rng = config.rng(STREAM_GP_DRIFT, planet_id, visit, PART_REALISATION)
    g = smooth_process(rng, process, time_h, n_series=2)
    colour = (np.asarray(wavelength_um)[None, :] - DRIFT_COLOUR_PIVOT_UM) / DRIFT_COLOUR_SPAN_UM
    return 1.0 + g[:, :1] + parameters["colour_fraction"] * g[:, 1:] * colour


# --- granulation ----------------------------------------------------------------------


def granulation_parameters(config: SimulationConfig, planet_id: int) -> Granulation:
    """The star's granulation components (a stellar property: shared by its visits)."""
    rng = config.rng(STREAM_GRANULATION, planet_id, PART_PARAMETERS)
    rms = tuple(_log_uniform(rng, r) * 1e-6 for r in GRANULATION_RMS_PPM_RANGES)
    timescale = tuple(_log_uniform(rng, r) for r in GRANULATION_TIMESCALE_S_RANGES)
    return Granulation(rms=rms, timescale_s=timescale)


def granulation_colour(wavelength_um: np.ndarray, t_eff: float) -> np.ndarray:
    """Relative amplitude per wavelength: d ln B / d ln T of the Planck law, 1 at FGS1.

    Granulation is a temperature contrast, so its flux signature scales with the
    temperature sensitivity x e^x / (e^x - 1), x = hc / (lambda k T).
    """

    def sensitivity(wl: np.ndarray) -> np.ndarray:
        x = HC_OVER_K_UM_K / (np.asarray(wl, dtype=np.float64) * t_eff)
        return x * np.exp(x) / np.expm1(x)

    return sensitivity(wavelength_um) / sensitivity(np.array(FGS1_WAVELENGTH_UM))


def granulation_series(config: SimulationConfig, planet_id: int, visit: int) -> np.ndarray:
    """Fractional stellar flux change at FGS1 on the 0.4 s jitter grid over the visit."""
    parameters = granulation_parameters(config, planet_id)
    rng = config.rng(STREAM_GRANULATION, planet_id, visit, PART_REALISATION)
    n = int(round(VISIT_LENGTH_S / GRID_S)) + 16  # the jitter grid's length
    components = zip(parameters.timescale_s, parameters.rms, strict=True)
    return sum(ar1_process(rng, n, timescale, rms) for timescale, rms in components)


# --- pointing wander ------------------------------------------------------------------


def wander_parameters(config: SimulationConfig, planet_id: int, visit: int) -> SmoothProcess:
    """Rms (FGS1 px per axis) and timescale of one visit's pointing wander."""
    rng = config.rng(STREAM_POINTING_WANDER, planet_id, visit, PART_PARAMETERS)
    return _smooth_parameters(rng, WANDER_RMS_PX_RANGE, WANDER_TIMESCALE_H_RANGE)


def pointing_wander(
    config: SimulationConfig, planet_id: int, visit: int, n_grid: int
) -> np.ndarray:
    """Pointing offsets (grid, 2) in FGS1 pixels on the 0.4 s jitter grid.

    Evaluated every WANDER_STEP grid points and interpolated linearly: on hour timescales
    the interpolation error is ~(10 s / 1 h)^2 of the rms, and it saves ~100 MB of phases.
    """
    rng = config.rng(STREAM_POINTING_WANDER, planet_id, visit, PART_REALISATION)
    grid_h = np.arange(n_grid) * GRID_S / 3600.0
    coarse_h = grid_h[::WANDER_STEP]
    coarse_h = np.append(coarse_h, coarse_h[-1] + WANDER_STEP * GRID_S / 3600.0)
    coarse = smooth_process(rng, wander_parameters(config, planet_id, visit), coarse_h, 2)
    return np.stack([np.interp(grid_h, coarse_h, coarse[:, k]) for k in range(2)], axis=1)


# --- sky ------------------------------------------------------------------------------


def sky_parameters(config: SimulationConfig, planet_id: int, visit: int) -> SmoothProcess:
    """Relative rms and timescale of one visit's sky background variation."""
    rng = config.rng(STREAM_SKY, planet_id, visit, PART_PARAMETERS)
    return _smooth_parameters(rng, SKY_RMS_RANGE, SKY_TIMESCALE_H_RANGE)


def sky_scale(
    config: SimulationConfig, planet_id: int, visit: int, time_h: np.ndarray
) -> np.ndarray:
    """Sky background (pairs,) relative to the constant BACKGROUND_E_PER_S, >= 0."""
    rng = config.rng(STREAM_SKY, planet_id, visit, PART_REALISATION)
    variation = smooth_process(rng, sky_parameters(config, planet_id, visit), time_h)[:, 0]
    return np.maximum(1.0 + variation, 0.0)


# --- truth ----------------------------------------------------------------------------


def mismatch_truth(
    config: SimulationConfig, planet: PlanetTruth, wavelength_um: np.ndarray
) -> dict[str, object]:
    """What the switched-on effects drew for ``planet`` (empty when all are off).

    Limb-darkening coefficients are given at ``wavelength_um`` (the 283 targets).
    """
    truth: dict[str, object] = {}
    pid, visits = planet.planet_id, range(len(planet.visits))
    if config.mismatch_limb_darkening:
        c, alpha = power2_limb_darkening(wavelength_um, planet.Ts)
        truth["limb_darkening"] = {"law": "power2", "c": c.tolist(), "alpha": alpha.tolist()}
    if config.mismatch_drift:
        truth["drift"] = [drift_parameters(config, pid, v) for v in visits]
    if config.mismatch_granulation:
        truth["granulation"] = asdict(granulation_parameters(config, pid))
    if config.mismatch_pointing_wander:
        truth["pointing_wander"] = [asdict(wander_parameters(config, pid, v)) for v in visits]
    if config.mismatch_sky:
        truth["sky"] = [asdict(sky_parameters(config, pid, v)) for v in visits]
    return truth


def flat_mismatch_record(config: SimulationConfig, planet: PlanetTruth) -> dict[str, float | str]:
    """Scalar columns for params.csv (none when all switches are off)."""
    record: dict[str, float | str] = {}
    if config.mismatch_limb_darkening:
        record["limb_darkening_law"] = "power2"
    pid = planet.planet_id
    if config.mismatch_granulation:
        granulation = granulation_parameters(config, pid)
        for k, (rms, tau) in enumerate(zip(granulation.rms, granulation.timescale_s, strict=True)):
            record[f"granulation{k}_rms"] = rms
            record[f"granulation{k}_timescale_s"] = tau
    for n in range(len(planet.visits)):
        if config.mismatch_drift:
            for key, value in drift_parameters(config, pid, n).items():
                record[f"visit{n}_gp_drift_{key}"] = value
        if config.mismatch_pointing_wander:
            for key, value in asdict(wander_parameters(config, pid, n)).items():
                record[f"visit{n}_wander_{key}"] = value
        if config.mismatch_sky:
            for key, value in asdict(sky_parameters(config, pid, n)).items():
                record[f"visit{n}_sky_{key}"] = value
    return record
