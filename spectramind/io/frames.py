"""Read detector frames stored as parquet tables (one pixel per column, one frame per row).

Signals are uint16 tables of shape (frames, 32 * W); calibration frames are tables of
shape (k * 32, W). Only the number and order of columns matter, never their names: the
real calibration files use ``column_0..`` and nothing promises the signals do too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from spectramind.io.errors import RawDataError
from spectramind.io.layout import frame_shape

DEFAULT_CHUNK_FRAMES = 4096


def open_parquet(path: str | Path) -> pq.ParquetFile:
    """Open a parquet file, turning missing or unreadable files into a ``RawDataError``."""
    path = Path(path)
    if not path.is_file():
        raise RawDataError(path, "file not found")
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as err:
        raise RawDataError(
            path, f"not a readable parquet file (truncated or corrupt?): {err}"
        ) from err


def _check_columns(
    path: Path, parquet: pq.ParquetFile, n_columns: int, dtypes: tuple[pa.DataType, ...]
) -> None:
    schema = parquet.schema_arrow
    if len(schema) != n_columns:
        raise RawDataError(path, f"expected {n_columns} columns, found {len(schema)}")
    wrong = [(f.name, f.type) for f in schema if f.type not in dtypes]
    if wrong:
        name, dtype = wrong[0]
        expected = " or ".join(str(d) for d in dtypes)
        raise RawDataError(
            path, f"column {name!r} has dtype {dtype}, expected {expected} ({len(wrong)} such)"
        )


def _reject_missing(path: Path, columns: list) -> None:
    """Raise if any column holds nulls (parquet's NaN for integer data, pandas' for floats)."""
    for j, column in enumerate(columns):
        if column.null_count:
            raise RawDataError(
                path, f"column {j} holds {column.null_count} missing (null or NaN) values"
            )


def _copy_columns(path: Path, columns: list, out: np.ndarray) -> None:
    """Copy arrow columns one by one into the 2-D view ``out`` (rows, columns)."""
    _reject_missing(path, columns)
    for j, column in enumerate(columns):
        out[:, j] = column.to_numpy(zero_copy_only=False)


def _batch_array(path: Path, batch: pa.RecordBatch) -> np.ndarray:
    """A record batch as one (rows, columns) array, converted in a single C++ call."""
    _reject_missing(path, batch.columns)
    return np.asarray(batch.to_tensor(row_major=True))


def _read_error(path: Path, err: Exception) -> RawDataError:
    return RawDataError(path, f"parquet data could not be decoded (corrupt file?): {err}")


def _open_signal(
    path: Path, instrument: str, n_frames: int | None
) -> tuple[pq.ParquetFile, int, tuple[int, int]]:
    parquet = open_parquet(path)
    rows, cols = frame_shape(instrument)
    _check_columns(path, parquet, rows * cols, (pa.uint16(),))
    total = parquet.metadata.num_rows
    if n_frames is not None and total != n_frames:
        raise RawDataError(
            path,
            f"holds {total} frames but axis_info.parquet lists {n_frames} for {instrument}",
        )
    if total % 2:
        raise RawDataError(
            path, f"holds an odd number of frames ({total}): frames must come in CDS pairs"
        )
    return parquet, total, (rows, cols)


def _reject_zero_frames(path: Path, frames: np.ndarray, first_frame: int) -> None:
    """Raise if a frame (one row of ``frames``, rows x pixels) is entirely zero.

    A real read always carries the ADC pedestal, so an all-zero frame is a dropped or
    zero-filled readout; calibrating it would fake a deep, one-frame transit. Rows are
    viewed as 64-bit words so the check costs a small fraction of the decode.
    """
    flat = frames.reshape(len(frames), -1)
    words = flat.view(np.uint64) if flat.shape[1] % 4 == 0 and flat.flags.c_contiguous else flat
    empty = np.flatnonzero(~words.any(axis=1))
    if len(empty):
        listed = ", ".join(str(first_frame + int(i)) for i in empty[:5])
        raise RawDataError(
            path, f"all-zero frame (dropped readout?) at frame {listed} ({len(empty)} such)"
        )


def _even_chunks(batches: Iterator[np.ndarray], chunk_frames: int) -> Iterator[np.ndarray]:
    """Regroup decoded batches into chunks of exactly ``chunk_frames`` frames (the last may
    be shorter), whatever the file's row-group sizes: chunks then never split a CDS pair and
    are the same for every writer of the same frames."""
    pieces: list[np.ndarray] = []
    held = 0
    for batch in batches:
        pieces.append(batch)
        held += len(batch)
        while held >= chunk_frames:
            block = pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
            yield block[:chunk_frames]
            rest = block[chunk_frames:]
            pieces, held = ([rest] if len(rest) else []), len(rest)
    if held:
        yield pieces[0] if len(pieces) == 1 else np.concatenate(pieces)


def iter_signal_chunks(
    path: str | Path,
    instrument: str,
    n_frames: int | None = None,
    chunk_frames: int = DEFAULT_CHUNK_FRAMES,
    detector_columns: slice | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Stream a signal file as ``(first_frame, frames)`` with frames of shape (n, 32, W) uint16.

    ``n_frames`` (from axis_info) is checked against the file before anything is read.
    Every chunk holds ``chunk_frames`` frames (even, so a chunk never splits a CDS pair;
    the last chunk may be shorter) whatever the parquet row groups hold: frame k of the
    visit is always frame k - first_frame of its chunk.
    ``detector_columns`` (e.g. AIRS 39..320) decodes only those detector columns, giving
    (n, 32, len(columns)) frames: parquet is columnar, so the rest is never decompressed.
    Memory stays at one decoded parquet row group plus one chunk: row groups are read one
    at a time (pyarrow's batch iterator reads further ahead and peaks twice as high).
    """
    if chunk_frames < 2 or chunk_frames % 2:
        raise ValueError(f"chunk_frames must be a positive even number, got {chunk_frames}")
    path = Path(path)
    parquet, _, (rows, cols) = _open_signal(path, instrument, n_frames)
    keep = np.arange(cols)[detector_columns or slice(None)]
    names = parquet.schema_arrow.names
    selected = [names[r * cols + c] for r in range(rows) for c in keep]

    def batches() -> Iterator[np.ndarray]:
        for group in range(parquet.metadata.num_row_groups):
            table = parquet.read_row_group(group, columns=selected, use_threads=False)
            for batch in table.to_batches(max_chunksize=chunk_frames):
                yield _batch_array(path, batch)
            del table

    start = 0
    try:
        for chunk in _even_chunks(batches(), chunk_frames):
            _reject_zero_frames(path, chunk, start)
            yield start, chunk.reshape(len(chunk), rows, len(keep))
            start += len(chunk)
    except (pa.ArrowException, OSError) as err:
        raise _read_error(path, err) from err


