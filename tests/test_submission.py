"""Submission building, packaging and the validator's actionable messages."""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest

from spectramind.guards.fallback import complete_with_fallback, fallback_prediction
from spectramind.guards.prior_predictive import PriorPredictive, learn_prior_predictive
from spectramind.submission import (
    SubmissionError,
    build_submission,
    expected_columns,
    validate_submission,
    write_submission,
)
from spectramind.submission.cli import main

IDS = [11, 22, 33]
# Every value distinct, so a swapped block, row or column cannot go unnoticed.
RNG = np.random.default_rng(0)
MU = RNG.uniform(0.005, 0.046, (3, 283))
SIGMA = RNG.uniform(1e-5, 1e-3, (3, 283))
# sample_submission.csv: planet_id, wl_1..wl_283, sigma_1..sigma_283.
COLUMNS = ["planet_id", *(f"wl_{k}" for k in range(1, 284)), *(f"sigma_{k}" for k in range(1, 284))]


@pytest.fixture
def valid(tmp_path):
    frame = build_submission(IDS, MU, SIGMA, expected_columns())
    write_submission(frame, tmp_path / "submission.csv", tmp_path / "submission.zip")
    return tmp_path / "submission.csv"


def test_valid_submission_round_trips_and_zips(valid, tmp_path):
    """What is read back is what was predicted: columns in the Kaggle order, one row per
    planet in the given order, means and sigmas in their own columns to 10 digits."""
    assert expected_columns() == COLUMNS
    frame = validate_submission(valid, expected_columns(), IDS)
    assert list(frame.columns) == COLUMNS
    assert frame["planet_id"].tolist() == IDS
    np.testing.assert_allclose(frame[COLUMNS[1:284]].to_numpy(), MU, rtol=1e-9)
    np.testing.assert_allclose(frame[COLUMNS[284:]].to_numpy(), SIGMA, rtol=1e-9)
    with zipfile.ZipFile(tmp_path / "submission.zip") as archive:
        assert archive.namelist() == ["submission.csv"]
        assert archive.read("submission.csv") == valid.read_bytes()
    assert main([str(valid)]) == 0


def _problems(path, frame) -> str:
    frame.to_csv(path, index=False)
    with pytest.raises(SubmissionError) as excinfo:
        validate_submission(path, expected_columns(), IDS)
    return str(excinfo.value)


def test_every_problem_is_named(valid, tmp_path):
    frame = pd.read_csv(valid)
    frame.loc[1, "sigma_7"] = -1e-5
    frame.loc[2, "wl_100"] = np.nan
    frame.loc[2, "planet_id"] = 44
    message = _problems(tmp_path / "bad.csv", frame)
    assert "negative sigma values in columns sigma_7 (planets 22)" in message
    assert "NaN or infinite mean values in columns wl_100 (planets 44)" in message
    assert "planet_id not in the test set: 44" in message
    assert "test planets without a row: 33" in message


def test_column_problems(valid, tmp_path):
    frame = pd.read_csv(valid)
    assert "missing columns: sigma_283" in _problems(tmp_path / "a.csv", frame.iloc[:, :-1])
    swapped = frame[["planet_id", "wl_2", "wl_1", *frame.columns[3:]]]
    assert "out of order from position 1: found 'wl_2'" in _problems(tmp_path / "b.csv", swapped)


def test_duplicates_and_missing_file(valid, tmp_path):
    frame = pd.read_csv(valid)
    doubled = pd.concat([frame, frame.iloc[[0]]])
    assert "duplicate planet_id rows: 11" in _problems(tmp_path / "d.csv", doubled)
    with pytest.raises(SubmissionError, match="file not found"):
        validate_submission(tmp_path / "nope.csv")


