"""The real wavelength grids, shipped with the package (copied from the competition files)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import numpy as np

from spectramind.io.exact_csv import read_csv
from spectramind.io.layout import AIRS_SCIENCE_COLUMNS


@cache
def airs_column_wavelengths() -> np.ndarray:
    """Wavelength (um) of each of the 356 AIRS-CH0 detector columns, descending."""
    table = read_csv(files("spectramind.data").joinpath("airs_ch0_axis2_um.csv"))
    return table["wavelength_um"].to_numpy(dtype=np.float64)


@cache
def target_wavelengths() -> np.ndarray:
    """The 283 target wavelengths (um) of wavelengths.csv: FGS1, then AIRS ascending."""
    table = read_csv(files("spectramind.data").joinpath("wavelengths.csv"))
    return table.iloc[0].to_numpy(dtype=np.float64)


def airs_columns_to_targets(values: np.ndarray) -> np.ndarray:
    """Map per-detector-column values (..., 356) to the 282 AIRS targets: crop then flip."""
    return values[..., AIRS_SCIENCE_COLUMNS][..., ::-1]
