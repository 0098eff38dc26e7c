"""Read the top-level tables of a raw root: ADC settings, time axes, wavelengths, stars, labels."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from spectramind.io.errors import RawDataError, few
from spectramind.io.exact_csv import read_csv
from spectramind.io.frames import open_parquet
from spectramind.io.layout import (
    INSTRUMENTS,
    N_COLUMNS,
    N_TARGETS,
    check_instrument,
    discover_planets,
    planet_dir,
)

STAR_COLUMNS: tuple[str, ...] = ("Rs", "Ms", "Ts", "Mp", "e", "P", "sma", "i")
AXIS_COLUMNS: tuple[str, ...] = (
    "FGS1-axis0-h",
    "AIRS-CH0-axis0-h",
    "AIRS-CH0-axis2-um",
    "AIRS-CH0-integration_time",
)


def target_columns() -> list[str]:
    """wl_1..wl_283: the label and prediction columns."""
    return [f"wl_{k}" for k in range(1, N_TARGETS + 1)]


def sigma_columns() -> list[str]:
    """sigma_1..sigma_283: the uncertainty columns of a submission."""
    return [f"sigma_{k}" for k in range(1, N_TARGETS + 1)]


def _read_csv(path: Path, required: list[str] | tuple[str, ...]) -> pd.DataFrame:
    if not path.is_file():
        raise RawDataError(path, "file not found")
    try:
        frame = read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise RawDataError(path, f"not a readable CSV file: {err}") from err
    missing = [c for c in required if c not in frame.columns]
    if missing:
        more = "..." if len(missing) > 5 else ""
        raise RawDataError(path, f"missing columns {missing[:5]}{more}")
    numeric = frame[list(required)].apply(pd.to_numeric, errors="coerce")
    bad = numeric.columns[numeric.isna().any()].tolist()
    if bad:
        raise RawDataError(path, f"non-numeric or empty values in columns {bad[:5]}")
    frame[list(required)] = numeric
    return frame


def _index_by_planet(path: Path, frame: pd.DataFrame) -> pd.DataFrame:
    """Index by integer planet_id; the public test_star_info writes ids as floats (1103775.0)."""
    ids = frame["planet_id"].to_numpy(dtype=np.float64)
    if not np.all(ids == np.round(ids)):
        raise RawDataError(path, "planet_id values must be whole numbers")
    frame = frame.assign(planet_id=ids.astype(np.int64)).set_index("planet_id")
    if frame.index.has_duplicates:
        dup = frame.index[frame.index.duplicated()][0]
        raise RawDataError(path, f"planet_id {dup} appears more than once")
    return frame


@dataclass(frozen=True)
class AdcSetting:
    """Analogue-to-digital conversion of one instrument: physical = raw / gain + offset."""

    gain: float
    offset: float


def read_adc_info(root: str | Path) -> dict[str, AdcSetting]:
    """ADC gain and offset per instrument from adc_info.csv."""
    path = Path(root) / "adc_info.csv"
    columns = [f"{ins}_adc_{kind}" for ins in INSTRUMENTS for kind in ("offset", "gain")]
    frame = _read_csv(path, columns)
    if len(frame) != 1:
        raise RawDataError(path, f"expected one row, found {len(frame)}")
    row = frame.iloc[0]
    settings = {
        ins: AdcSetting(gain=float(row[f"{ins}_adc_gain"]), offset=float(row[f"{ins}_adc_offset"]))
        for ins in INSTRUMENTS
    }
    for ins, setting in settings.items():
        if setting.gain <= 0:
            raise RawDataError(path, f"{ins}_adc_gain must be positive, got {setting.gain}")
    return settings


@dataclass(frozen=True)
class AxisInfo:
    """Time and wavelength axes shared by every planet (axis_info.parquet, NaN padding removed).

    fgs1_time_h / airs_time_h: frame times in hours; airs_wavelength_um: one wavelength per
    AIRS detector column, descending; airs_integration_s: integration time per AIRS frame.
    """

    fgs1_time_h: np.ndarray
    airs_time_h: np.ndarray
    airs_wavelength_um: np.ndarray
    airs_integration_s: np.ndarray

    def time_h(self, instrument: str) -> np.ndarray:
        check_instrument(instrument)
        return self.fgs1_time_h if instrument == "FGS1" else self.airs_time_h

    def n_frames(self, instrument: str) -> int:
        """Frames per visit of ``instrument``; never hard-code 135000 / 11250."""
        return len(self.time_h(instrument))


def _valid_prefix(path: Path, name: str, values: np.ndarray) -> np.ndarray:
    finite = np.isfinite(values)
    n = int(finite.sum())
    if n == 0:
        raise RawDataError(path, f"column {name!r} holds no values")
    if not finite[:n].all():
        raise RawDataError(
            path,
            f"column {name!r} has NaN gaps before its end (only trailing NaN padding is allowed)",
        )
    return values[:n].copy()


def read_axis_info(root: str | Path) -> AxisInfo:
    """Read axis_info.parquet and check the per-column lengths are consistent."""
    path = Path(root) / "axis_info.parquet"
    parquet = open_parquet(path)
    names = parquet.schema_arrow.names
    missing = [c for c in AXIS_COLUMNS if c not in names]
    if missing:
        raise RawDataError(path, f"missing columns {missing}")
    try:
        table = parquet.read(columns=list(AXIS_COLUMNS), use_threads=False)
    except (pa.ArrowException, OSError) as err:
        raise RawDataError(
            path, f"parquet data could not be decoded (corrupt file?): {err}"
        ) from err
    columns = {
        name: _valid_prefix(path, name, table[name].to_numpy().astype(np.float64))
        for name in AXIS_COLUMNS
    }
    info = AxisInfo(
        fgs1_time_h=columns["FGS1-axis0-h"],
        airs_time_h=columns["AIRS-CH0-axis0-h"],
        airs_wavelength_um=columns["AIRS-CH0-axis2-um"],
        airs_integration_s=columns["AIRS-CH0-integration_time"],
    )
    if len(info.airs_wavelength_um) != N_COLUMNS["AIRS-CH0"]:
        raise RawDataError(
            path, f"AIRS-CH0-axis2-um has {len(info.airs_wavelength_um)} values, expected 356"
        )
    if len(info.airs_integration_s) != len(info.airs_time_h):
        raise RawDataError(path, "AIRS-CH0-integration_time and AIRS-CH0-axis0-h differ in length")
    for name, times in (("FGS1", info.fgs1_time_h), ("AIRS-CH0", info.airs_time_h)):
        if len(times) % 2:
            raise RawDataError(path, f"{name} has an odd number of frames; reads come in pairs")
    return info


def read_wavelengths(root: str | Path) -> np.ndarray:
    """The 283 target wavelengths (um) from wavelengths.csv: FGS1 first, then AIRS ascending."""
    path = Path(root) / "wavelengths.csv"
    frame = _read_csv(path, target_columns())
    if len(frame) != 1:
        raise RawDataError(path, f"expected one row, found {len(frame)}")
    return frame[target_columns()].to_numpy(dtype=np.float64)[0]


def read_star_info(root: str | Path, split: str) -> pd.DataFrame:
    """Stellar and orbital parameters of ``split``, indexed by integer planet_id."""
    path = Path(root) / f"{split}_star_info.csv"
    frame = _read_csv(path, ("planet_id", *STAR_COLUMNS))
    return _index_by_planet(path, frame)[list(STAR_COLUMNS)]


def list_planets(root: str | Path, split: str) -> list[int]:
    """Planet ids of ``split``: its planet folders, sorted, which must match the ids of
    ``{split}_star_info.csv`` one to one (an id listed twice there is an error too)."""
    folders = discover_planets(root, split)
    path = Path(root) / f"{split}_star_info.csv"
    listed = set(read_star_info(root, split).index)
    without_folder = sorted(listed - set(folders))
    if without_folder:
        raise RawDataError(
            path, f"planet ids listed without a {split}/ folder: {few(without_folder)}"
        )
    unlisted = [planet_dir(root, split, i) for i in folders if i not in listed]
    if unlisted:
        others = f" (nor are {few([p.name for p in unlisted[1:]])})" if unlisted[1:] else ""
        raise RawDataError(unlisted[0], f"planet folder not listed in {path}{others}")
    return folders


def read_labels(path: str | Path) -> pd.DataFrame:
    """Transit depths (planet_id, wl_1..wl_283) such as train.csv, indexed by planet_id."""
    path = Path(path)
    frame = _read_csv(path, ("planet_id", *target_columns()))
    return _index_by_planet(path, frame)[target_columns()]


def read_train_labels(root: str | Path) -> pd.DataFrame:
    """Ground-truth depths of the training planets (train.csv)."""
    return read_labels(Path(root) / "train.csv")


def read_sample_submission(root: str | Path) -> pd.DataFrame:
    """The sample submission, whose column order a submission must follow."""
    path = Path(root) / "sample_submission.csv"
    frame = _read_csv(path, ("planet_id", *target_columns(), *sigma_columns()))
    return _index_by_planet(path, frame)