def test_command_line_reports_problems(valid, tmp_path, capsys):
    frame = pd.read_csv(valid)
    frame.loc[0, "wl_3"] = -0.1
    frame.to_csv(tmp_path / "neg.csv", index=False)
    sample = tmp_path / "sample.csv"
    frame.iloc[:0].to_csv(sample, index=False)
    ids = tmp_path / "test_star_info.csv"
    pd.DataFrame({"planet_id": [11.0, 22.0, 33.0]}).to_csv(ids, index=False)
    assert main([str(tmp_path / "neg.csv"), "--sample", str(sample), "--test-ids", str(ids)]) == 1
    assert "negative mean values in columns wl_3 (planets 11)" in capsys.readouterr().err


# ------------------------------------------------------------------ fallback for missing planets


def toy_prior(n_planets: int = 12) -> PriorPredictive:
    """A prior predictive learned on toy planets whose depth grows with the star radius."""
    rng = np.random.default_rng(1)
    ids = range(100, 100 + n_planets)
    stars = pd.DataFrame(
        {"Rs": rng.uniform(0.7, 2.0, n_planets), "Ms": 1.0, "Ts": 5700.0, "Mp": 1.0,
         "e": 0.0, "P": 4.0, "sma": 10.0, "i": 89.0},
        index=ids,
    )  # fmt: skip
    shape = 1.0 + 0.01 * rng.standard_normal((n_planets, 283))
    labels = pd.DataFrame(0.01 * stars[["Rs"]].to_numpy() ** 2 * shape, index=ids)
    return learn_prior_predictive(labels, stars)


def test_missing_planets_get_the_prior_predictive_from_their_star_row_else_naive():
    prior = toy_prior()
    stars = pd.DataFrame(
        {"Rs": [1.0, 1.8], "Ms": 1.0, "Ts": 5700.0, "Mp": 1.0, "e": 0.0, "P": 4.0,
         "sma": 10.0, "i": 89.0},
        index=[22, 44],
    )  # fmt: skip
    naive = {"mean": 0.5, "sigma": 0.25}
    test_ids = [44, 11, 33, 22]
    ids, mu, sigma, filled = complete_with_fallback(
        IDS[:1] + IDS[2:], MU[[0, 2]], SIGMA[[0, 2]], test_ids, stars, prior, naive
    )
    assert ids == test_ids and mu.shape == sigma.shape == (4, 283)
    assert filled == {44: "prior_predictive", 22: "prior_predictive"}
    np.testing.assert_array_equal(mu[1], MU[0])
    np.testing.assert_array_equal(sigma[2], SIGMA[2])
    # Depth 0.01 Rs^2: the bigger star's planet (Rs 1.8) is predicted deeper.
    assert mu[0].mean() > 2.0 * mu[3].mean()
    assert mu[3].mean() == pytest.approx(0.01, rel=0.2)
    # Without a prior, or for a planet without a star row: the naive reference.
    _, mu, sigma, filled = complete_with_fallback(
        [], MU[:0], SIGMA[:0], [22, 55], stars, None, naive
    )
    assert filled == {22: "naive", 55: "naive"} and (mu == 0.5).all() and (sigma == 0.25).all()
    _, mu, _, filled = complete_with_fallback([], MU[:0], SIGMA[:0], [22, 55], stars, prior, naive)
    assert filled == {22: "prior_predictive", 55: "naive"} and (mu[1] == 0.5).all()


def test_fallback_predictions_follow_the_rows_asked_for():
    prior = toy_prior()
    stars = pd.DataFrame(
        {"Rs": [1.0], "Ms": 1.0, "Ts": 5700.0, "Mp": 1.0, "e": 0.0, "P": 4.0, "sma": 10.0,
         "i": 89.0},
        index=[7],
    )  # fmt: skip
    naive = {"mean": 0.5, "sigma": 0.25}
    mu, sigma, predictors = fallback_prediction([8, 7], stars, prior, naive)
    assert predictors == ["naive", "prior_predictive"]
    assert mu.shape == (2, 283) and (mu[0] == 0.5).all() and (mu[1] < 0.1).all()
    mu, _, predictors = fallback_prediction([7], None, prior, naive)
    assert predictors == ["naive"] and (mu == 0.5).all()
    with pytest.raises(ValueError, match="283 bins, not 10"):
        fallback_prediction([7], stars, prior, naive, n_bins=10)
