"""The transit-coverage guard (spectramind/fit/coverage.py): whether a visit holds a transit,
which contacts T1-T4 it holds, and the fallback a planet without a transit gets instead of
the fit's bound (a depth the data cannot give, with a sigma that says it can)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from spectramind import io
from spectramind.evaluation.injection import simulated_lightcurves
from spectramind.evaluation.metrics import competition_score, naive_reference
from spectramind.extract.diagnostics import transit_duration_h
from spectramind.fit import FitOptions, FitPriors, fit_planet
from spectramind.fit.coverage import contact_times, transit_significance
from spectramind.fit.fallback import fit_or_fallback
from spectramind.fit.priors import learn_spectrum, limb_darkening_samples, white_light_pulls
from spectramind.fit.white_light import VisitCurves, find_transit
from spectramind.guards import GuardOptions, GuardRecord
from spectramind.guards.prior_predictive import learn_prior_predictive
from spectramind.simulate import SimulationConfig, draw_planet, planet_ids
from spectramind.simulate.catalogue import write_top_level
from spectramind.simulate.injection import Injection
from spectramind.simulate.transit import light_curves

OFF = GuardOptions(transit_coverage=False, prior_conflict=False, failed_planet_fallback=False)
# no priors learned from train light curves: the guards alone are under test
BARE = FitOptions(limb_darkening_prior=False, white_light_error_scale=False,
                  spectral_prior=False)  # fmt: skip


def _visit(planet, t0_h: float, seed: int = 3) -> VisitCurves:
    """One visit's AIRS white light of a simulator planet: transit, drift, jitter, noise."""
    time = np.linspace(0.02, 7.45, 187)
    rng = np.random.default_rng(seed)
    curve = light_curves(planet, t0_h, time, np.array([2.5]))[:, 0]
    drift = 1 + 1e-3 * (time - 3.7) / 3.7
    noise = 1.5e-4
    row = 15.5 + rng.normal(0, 0.1, len(time))
    flux = curve * drift * (1 + 2e-4 * (row - 15.5)) + rng.normal(0, noise, len(time))
    return VisitCurves(
        time_h={"AIRS-CH0": time},
        flux={"AIRS-CH0": flux},
        sigma={"AIRS-CH0": np.full(len(time), noise)},
        regressors={"AIRS-CH0": [row]},
    )


def test_contact_times_of_a_central_and_a_grazing_orbit():
    """b = 0: T4 - T1 is the textbook T14 and T3 - T2 its inner twin; a grazing orbit has no
    T2, T3; one that misses the star has no contact at all."""
    period_d, sma, depth = 3.0, 10.0, 0.01
    central = contact_times(np.array(2.0), np.array(sma), np.array(90.0), np.array(depth),
                            period_d)  # fmt: skip
    t14 = transit_duration_h(period_d, sma, 90.0, depth)
    assert central[3] - central[0] == pytest.approx(t14)
    inner = period_d * 24 / np.pi * np.arcsin((1 - 0.1) / sma)
    assert central[2] - central[1] == pytest.approx(inner)
    assert np.mean(central) == pytest.approx(2.0)
    grazing_i = np.degrees(np.arccos(1.0 / sma))  # b = 1 > 1 - k
    grazing = contact_times(np.array(2.0), np.array(sma), np.array(grazing_i), np.array(depth),
                            period_d)  # fmt: skip
    assert np.isfinite(grazing[[0, 3]]).all() and np.isnan(grazing[[1, 2]]).all()
    missing = contact_times(np.array(2.0), np.array(sma), np.array(80.0), np.array(depth),
                            period_d)  # b = 1.74  # fmt: skip
    assert np.isnan(missing).all()


def test_a_transit_whose_mid_time_lies_before_the_visit_is_placed_there():
    """Mid-time 0.8 h before the visit starts (T14 ~5.5 h: the egress is inside): the search
    reaches beyond the visit's edge, which it could not before the guard."""
    planet = draw_planet(SimulationConfig(seed=1), 1, "train")
    search = find_transit(_visit(planet, -0.8), planet.sma, planet.inclination, planet.P,
                          FitOptions())  # fmt: skip
    assert search.t0_h == pytest.approx(-0.8, abs=0.06)
    assert transit_significance([search]) > 20


