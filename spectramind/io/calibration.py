"""Read the per-visit calibration frames: dark, dead, flat, read and linear_corr."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from spectramind.io.errors import RawDataError
from spectramind.io.frames import read_frame_table
from spectramind.io.layout import LINEAR_CORR_DEGREE, N_ROWS, frame_shape

FLOAT_TYPES = (pa.float64(), pa.float32())


@dataclass(frozen=True)
class CalibrationFrames:
    """Calibration frames of one instrument and visit, each (32, W) unless stated.

    dark: dark current (e-/s); dead: True where the pixel is dead; flat: relative pixel
    response; read: read noise (e-); linear_corr: (6, 32, W) polynomial coefficients in
    increasing power order mapping measured to linear signal.
    """

    dark: np.ndarray
    dead: np.ndarray
    flat: np.ndarray
    read: np.ndarray
    linear_corr: np.ndarray


def _read_float(path: Path, shape: tuple[int, int]) -> np.ndarray:
    values = read_frame_table(path, shape, FLOAT_TYPES).astype(np.float64, copy=False)
    n_bad = int(np.count_nonzero(~np.isfinite(values)))
    if n_bad:
        raise RawDataError(path, f"{n_bad} NaN or infinite values in a calibration frame")
    return values


def read_calibration(folder: str | Path, instrument: str) -> CalibrationFrames:
    """Read ``<instrument>_calibration_<n>/`` and check every frame's shape, dtype and values."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RawDataError(folder, "calibration folder not found")
    rows, cols = frame_shape(instrument)
    n_coeffs = LINEAR_CORR_DEGREE + 1
    dead = read_frame_table(folder / "dead.parquet", (rows, cols), (pa.bool_(),))
    linear_corr = _read_float(folder / "linear_corr.parquet", (n_coeffs * N_ROWS, cols))
    return CalibrationFrames(
        dark=_read_float(folder / "dark.parquet", (rows, cols)),
        dead=dead.astype(bool, copy=False),
        flat=_read_float(folder / "flat.parquet", (rows, cols)),
        read=_read_float(folder / "read.parquet", (rows, cols)),
        linear_corr=linear_corr.reshape(n_coeffs, rows, cols),
    )
