"""Bad raw input gets a RawDataError naming the file and the problem."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spectramind import io
from spectramind.io import RawDataError


@pytest.fixture
def planet(small_root: Path, tmp_path: Path) -> tuple[Path, int]:
    """A private copy of the small root (tests corrupt it) and one train planet id."""
    root = tmp_path / "raw"
    shutil.copytree(small_root, root)
    return root, io.discover_planets(root, "train")[0]


def _error(excinfo: pytest.ExceptionInfo, path: Path, words: str) -> None:
    message = str(excinfo.value)
    assert str(path) in message, message
    assert words in message, message


def test_missing_signal_file(planet):
    root, pid = planet
    path = io.signal_path(root, "train", pid, "AIRS-CH0", 0)
    path.unlink()
    with pytest.raises(RawDataError) as excinfo:
        io.read_signal(path, "AIRS-CH0")
    _error(excinfo, path, "file not found")


def test_missing_calibration_frame(planet):
    root, pid = planet
    folder = io.calibration_dir(root, "train", pid, "FGS1", 0)
    (folder / "flat.parquet").unlink()
    with pytest.raises(RawDataError) as excinfo:
        io.read_calibration(folder, "FGS1")
    _error(excinfo, folder / "flat.parquet", "file not found")


def test_missing_top_level_table(planet):
    root, _ = planet
    (root / "adc_info.csv").unlink()
    with pytest.raises(RawDataError) as excinfo:
        io.read_adc_info(root)
    _error(excinfo, root / "adc_info.csv", "file not found")


def test_wrong_column_count(planet):
    root, pid = planet
    path = io.signal_path(root, "train", pid, "FGS1", 0)
    table = pq.read_table(path)
    pq.write_table(table.drop_columns(table.column_names[-3:]), path)
    with pytest.raises(RawDataError) as excinfo:
        io.read_signal(path, "FGS1")
    _error(excinfo, path, "expected 1024 columns, found 1021")


def test_wrong_dtype(planet):
    root, pid = planet
    path = io.signal_path(root, "train", pid, "FGS1", 0)
    table = pq.read_table(path)
    pq.write_table(table.cast(pa.schema([(n, pa.float32()) for n in table.column_names])), path)
    with pytest.raises(RawDataError) as excinfo:
        io.read_signal(path, "FGS1")
    _error(excinfo, path, "dtype float, expected uint16")


def test_truncated_parquet(planet):
    root, pid = planet
    path = io.signal_path(root, "train", pid, "AIRS-CH0", 0)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(RawDataError) as excinfo:
        io.read_signal(path, "AIRS-CH0")
    _error(excinfo, path, "truncated or corrupt")


def test_corrupt_data_page(planet):
    """Footer intact but a data page overwritten: decoding must fail by name, not crash."""
    root, pid = planet
    path = io.signal_path(root, "train", pid, "AIRS-CH0", 0)
    data = bytearray(path.read_bytes())
    middle = len(data) // 3
    data[middle : middle + 4096] = np.random.default_rng(0).bytes(4096)
    path.write_bytes(bytes(data))
    with pytest.raises(RawDataError) as excinfo:
        io.read_signal(path, "AIRS-CH0")
    _error(excinfo, path, "corrupt")


def test_frame_count_disagrees_with_axis_info(planet):
    root, pid = planet
    axis = io.read_axis_info(root)
    path = io.signal_path(root, "train", pid, "FGS1", 0)
    table = pq.read_table(path)
    pq.write_table(table.slice(0, table.num_rows - 2), path)
    with pytest.raises(RawDataError) as excinfo:
        io.read_signal(path, "FGS1", axis.n_frames("FGS1"))
    _error(excinfo, path, f"axis_info.parquet lists {axis.n_frames('FGS1')}")
    with pytest.raises(RawDataError):
        list(io.iter_signal_chunks(path, "FGS1", axis.n_frames("FGS1")))


def test_nan_in_calibration_frame(planet):
    root, pid = planet
    folder = io.calibration_dir(root, "train", pid, "AIRS-CH0", 0)
    dark = pd.read_parquet(folder / "dark.parquet")
    dark.iloc[3, 5] = np.nan
    dark.to_parquet(folder / "dark.parquet", index=False)
    with pytest.raises(RawDataError) as excinfo:
        io.read_calibration(folder, "AIRS-CH0")
    _error(excinfo, folder / "dark.parquet", "NaN")


def test_calibration_frame_of_wrong_shape(planet):
    root, pid = planet
    folder = io.calibration_dir(root, "train", pid, "FGS1", 0)
    linear = pd.read_parquet(folder / "linear_corr.parquet")
    linear.iloc[:160].to_parquet(folder / "linear_corr.parquet", index=False)
    with pytest.raises(RawDataError) as excinfo:
        io.read_calibration(folder, "FGS1")
    _error(excinfo, folder / "linear_corr.parquet", "expected 192 rows, found 160")


def test_signal_with_missing_values(planet):
    root, pid = planet
    path = io.signal_path(root, "train", pid, "FGS1", 0)
    table = pq.read_table(path)
    column = table.column(10).to_pylist()
    column[4] = None
    table = table.set_column(10, table.field(10), pa.array(column, pa.uint16()))
    pq.write_table(table, path)
    with pytest.raises(RawDataError) as excinfo:
        io.read_signal(path, "FGS1")
    _error(excinfo, path, "column 10 holds 1 missing")


def test_planet_with_visits_missing_for_one_instrument(planet):
    root, pid = planet
    io.signal_path(root, "train", pid, "AIRS-CH0", 0).unlink()
    with pytest.raises(RawDataError) as excinfo:
        io.discover_visits(root, "train", pid)
    _error(excinfo, root / "train" / str(pid), "instruments disagree on visits")


def test_star_info_with_non_integer_id(planet):
    root, _ = planet
    path = root / "test_star_info.csv"
    stars = pd.read_csv(path)
    stars.loc[0, "planet_id"] = 12.5
    stars.to_csv(path, index=False)
    with pytest.raises(RawDataError) as excinfo:
        io.read_star_info(root, "test")
    _error(excinfo, path, "whole numbers")


def test_reader_ignores_signal_column_names(planet):
    """Only the count and order of signal columns matter, not their names."""
    root, pid = planet
    path = io.signal_path(root, "train", pid, "FGS1", 0)
    before = io.read_signal(path, "FGS1")
    table = pq.read_table(path)
    pq.write_table(table.rename_columns([f"px{j:04d}" for j in range(1024)]), path)
    np.testing.assert_array_equal(io.read_signal(path, "FGS1"), before)
