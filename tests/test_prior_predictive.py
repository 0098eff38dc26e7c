"""The prior predictive (spectramind.guards.prior_predictive): learned on 100 simulated planets
and judged on 200 others, its round trip, and the paths without a regression.

The simulator draws each depth independently of the star; here a planet's radius follows its
mass (R ~ M^0.3, with 10 % scatter) and its depth is (Rp/Rs)^2, so the star row tells
something about the depth, as on the real planets. The spectra are the simulator's.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from spectramind.evaluation.metrics import competition_score, naive_reference
from spectramind.guards.prior_predictive import (
    PriorPredictive,
    learn_prior_predictive,
    prior_predictive_record,
    read_prior_predictive,
)
from spectramind.io.tables import target_columns
from spectramind.simulate import SimulationConfig, draw_planet
from spectramind.simulate.planet import true_depths

N_TRAIN = 100
R_JUPITER_IN_R_SUN = 0.10045


@pytest.fixture(scope="module")
def population() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Star table and labels of 300 planets (ids 1000..1299)."""
    config = SimulationConfig(seed=3, n_train=300, n_test=0)
    rng = np.random.default_rng(0)
    stars, labels = {}, {}
    for planet_id in range(1000, 1300):
        planet = draw_planet(config, planet_id, "train")
        radius = R_JUPITER_IN_R_SUN * planet.Mp**0.3 * np.exp(rng.normal(0.0, 0.1))
        planet = dataclasses.replace(planet, base_depth=float((radius / planet.Rs) ** 2))
        stars[planet_id] = planet.star_info_row()
        labels[planet_id] = true_depths(planet)
    return (
        pd.DataFrame.from_dict(stars, orient="index"),
        pd.DataFrame.from_dict(labels, orient="index", columns=target_columns()),
    )


@pytest.fixture(scope="module")
def split(population):
    stars, labels = population
    train, test = labels.index[:N_TRAIN], labels.index[N_TRAIN:]
    return stars.loc[train], labels.loc[train], stars.loc[test], labels.loc[test]


@pytest.fixture(scope="module")
def prior(split) -> PriorPredictive:
    train_stars, train_labels, _, _ = split
    return learn_prior_predictive(train_labels, train_stars)


def planet_scores(truth, mu, sigma, naive: tuple[float, float]) -> np.ndarray:
    """The competition score of each planet alone, unclipped (0: the naive reference)."""
    return np.array(
        [
            competition_score(truth[[k]], mu[[k]], sigma[[k]], *naive, clip=False)
            for k in range(len(truth))
        ]
    )


def test_held_out_planets_are_covered_and_beat_the_naive_reference(split, prior):
    train_stars, train_labels, test_stars, test_labels = split
    truth = test_labels.to_numpy()
    naive = naive_reference(train_labels.to_numpy())
    mu, sigma = prior.predict(test_stars)
    z = np.abs(truth - mu) / sigma
    scores = planet_scores(truth, mu, sigma, naive)
    assert prior.method == "regression" and prior.loo_rmse < prior.loo_rmse_mean
    assert np.quantile(z, 0.95) <= 3.0
    assert np.median(scores) >= 0.0
    assert scores.min() > -1.0
    # The regression is what helps: the same prior without the star features does worse.
    blind = test_stars.assign(Rs=np.nan)
    blind_scores = planet_scores(truth, *prior.predict(blind), naive)
    assert np.median(scores) > np.median(blind_scores) + 0.05


def test_round_trip_through_json(tmp_path, split, prior):
    _, _, test_stars, _ = split
    path = tmp_path / "prior_predictive.json"
    path.write_text(json.dumps(prior.to_dict()))
    again = read_prior_predictive(path)
    assert again == prior
    np.testing.assert_array_equal(again.predict(test_stars)[1], prior.predict(test_stars)[1])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.pop("coef"), "missing \\['coef'\\]"),
        (lambda r: r.update(extra=1), "unknown \\['extra'\\]"),
        (lambda r: r.update(coef=r["coef"][:-1]), "coef needs"),
        (lambda r: r.update(sigma_scale=0.5), "sigma_scale >= 1"),
        (lambda r: r.update(method="median"), "method"),
        (lambda r: r.update(intercept="x"), "intercept"),
        (lambda r: r.update(shape_mean=[float("nan")] * 283), "finite"),
        (lambda r: r.update(level_moments=[1.0, 0.5]), "moments"),
    ],
)
def test_malformed_records_are_refused(prior, change, message):
    record = prior.to_dict()
    change(record)
    with pytest.raises(ValueError, match=message):
        PriorPredictive.from_dict(record)


def test_too_few_planets_take_the_mean_level(split):
    train_stars, train_labels, test_stars, _ = split
    few = learn_prior_predictive(train_labels.iloc[:8], train_stars)
    assert few.method == "mean" and few.features == () and few.n_planets == 8
    mu, sigma = few.predict(test_stars.iloc[:3])
    np.testing.assert_allclose(mu, np.broadcast_to(mu[0], mu.shape))
    assert np.isfinite(sigma).all() and (sigma > 0).all()
    with pytest.raises(ValueError, match="needs >= 3 planets"):
        learn_prior_predictive(train_labels.iloc[:2], train_stars)


def test_an_artifact_from_two_planets_records_why_and_reads_as_none(split, tmp_path):
    """A workflow with two train planets still runs: the artifact says why there is no
    prior predictive, and reading it gives None (the naive reference is the fallback)."""
    train_stars, train_labels, _, _ = split
    record = prior_predictive_record(train_labels.iloc[:2], train_stars)
    assert record == {"unlearned": "2 usable train planets, fewer than the 3 it needs"}
    path = tmp_path / "prior_predictive.json"
    path.write_text(json.dumps(record))
    assert read_prior_predictive(path) is None
    path.write_text(json.dumps(prior_predictive_record(train_labels.iloc[:8], train_stars)))
    assert read_prior_predictive(path).n_planets == 8


def test_excluded_planets_are_not_learned_from(split):
    train_stars, train_labels, _, _ = split
    bad = train_labels.index[0]
    spoiled = train_labels.copy()
    spoiled.loc[bad] *= 50.0  # a foreground-polluted planet, say
    clean = learn_prior_predictive(train_labels.drop(index=bad), train_stars)
    assert learn_prior_predictive(spoiled, train_stars, exclude=[bad]) == clean
    assert learn_prior_predictive(spoiled, train_stars) != clean


def test_a_star_row_without_usable_features_gets_the_wider_mean_level(split, prior):
    _, _, test_stars, _ = split
    rows = test_stars.iloc[:4].copy()
    rows.iloc[1, rows.columns.get_loc("Rs")] = np.nan
    rows.iloc[2, rows.columns.get_loc("Mp")] = np.inf
    rows.iloc[3, rows.columns.get_loc("Ms")] = 0.0  # log of 0
    mu, sigma = prior.predict(rows)
    assert np.isfinite(mu).all() and np.isfinite(sigma).all() and (mu > 0).all()
    np.testing.assert_allclose(mu[2:], np.broadcast_to(mu[1], (2, mu.shape[1])))
    relative = (sigma / mu).mean(axis=1)
    assert relative[1] > 2.0 * relative[0]
