"""The simulator's physics pieces against independent expectations."""

from __future__ import annotations

from dataclasses import replace

import batman
import numpy as np
import pytest
from scipy.stats import spearmanr

from spectramind.extract.diagnostics import transit_duration_h
from spectramind.simulate import SimulationConfig, draw_planet, planet_ids
from spectramind.simulate.constants import DEPTH_RANGE, FEATURE_AMPLITUDE_PPM, STAR_RANGES
from spectramind.simulate.detector import draw_detector, measured_signal, read_out
from spectramind.simulate.exposure import expose_pairs
from spectramind.simulate.population import draw_population
from spectramind.simulate.spectrum import (
    BANDS,
    R_SUN_M,
    depth_spectrum,
    limb_darkening,
    scale_height_m,
)
from spectramind.simulate.transit import light_curves
from spectramind.simulate.wavelengths import target_wavelengths

POPULATION = draw_population(SimulationConfig(seed=11, n_train=150, n_test=50, cadence=50))


def test_star_info_fills_the_real_ranges():
    """The star_info rows of 200 planets lie inside the ranges of the 1100 real ones and
    spread over them (measured: at least 69 % of each range covered), not a narrow cluster."""
    for name, (lo, hi) in STAR_RANGES.items():
        values = np.array([p.star_info_row()[name] for p in POPULATION])
        assert lo <= values.min() and values.max() <= hi, name
        assert np.ptp(values) > 0.5 * (hi - lo), name
    # Every planet transits: impact parameter from the true geometry, below 1 + Rp/Rs.
    for p in POPULATION:
        b = p.sma * np.cos(np.radians(p.inclination))
        assert b < 1 + np.sqrt(p.base_depth), p.planet_id


def test_orbits_obey_keplers_third_law():
    """a / Rs from G, the solar mass and radius in SI units (measured within 6e-5)."""
    g, m_sun, r_sun = 6.6743e-11, 1.98892e30, 6.957e8
    for p in POPULATION:
        period_s = p.P * 86400.0
        sma_m = (g * m_sun * p.Ms * period_s**2 / (4 * np.pi**2)) ** (1 / 3)
        assert p.sma == pytest.approx(sma_m / (r_sun * p.Rs), rel=1e-3), p.planet_id


def test_transit_durations_match_the_real_distribution():
    """T14 median ~3.9 h, 5-95 % 2.5..6.1 h (real train planets), within 25 %."""
    durations = [transit_duration_h(p.P, p.sma, p.inclination, p.base_depth) for p in POPULATION]
    q5, q50, q95 = np.percentile(durations, [5, 50, 95])
    assert q50 == pytest.approx(3.9, rel=0.25)
    assert q5 == pytest.approx(2.5, rel=0.25) and q95 == pytest.approx(6.1, rel=0.25)


def test_second_visits_follow_the_configured_share():
    """~10 % by default as in the real data; 50 % when asked (binomial std 2 % and 3.5 %
    for 200 planets; measured 10 % and 52 %)."""
    share = np.mean([len(p.visits) == 2 for p in POPULATION])
    assert 0.05 <= share <= 0.16
    half = SimulationConfig(seed=11, n_train=150, n_test=50, second_visit_fraction=0.5)
    share = np.mean([len(p.visits) == 2 for p in draw_population(half)])
    assert 0.4 <= share <= 0.6


def test_depth_spectra_have_real_ranges_and_feature_sizes():
    wl = target_wavelengths()
    spectra = np.array([depth_spectrum(p, wl) for p in POPULATION])
    assert spectra.min() > DEPTH_RANGE[0] - 3e-4 and spectra.max() < DEPTH_RANGE[1] + 3e-4
    clear = [p.cloud_opacity == 0 for p in POPULATION]
    ptp = np.ptp(spectra, axis=1) * 1e6
    assert ptp[clear].min() >= 0.5 * FEATURE_AMPLITUDE_PPM[0]
    assert ptp.max() <= FEATURE_AMPLITUDE_PPM[1] * 1.01
    # Clouds flatten: cloudy planets have smaller features on average.
    assert ptp[~np.array(clear)].mean() < ptp[clear].mean()
    # Clear-sky features grow with the atmosphere's scale height relative to the star
    # (2 H Rp / Rs^2 per e-fold of opacity), hot low-gravity planets the most: measured
    # rank correlation 0.81 over the clear planets.
    natural = [
        scale_height_m(p) * np.sqrt(p.base_depth) / (p.Rs * R_SUN_M)
        for p, c in zip(POPULATION, clear, strict=True)
        if c
    ]
    assert spearmanr(natural, ptp[clear]).statistic > 0.6


