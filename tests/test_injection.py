"""Inject and recover: the simulator's injection hook and what the chain makes of it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from spectramind.diagnostics.figures import injection_figure
from spectramind.evaluation.injection import inject_recover, project_amplitude
from spectramind.simulate import Injection, SimulationConfig, draw_planet, planet_ids
from spectramind.simulate import simulate_planet as simulate
from spectramind.simulate.config import STREAM_PHOTONS
from spectramind.simulate.injection import co2_template
from spectramind.simulate.planet import INSTRUMENT_KEY, raw_frames, true_depths, visit_scene
from spectramind.simulate.timing import pair_mid_exposure_h
from spectramind.simulate.wavelengths import target_wavelengths

CONFIG = SimulationConfig(seed=3, n_train=1, n_test=1, cadence=50, second_visit_fraction=0.0)
PLANET_ID = planet_ids(CONFIG)["test"][0]


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _frames(injection: Injection | None, instrument: str) -> np.ndarray:
    """Visit 0's raw frames of ``instrument`` as write_planet makes them."""
    planet = draw_planet(CONFIG, PLANET_ID, "test")
    scene = visit_scene(CONFIG, planet, 0, instrument, injection)
    rng = CONFIG.rng(STREAM_PHOTONS, PLANET_ID, INSTRUMENT_KEY[instrument], 0)
    return np.concatenate(list(raw_frames(scene, rng))).astype(np.float64)


def test_co2_template_has_both_bands_at_their_peaks():
    template = co2_template(np.array([0.7, 2.03, 2.70, 3.5]))
    np.testing.assert_allclose(template, [0.0, 0.4, 1.0, 0.0], atol=1e-6)


def test_injection_adds_amplitude_times_template_to_the_truth():
    planet = draw_planet(CONFIG, PLANET_ID, "test")
    injected = true_depths(planet, Injection(co2_amplitude_ppm=150.0, ramp_amplitude_ppm=500.0))
    expected = 150e-6 * co2_template(target_wavelengths())
    # Exact up to rounding of the ~0.02 depth it is added to (float64 spacing ~3.5e-18).
    np.testing.assert_allclose(injected - true_depths(planet), expected, rtol=0, atol=1e-17)
    assert injected[0] == true_depths(planet)[0]  # FGS1 sees no CO2 feature


def test_zero_injection_is_the_default_simulation_and_truth_names_an_injection(tmp_path):
    runs = {"default": None, "zero": Injection(), "co2": Injection(co2_amplitude_ppm=300.0)}
    for name, injection in runs.items():
        folder, truth = tmp_path / name / "planet", tmp_path / name / "truth.json"
        simulate(CONFIG, "test", PLANET_ID, folder, truth, injection)
    default, zero = _digests(tmp_path / "default"), _digests(tmp_path / "zero")
    assert len(default) > 10 and zero == default
    co2 = _digests(tmp_path / "co2")
    changed = {name for name in default if co2[name] != default[name]}
    assert changed == {"truth.json", "planet/AIRS-CH0_signal_0.parquet"}  # FGS1: no CO2
    record = json.loads((tmp_path / "co2" / "truth.json").read_text())
    assert record["injection"] == {"co2_amplitude_ppm": 300.0, "ramp_amplitude_ppm": 0.0}
    planet = draw_planet(CONFIG, PLANET_ID, "test")
    np.testing.assert_allclose(record["depth"], true_depths(planet, Injection(300.0)), rtol=1e-12)


def test_injected_frames_share_the_noise_realisation():
    """A 300 ppm feature moves each AIRS pixel by a few ADU; redrawn noise would move them
    by the shot and read noise (tens of ADU)."""
    default = _frames(None, "AIRS-CH0")
    difference = _frames(Injection(co2_amplitude_ppm=300.0), "AIRS-CH0") - default
    assert 0 < np.abs(difference).max() <= 4
    assert np.abs(difference).mean() < 0.1