def read_signal(path: str | Path, instrument: str, n_frames: int | None = None) -> np.ndarray:
    """Read a whole signal file into one preallocated (frames, 32, W) uint16 array.

    Each parquet column is decoded once, straight into its place in the output: no
    intermediate table or float copy of the visit is ever made.
    """
    path = Path(path)
    parquet, total, (rows, cols) = _open_signal(path, instrument, n_frames)
    out = np.empty((total, rows * cols), dtype=np.uint16)
    start = 0
    try:
        for batch in parquet.iter_batches(batch_size=DEFAULT_CHUNK_FRAMES, use_threads=False):
            _copy_columns(path, batch.columns, out[start : start + batch.num_rows])
            start += batch.num_rows
    except (pa.ArrowException, OSError) as err:
        raise _read_error(path, err) from err
    if start != total:
        raise RawDataError(path, f"footer promises {total} frames but only {start} were read")
    _reject_zero_frames(path, out, 0)
    return out.reshape(total, rows, cols)


def read_frame_table(
    path: str | Path, shape: tuple[int, int], dtypes: tuple[pa.DataType, ...]
) -> np.ndarray:
    """Read a small calibration table of exactly ``shape`` (rows, columns) into an array."""
    path = Path(path)
    parquet = open_parquet(path)
    _check_columns(path, parquet, shape[1], dtypes)
    if parquet.metadata.num_rows != shape[0]:
        raise RawDataError(path, f"expected {shape[0]} rows, found {parquet.metadata.num_rows}")
    try:
        table = parquet.read(use_threads=False)
    except (pa.ArrowException, OSError) as err:
        raise _read_error(path, err) from err
    out = np.empty(shape, dtype=dtypes[0].to_pandas_dtype())
    _copy_columns(path, table.columns, out)
    return out