def test_a_visit_without_a_transit_has_no_significance():
    """The same visit with the mid-time 5 h after its end: nothing to see, and the search's
    best sliver of a transit at the edge stays below the guard's 5 sigma."""
    planet = draw_planet(SimulationConfig(seed=1), 1, "train")
    significances = [
        transit_significance([find_transit(_visit(planet, 7.45 + 5.0, seed), planet.sma,
                                           planet.inclination, planet.P, FitOptions())])
        for seed in range(5)
    ]  # fmt: skip
    assert max(significances) < GuardOptions().min_transit_significance


# --- whole fits of simulated edge planets -----------------------------------------------

BASE = SimulationConfig(seed=11, n_train=40, n_test=6, cadence=200, second_visit_fraction=0.0)


@pytest.fixture(scope="module")
def edge_root(tmp_path_factory) -> tuple[Path, FitPriors]:
    """A raw root's tables (40 train planets' labels and stars: the prior predictive) and
    the fallbacks learned from them."""
    base = tmp_path_factory.mktemp("edge")
    write_top_level(BASE, base / "raw", base / "truth")
    labels = io.read_labels(base / "raw" / "train.csv")
    mean, sigma = naive_reference(labels.to_numpy())
    prior = learn_prior_predictive(labels, io.read_star_info(base / "raw", "train"))
    return base, FitPriors(prior_predictive=prior, naive={"mean": mean, "sigma": sigma})


def _edge_planet(edge_root, kind: str) -> tuple[xr.Dataset, object, np.ndarray]:
    """Light curves, star row and true depths of BASE's first test planet drawn as ``kind``
    (its star, atmosphere and labels are the default planet's)."""
    base, _ = edge_root
    config = replace(BASE, **{f"edge_{kind}": 1.0})
    planet_id = planet_ids(config)["test"][0]
    truth_path = base / "truth" / f"{kind}.json"
    lightcurves = simulated_lightcurves(config, "test", planet_id, base / "raw", truth_path)
    star = io.read_star_info(base / "raw", "test").loc[planet_id]
    truth = np.array(io.read_labels(base / "truth" / "test_labels.csv").loc[planet_id])
    return lightcurves, star, truth


def _score(fit: xr.Dataset, truth: np.ndarray, naive: dict) -> float:
    """The metric on this planet alone, before the clip."""
    mu, sigma = fit["depth"].values.clip(0.0)[None], fit["sigma"].values[None]
    return competition_score(truth[None], mu, sigma, naive["mean"], naive["sigma"], clip=False)


def test_no_transit_gets_the_prior_predictive_and_its_sigma_holds_the_truth(edge_root):
    """Guard on: state no_transit and the prior predictive, the truth within 3 sigma in every
    bin and a score near the naive reference's 0. Guard off: the fit's bound, a fraction of
    the true depth, scoring below."""
    lightcurves, star, truth = _edge_planet(edge_root, "no_transit")
    priors = edge_root[1]
    guarded = fit_planet(lightcurves, star, BARE, priors, GuardOptions())
    record = GuardRecord.from_attrs(dict(guarded.attrs))
    assert (record.state, record.predictor) == ("no_transit", "prior_predictive")
    assert record.transit_significance < 5 and record.fired
    assert np.abs((guarded["depth"].values - truth) / guarded["sigma"].values).max() < 3
    unguarded = fit_planet(lightcurves, star, BARE, priors, OFF)
    assert GuardRecord.from_attrs(dict(unguarded.attrs)).predictor == "physics_fit"
    assert unguarded["depth"].values.mean() < 0.2 * truth.mean()
    # measured: 0.00001 against -0.021 (at this sparse cadence the bound's sigma is wide)
    assert _score(guarded, truth, priors.naive) > max(-0.5, _score(unguarded, truth, priors.naive))


def test_a_partial_transit_keeps_the_fit_with_the_geometry_in_its_sigma(edge_root):
    """Only ingress or egress inside: state partial_transit (T1 or T4 outside), the fit kept
    and honest: the truth's median |z| under 1.5."""
    lightcurves, star, truth = _edge_planet(edge_root, "partial_transit")
    fit = fit_planet(lightcurves, star, BARE, edge_root[1], GuardOptions())
    record = GuardRecord.from_attrs(dict(fit.attrs))
    assert (record.state, record.predictor) == ("partial_transit", "physics_fit")
    assert min(record.contacts["T1"], record.contacts["T4"]) < 0.05
    assert np.median(np.abs((fit["depth"].values - truth) / fit["sigma"].values)) < 1.5