def test_strong_band_shows_up_where_it_should():
    """A planet rich in CO2 only has its deepest AIRS feature near the CO2 bands."""
    planet = draw_planet(SimulationConfig(seed=1), 1, "train")
    co2_only = replace(planet, abundances=(1e-4, 1.0, 1e-4, 1e-4), cloud_opacity=0.0)
    wl = np.linspace(1.95, 3.9, 500)
    spectrum = depth_spectrum(co2_only, wl)
    peak = wl[np.argmax(spectrum)]
    centres = [c for c, _, _ in BANDS["CO2"]]
    assert min(abs(peak - c) for c in centres + [3.9]) < 0.1


def test_light_curves_come_from_batman_with_chromatic_limb_darkening():
    planet = POPULATION[0]
    t = np.linspace(0, 7.5, 2000)
    wl = np.array([0.7, 3.0])
    curves = light_curves(planet, 3.75, t, wl)
    params = batman.TransitParams()
    params.t0, params.per, params.a = 3.75, planet.P * 24, planet.sma
    params.inc, params.ecc, params.w = planet.inclination, 0.0, 90.0
    params.rp = float(np.sqrt(depth_spectrum(planet, wl)[1]))
    params.limb_dark = "quadratic"
    u1, u2 = limb_darkening(wl, planet.Ts)
    params.u = [u1[1], u2[1]]
    np.testing.assert_allclose(curves[:, 1], batman.TransitModel(params, t).light_curve(params))
    # Central transit: limb darkening deepens the centre, more so in the visible.
    central = replace(planet, inclination=90.0)
    depth_ratio = (1 - light_curves(central, 3.75, t, wl).min(axis=0)) / depth_spectrum(central, wl)
    assert depth_ratio[0] > depth_ratio[1] > 1.0


def test_linear_corr_inverts_the_simulated_response():
    """Applying linear_corr (as the organisers' chain does) recovers the linear signal."""
    detector = draw_detector(np.random.default_rng(0), "AIRS-CH0")
    linear = np.random.default_rng(1).uniform(-300, 9.5e4, (4, 32, 356))
    for dtype, tol in ((np.float64, 0.05), (np.float32, 0.05)):
        measured = measured_signal(detector, linear.astype(dtype)).astype(np.float64)
        recovered = np.polynomial.polynomial.polyval(measured, detector.linear_corr, tensor=False)
        assert np.abs(recovered - linear).max() < tol
    # The response is really non-linear: ~2 % low at 60000 e-.
    m = measured_signal(detector, np.full((1, 32, 356), 6e4))
    assert 0.01 < 1 - np.median(m) / 6e4 < 0.05


def test_readout_adc_and_cds_levels():
    """Charge -> raw -> (raw / gain + offset) -> linear_corr returns the charge to read noise."""
    rng = np.random.default_rng(5)
    detector = draw_detector(rng, "FGS1")
    rates = np.full((2000, 32, 32), 2.0e4)
    short, long = expose_pairs(rates, 0.1, rng)
    raw_short, raw_long = read_out(detector, short, rng), read_out(detector, long, rng)
    to_e = lambda raw: np.polynomial.polynomial.polyval(  # noqa: E731
        raw / 0.4369 - 1000.0, detector.linear_corr, tensor=False
    )
    cds = to_e(raw_long) - to_e(raw_short)
    live = ~detector.dead
    assert np.median(cds[:, live]) == pytest.approx(2.0e4 * 0.1, rel=0.01)
    ratio = np.median(to_e(raw_long)[:, live] - detector.pedestal[live]) / np.median(
        to_e(raw_short)[:, live] - detector.pedestal[live]
    )
    assert ratio == pytest.approx(2.0, rel=0.02)  # FGS1 long/short ratio of real data
    # CDS scatter = shot noise of the integration plus two reads of read noise.
    expected = np.sqrt(2.0e3 + 2 * detector.read[live] ** 2 + 1 / 0.4369**2 / 6)
    measured = cds[:, live].std(axis=0)
    assert np.median(measured / expected) == pytest.approx(1.0, abs=0.05)


def test_planet_ids_are_distinct_and_deterministic():
    config = SimulationConfig(seed=9, n_train=40, n_test=30)
    ids = planet_ids(config)
    flat = ids["train"] + ids["test"]
    assert len(set(flat)) == 70 and max(flat) < 2**32
    assert planet_ids(config) == ids
    assert planet_ids(SimulationConfig(seed=10, n_train=40, n_test=30)) != ids
