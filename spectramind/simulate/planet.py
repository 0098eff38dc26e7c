"""Simulate one planet: every visit of both instruments, written in the Kaggle layout."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from spectramind.core.atomic import atomic_directory
from spectramind.io.layout import INSTRUMENTS, INTEGRATION_S, N_TARGETS, SHORT_READ_S, frame_shape
from spectramind.simulate.config import (
    STREAM_DETECTOR,
    STREAM_JITTER,
    STREAM_PHOTONS,
    SimulationConfig,
)
from spectramind.simulate.constants import FGS1_WAVELENGTH_UM
from spectramind.simulate.detector import Detector, draw_detector, read_out
from spectramind.simulate.exposure import expose_pairs
from spectramind.simulate.injection import Injection
from spectramind.simulate.marginalised_floor import (
    ld_prior,
    marginal_depth_sigma,
    n_parameters,
    transit_gradients,
    visit_fisher,
)
from spectramind.simulate.mismatch import (
    gp_drift,
    granulation_colour,
    granulation_series,
    pointing_wander,
    sky_scale,
)
from spectramind.simulate.noise_floor import (
    depth_information,
    noise_floor_targets,
    pair_weights,
)
from spectramind.simulate.population import PlanetTruth
from spectramind.simulate.scene import airs_rates, fgs1_rates
from spectramind.simulate.spectrum import depth_spectrum, limb_darkening
from spectramind.simulate.star import airs_column_rates, fgs1_rate
from spectramind.simulate.systematics import jitter_per_pair, pointing_jitter, thermal_drift
from spectramind.simulate.timing import pair_mid_exposure_h
from spectramind.simulate.transit import light_curves
from spectramind.simulate.wavelengths import (
    airs_column_wavelengths,
    airs_columns_to_targets,
    target_wavelengths,
)
from spectramind.simulate.writer import write_frame_stream, write_frame_table

CHUNK_PAIRS = {"FGS1": 64, "AIRS-CH0": 16}
ROW_GROUP_FRAMES = {"FGS1": 16384, "AIRS-CH0": 2048}
INSTRUMENT_KEY = {"FGS1": 0, "AIRS-CH0": 1}


@dataclass(frozen=True)
class VisitScene:
    """Everything about one visit of one instrument except the random noise.

    base_rate: (channels,) stellar e-/s out of transit; light_curve: (pairs, channels)
    transit only; stellar: (pairs, channels) e-/s with transit and drift; pointing: (pairs, 2);
    sky: (pairs,) background relative to the constant one, None for a constant sky;
    injected: (pairs, channels) e-/s of ``stellar`` with an injected signal (injection.py),
    None without one: the noise is drawn on ``stellar`` and the injection added as expected
    charge (raw_frames), so the injected frames share the uninjected ones' noise.
    """

    instrument: str
    detector: Detector
    base_rate: np.ndarray
    light_curve: np.ndarray
    stellar: np.ndarray
    pointing: np.ndarray
    sky: np.ndarray | None = None
    injected: np.ndarray | None = None


def channel_wavelengths(instrument: str) -> np.ndarray:
    """Wavelength (um) of each channel: FGS1 is one white-light channel, AIRS one per column."""
    if instrument == "FGS1":
        return np.array([FGS1_WAVELENGTH_UM])
    return airs_column_wavelengths()


def visit_scene(
    config: SimulationConfig,
    planet: PlanetTruth,
    visit: int,
    instrument: str,
    injection: Injection | None = None,
) -> VisitScene:
    """Build the noiseless scene of one visit, deterministic in (seed, planet, visit), with
    an ``injection``'s flux as ``injected`` when one is active."""
    truth = planet.visits[visit]
    n_pairs = config.n_pairs(instrument)
    time_h = pair_mid_exposure_h(instrument, n_pairs, config.cadence)
    wavelength = channel_wavelengths(instrument)
    if instrument == "FGS1":
        base_rate = np.array([fgs1_rate(planet.Ts, planet.brightness)])
    else:
        base_rate = airs_column_rates(planet.Ts, planet.brightness)
    law = "power2" if config.mismatch_limb_darkening else "quadratic"
    curve = light_curves(planet, truth.t0_h, time_h, wavelength, law)
    stellar = base_rate * curve * _drift(config, planet, visit, time_h, wavelength)
    jitter = pointing_jitter(config.rng(STREAM_JITTER, planet.planet_id, visit), truth)
    if config.mismatch_pointing_wander:
        jitter = jitter + pointing_wander(config, planet.planet_id, visit, len(jitter))
    if config.mismatch_granulation:
        granulation = granulation_series(config, planet.planet_id, visit)
        flicker = jitter_per_pair(granulation, instrument, n_pairs, config.cadence)
        stellar = stellar * (1.0 + flicker[:, None] * granulation_colour(wavelength, planet.Ts))
    detector_rng = config.rng(STREAM_DETECTOR, planet.planet_id, INSTRUMENT_KEY[instrument], visit)
    sky = sky_scale(config, planet.planet_id, visit, time_h) if config.mismatch_sky else None
    injected = None
    if injection is not None and injection.active:
        extra = injection.depth(wavelength)
        injected_curve = light_curves(planet, truth.t0_h, time_h, wavelength, law, extra)
        injected = stellar * (injected_curve / curve) * injection.flux_factor(time_h)[:, None]
    return VisitScene(
        instrument=instrument,
        detector=draw_detector(detector_rng, instrument),
        base_rate=base_rate,
        light_curve=curve,
        stellar=stellar,
        pointing=jitter_per_pair(jitter, instrument, n_pairs, config.cadence),
        sky=sky,
        injected=injected,
    )