def test_a_normal_planet_passes_every_guard(edge_root):
    """BASE's second test planet, a default one: every contact inside, no fallback."""
    base, priors = edge_root
    planet_id = planet_ids(BASE)["test"][1]
    lightcurves = simulated_lightcurves(BASE, "test", planet_id, base / "raw",
                                        base / "truth" / "normal.json")  # fmt: skip
    star = io.read_star_info(base / "raw", "test").loc[planet_id]
    record = GuardRecord.from_attrs(dict(fit_planet(lightcurves, star, BARE, priors).attrs))
    assert record.state == "normal" and not record.fired
    assert all(p > 0.99 for p in record.contacts.values())


def test_a_failed_fit_gets_the_fallback_and_says_why(edge_root):
    """A fit that raises: state failed, the naive reference without a star row, and the error
    in the reason; with the guard off the error propagates."""
    priors = edge_root[1]
    wavelength = np.linspace(0.7, 7.8, 283)

    def broken() -> xr.Dataset:
        raise OSError("lightcurves.nc: HDF error")

    fit = fit_or_fallback(broken, wavelength, None, priors.prior_predictive, priors.naive,
                          BARE, GuardOptions())  # fmt: skip
    record = GuardRecord.from_attrs(dict(fit.attrs))
    assert (record.state, record.predictor) == ("failed", "naive")
    assert "HDF error" in record.reason
    assert np.allclose(fit["depth"].values, priors.naive["mean"])
    with pytest.raises(OSError, match="HDF error"):
        fit_or_fallback(broken, wavelength, None, priors.prior_predictive, priors.naive, BARE,
                        OFF)  # fmt: skip


def test_a_training_planet_without_a_transit_teaches_no_prior(edge_root):
    """Its limb-darkening samples are none and its white-light pull NaN (the error scale
    skips it); with the guard off it would teach from the fit's bound."""
    lightcurves, star, truth = _edge_planet(edge_root, "no_transit")
    assert limb_darkening_samples(lightcurves, star, truth, BARE).empty
    assert np.isnan(white_light_pulls(lightcurves, star, truth, None, BARE)).all()
    pulls = white_light_pulls(lightcurves, star, truth, None, BARE, OFF)
    assert np.isfinite(pulls).all() and np.abs(pulls).max() > 3


def test_a_feature_the_spectral_prior_never_saw_drops_the_prior(edge_root):
    """A CO2 band (the train labels have none) injected into a normal planet, strong enough
    for this sparse cadence's ~1800 ppm channel sigmas: the fit with the spectral prior
    records a conflict and submits the data alone, the band kept; with the conflict test off
    the prior is applied and pulls the band toward its mean."""
    base, priors = edge_root
    labels = io.read_labels(base / "raw" / "train.csv")
    wavelength = io.read_wavelengths(base / "raw")
    with_prior = replace(priors, spectral=learn_spectrum(labels, wavelength, 6))
    options = replace(BARE, spectral_prior=True)
    planet_id = planet_ids(BASE)["test"][1]
    injection = Injection(co2_amplitude_ppm=8000.0)
    truth_path = base / "truth" / "co2.json"
    lightcurves = simulated_lightcurves(BASE, "test", planet_id, base / "raw", truth_path,
                                        injection=injection)  # fmt: skip
    star = io.read_star_info(base / "raw", "test").loc[planet_id]
    band = injection.depth(wavelength) > 0.5 * injection.co2_amplitude_ppm * 1e-6
    guarded = fit_planet(lightcurves, star, options, with_prior, GuardOptions())
    record = GuardRecord.from_attrs(dict(guarded.attrs))
    assert record.spectral_prior == "conflict" and record.fired
    assert np.array_equal(guarded["depth"].values, guarded["fit_depth"].values)
    unguarded = fit_planet(lightcurves, star, options, with_prior, OFF)
    assert GuardRecord.from_attrs(dict(unguarded.attrs)).spectral_prior == "applied"
    kept = guarded["depth"].values[band] - guarded["depth"].values.mean()
    crushed = unguarded["depth"].values[band] - unguarded["depth"].values.mean()
    assert kept.mean() > crushed.mean()
