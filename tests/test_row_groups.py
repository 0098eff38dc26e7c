"""Calibration must not depend on how a writer split a signal file into parquet row groups.

Frames are CDS pairs (short read, long read); a chunking that paired frames within each row
group would swap short and long reads after the first odd-sized group and silently corrupt
every pixel from there on. Other writers than our simulator choose other group sizes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from spectramind import io
from spectramind.calibrate import calibrate_visit

# Odd sizes are the ones that split a CDS pair across groups. Seven frames (386 FGS1 groups
# at cadence 50) take ~15 s a file: make test-all only (slow). 33 (many groups: 82 FGS1,
# 7 AIRS) and 333 (few: 9 FGS1, 1 AIRS) run in every test run. One frame per group is left
# out: a column chunk per pixel per frame (~2.5 million per AIRS file) makes reading it take
# minutes, and no writer does it.
ROW_GROUP_SIZES = (pytest.param(7, marks=pytest.mark.slow), 33, 333)


def _rewrite(path: Path, row_group_frames: int) -> None:
    table = pq.read_table(path)
    pq.write_table(table, path, row_group_size=row_group_frames, compression="snappy")


@pytest.fixture(scope="module")
def planet(small_root: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A private copy of the small root and a test planet with at least one visit."""
    root = tmp_path_factory.mktemp("row_groups") / "raw"
    shutil.copytree(small_root, root)
    return root, io.discover_planets(root, "test")[0]


@pytest.mark.parametrize("instrument", io.INSTRUMENTS)
@pytest.mark.parametrize("row_group_frames", ROW_GROUP_SIZES)
def test_calibration_is_identical_for_any_row_group_size(planet, instrument, row_group_frames):
    root, planet_id = planet
    path = io.signal_path(root, "test", planet_id, instrument, 0)
    default = calibrate_visit(root, "test", planet_id, instrument, 0)
    original = path.read_bytes()
    try:
        _rewrite(path, row_group_frames)
        rewritten = calibrate_visit(root, "test", planet_id, instrument, 0)
    finally:
        path.write_bytes(original)
    for name in ("flux", "variance", "mask"):
        np.testing.assert_array_equal(rewritten[name].values, default[name].values, err_msg=name)


def test_chunks_start_on_a_pair_whatever_the_row_groups(planet):
    root, planet_id = planet
    path = io.signal_path(root, "test", planet_id, "FGS1", 0)
    frames = io.read_signal(path, "FGS1")
    original = path.read_bytes()
    try:
        _rewrite(path, 333)
        chunks = list(io.iter_signal_chunks(path, "FGS1", chunk_frames=100))
    finally:
        path.write_bytes(original)
    assert [start for start, _ in chunks] == list(range(0, len(frames), 100))
    np.testing.assert_array_equal(np.concatenate([chunk for _, chunk in chunks]), frames)


def test_an_odd_frame_count_is_an_error_naming_the_file(planet, tmp_path):
    root, planet_id = planet
    table = pq.read_table(io.signal_path(root, "test", planet_id, "FGS1", 0))
    path = tmp_path / "FGS1_signal_0.parquet"
    pq.write_table(table.slice(0, table.num_rows - 1), path)
    for read in (io.read_signal, lambda p, i: list(io.iter_signal_chunks(p, i))):
        with pytest.raises(io.RawDataError, match="odd number of frames") as excinfo:
            read(path, "FGS1")
        assert str(path) in str(excinfo.value)