def _drift(
    config: SimulationConfig,
    planet: PlanetTruth,
    visit: int,
    time_h: np.ndarray,
    wavelength: np.ndarray,
) -> np.ndarray:
    """The visit's multiplicative drift: polynomial + ramp, or the mismatch GP."""
    if config.mismatch_drift:
        return gp_drift(config, planet.planet_id, visit, time_h, wavelength)
    return thermal_drift(planet.visits[visit], time_h, wavelength)


def _pixel_rates(scene: VisitScene, flux: np.ndarray, part: slice) -> np.ndarray:
    """Pixel rates (pairs, 32, W) e-/s of the pairs ``part`` for channel fluxes ``flux``."""
    sky = None if scene.sky is None else scene.sky[part]
    if scene.instrument == "FGS1":
        return fgs1_rates(scene.detector, flux[part, 0], scene.pointing[part], sky)
    return airs_rates(scene.detector, flux[part], scene.pointing[part], sky)


def raw_frames(scene: VisitScene, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Yield raw uint16 frames (2 * pairs, 32, W) chunk by chunk: short read, long read, ...

    With ``scene.injected``, the injected rates' expected extra charge is added to charge
    drawn on the uninjected rates (the same draws as without the injection).
    """
    integration_s = INTEGRATION_S[scene.instrument]
    step = CHUNK_PAIRS[scene.instrument]
    for start in range(0, len(scene.stellar), step):
        part = slice(start, start + step)
        rates = _pixel_rates(scene, scene.stellar, part)
        short, long = expose_pairs(rates, integration_s, rng)
        if scene.injected is not None:
            extra = _pixel_rates(scene, scene.injected, part) - rates
            short += extra * SHORT_READ_S
            long += extra * (SHORT_READ_S + integration_s)
        frames = np.empty((2 * len(rates), *rates.shape[1:]), dtype=np.uint16)
        frames[0::2] = read_out(scene.detector, short, rng)
        frames[1::2] = read_out(scene.detector, long, rng)
        yield frames


def write_calibration(folder: Path, detector: Detector) -> None:
    """dark, dead, flat, read (32, W) and linear_corr (6 * 32, W) parquet files."""
    folder.mkdir()
    write_frame_table(folder / "dark.parquet", detector.dark)
    write_frame_table(folder / "dead.parquet", detector.dead)
    write_frame_table(folder / "flat.parquet", detector.flat)
    write_frame_table(folder / "read.parquet", detector.read)
    write_frame_table(
        folder / "linear_corr.parquet",
        detector.linear_corr.reshape(-1, detector.linear_corr.shape[-1]),
    )


def write_planet(
    config: SimulationConfig,
    planet: PlanetTruth,
    planet_folder: Path,
    injection: Injection | None = None,
) -> None:
    """Write ``<split>/<planet_id>/`` with signals and calibration of every visit, atomically,
    with an active ``injection``'s signal in the frames."""
    with atomic_directory(planet_folder) as folder:
        for visit in range(len(planet.visits)):
            for instrument in INSTRUMENTS:
                scene = visit_scene(config, planet, visit, instrument, injection)
                rng = config.rng(
                    STREAM_PHOTONS, planet.planet_id, INSTRUMENT_KEY[instrument], visit
                )
                write_frame_stream(
                    folder / f"{instrument}_signal_{visit}.parquet",
                    int(np.prod(frame_shape(instrument))),
                    raw_frames(scene, rng),
                    ROW_GROUP_FRAMES[instrument],
                )
                write_calibration(folder / f"{instrument}_calibration_{visit}", scene.detector)


def true_depths(planet: PlanetTruth, injection: Injection | None = None) -> np.ndarray:
    """The 283 labels (Rp/Rs)^2 at the target wavelengths, with an injection's depth."""
    depth = depth_spectrum(planet, target_wavelengths())
    if injection is not None and injection.active:
        depth = depth + injection.depth(target_wavelengths())
    return depth


class NoiseFloors(NamedTuple):
    """Cramer-Rao bounds (283,) of one planet's depths: ``depth_only`` (noise_floor.py) and
    ``marginalised`` over drift, limb darkening and geometry (marginalised_floor.py)."""

    depth_only: np.ndarray
    marginalised: np.ndarray


def noise_floors(config: SimulationConfig, planet: PlanetTruth) -> NoiseFloors:
    """Both noise floors of a planet from all its visits, without generating frames: each
    visit's scene and pixel-summed weights are computed once and serve both. A planet
    without a transit in any visit (edge kind no_transit) carries no depth information:
    both floors are infinite."""
    if planet.edge == "no_transit":
        return NoiseFloors(np.full(N_TARGETS, np.inf), np.full(N_TARGETS, np.inf))
    n_visits = len(planet.visits)
    information = {instrument: 0.0 for instrument in INSTRUMENTS}
    fisher = ld_prior(N_TARGETS, n_visits)
    for visit in range(n_visits):
        per_target = []
        for instrument in INSTRUMENTS:
            scene = visit_scene(config, planet, visit, instrument)
            weights = pair_weights(scene.detector, instrument, scene.base_rate, scene.light_curve)
            information[instrument] = information[instrument] + depth_information(
                weights, scene.light_curve
            )
            per_target.append(_target_visit_fisher(config, planet, visit, scene, weights))
        fisher = fisher + np.concatenate(per_target)
    return NoiseFloors(
        noise_floor_targets(information["FGS1"], information["AIRS-CH0"]),
        marginal_depth_sigma(fisher, n_parameters(n_visits)[0]),
    )


def _target_visit_fisher(
    config: SimulationConfig,
    planet: PlanetTruth,
    visit: int,
    scene: VisitScene,
    weights: np.ndarray,
) -> np.ndarray:
    """Per-target Fisher matrices (targets of the scene's instrument, P, P) of one visit."""
    instrument = scene.instrument
    curve, wavelength = scene.light_curve, channel_wavelengths(instrument)
    if instrument == "AIRS-CH0":
        weights, curve, wavelength = (
            airs_columns_to_targets(a) for a in (weights, curve, wavelength)
        )
    time_h = pair_mid_exposure_h(instrument, config.n_pairs(instrument), config.cadence)
    gradients = transit_gradients(
        time_h,
        planet.visits[visit].t0_h,
        planet.P * 24.0,
        (planet.impact_parameter, planet.sma),
        depth_spectrum(planet, wavelength),
        *limb_darkening(wavelength, planet.Ts),
    )
    return visit_fisher(weights, curve, gradients, time_h, visit, len(planet.visits))
