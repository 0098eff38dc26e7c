"""Submission building, packaging and the validator's actionable messages."""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest

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
