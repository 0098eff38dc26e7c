"""Write simulated frames and tables in the exact Kaggle layout."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def column_names(n: int) -> list[str]:
    """column_0 .. column_{n-1}, as the real files name them."""
    return [f"column_{j}" for j in range(n)]


def write_frame_stream(
    path: Path, n_columns: int, chunks: Iterable[np.ndarray], row_group_frames: int
) -> int:
    """Write uint16 frame chunks (frames, ...) as one parquet file of ``n_columns`` columns.

    Chunks are gathered into row groups of ``row_group_frames`` frames: big enough to keep
    parquet's per-column overhead small, small enough for readers to stream. Returns the
    number of frames written.
    """
    schema = pa.schema([(name, pa.uint16()) for name in column_names(n_columns)])
    pending: list[np.ndarray] = []
    frames = 0

    def flush(writer: pq.ParquetWriter) -> None:
        block = np.concatenate(pending).reshape(-1, n_columns)
        columns = np.ascontiguousarray(block.T)
        writer.write_table(
            pa.Table.from_arrays([pa.array(c) for c in columns], schema=schema),
            row_group_size=len(block),
        )
        pending.clear()

    with pq.ParquetWriter(path, schema) as writer:
        for chunk in chunks:
            pending.append(chunk)
            frames += len(chunk)
            if sum(len(c) for c in pending) >= row_group_frames:
                flush(writer)
        if pending:
            flush(writer)
    return frames


def write_frame_table(path: Path, values: np.ndarray) -> None:
    """Write a 2-D calibration array (rows, columns) with column_<j> names."""
    frame = pd.DataFrame(values, columns=column_names(values.shape[1]))
    frame.to_parquet(path, index=False)