def test_ramp_appears_in_the_white_light_of_the_raw_frames():
    """Same noise: the ratio of the injected to the default CDS white light is the ramp, up
    to the detector's non-linear response (the raw frames are not yet linearised): bright
    pixels gain up to ~3 % fewer ADU per extra electron."""
    ramp_ppm = 2e4
    for instrument in ("FGS1", "AIRS-CH0"):
        white = []
        for injection in (None, Injection(ramp_amplitude_ppm=ramp_ppm)):
            frames = _frames(injection, instrument)
            white.append((frames[1::2] - frames[0::2]).sum(axis=(1, 2)))
        time_h = pair_mid_exposure_h(instrument, CONFIG.n_pairs(instrument), CONFIG.cadence)
        ratio = white[1] / white[0]
        slope, mid = np.polyfit(time_h - 3.75, ratio, 1)
        residual = ratio - (mid + slope * (time_h - 3.75))
        assert abs(mid - 1.0) < 1e-5 and residual.std() < 1e-4, instrument
        assert 0.95 < slope * 7.5 / (ramp_ppm * 1e-6) < 1.0, instrument


def test_projection_recovers_a_known_amplitude():
    rng = np.random.default_rng(1)
    wavelength = np.linspace(1.95, 3.9, 282)
    template = co2_template(wavelength)
    sigma = rng.uniform(200.0, 800.0, wavelength.size)
    amplitude, sigma_a = project_amplitude(123.0 * template, sigma, template)
    assert np.isclose(amplitude, 123.0, rtol=1e-12)
    assert np.isclose(sigma_a, np.sum(template**2 / sigma**2) ** -0.5)
    # With noise: the weighted least-squares solution of the whitened problem.
    noisy = 123.0 * template + sigma * rng.standard_normal(wavelength.size)
    expected = np.linalg.lstsq((template / sigma)[:, None], noisy / sigma, rcond=None)[0][0]
    assert np.isclose(project_amplitude(noisy, sigma, template)[0], expected, rtol=1e-12)


def test_chain_recovers_a_large_co2_feature_and_absorbs_a_linear_ramp():
    result = inject_recover(CONFIG, PLANET_ID, "test", [0.0, 3000.0], [3000.0])
    json.dumps(result)  # JSON-ready
    zero, large = result["co2"]["depth"]
    assert zero["recovered_ppm"] == 0.0 and zero["bias_ppm"] == 0.0
    assert large["significance"] > 5
    assert abs(large["bias_ppm"]) < 3 * large["sigma_ppm"]
    # No spectral prior given: the submitted depths are the fit's own.
    assert result["co2"]["fit_depth"] == result["co2"]["depth"]
    (ramp,) = result["ramp"]["depth"]
    # The fit's drift polynomial takes a linear ramp: it moves the depths by < 1 % of it.
    for instrument in ("fgs1", "airs"):
        assert abs(ramp[f"{instrument}_bias_ppm"]) < 30.0
        assert abs(ramp[f"{instrument}_bias_sigma"]) < 0.1
    # The figure draws these records: recovered vs injected CO2, depth bias vs ramp.
    co2_axes, ramp_axes = injection_figure(result).axes
    (submitted,) = [c for c in co2_axes.containers if c.get_label() == "depth (submitted)"]
    recovered = [row["recovered_ppm"] for row in result["co2"]["depth"]]
    np.testing.assert_allclose(submitted.lines[0].get_ydata().astype(float), recovered)
    lines = {line.get_label(): line for line in ramp_axes.get_lines()}
    for instrument, name in (("fgs1", "FGS1"), ("airs", "AIRS mean")):
        drawn = lines[f"{name}, depth (submitted)"]
        np.testing.assert_allclose(drawn.get_xdata(), [ramp["ramp_ppm"]])
        np.testing.assert_allclose(drawn.get_ydata(), [ramp[f"{instrument}_bias_ppm"]])
