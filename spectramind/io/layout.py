"""Where things live in an ADC 2025 raw root (the Kaggle layout), and what is in it.

Paths, names and the format's fixed numbers (frame shapes, readout timing, the AIRS science
columns, 283 targets): the one place every stage takes them from. Reading is done by the
sibling modules.
"""

from __future__ import annotations

from pathlib import Path

from spectramind.io.errors import RawDataError

INSTRUMENTS: tuple[str, ...] = ("FGS1", "AIRS-CH0")
SPLITS: tuple[str, ...] = ("train", "test")
N_ROWS = 32
N_COLUMNS: dict[str, int] = {"FGS1": 32, "AIRS-CH0": 356}
CALIBRATION_FRAMES: tuple[str, ...] = ("dark", "dead", "flat", "read", "linear_corr")
LINEAR_CORR_DEGREE = 5
N_TARGETS = 283  # FGS1 white light + 282 AIRS-CH0 bins: wl_1..wl_283

# AIRS-CH0 detector columns that map to wl_2..wl_283 (descending wavelength; flipped later).
AIRS_SCIENCE_COLUMNS = slice(39, 321)

# Readout timing at full cadence (s). A CDS pair is a short read SHORT_READ_S after the
# reset, then a long read after a further INTEGRATION_S; pairs repeat every PAIR_PERIOD_S.
SHORT_READ_S = 0.1
INTEGRATION_S: dict[str, float] = {"FGS1": 0.1, "AIRS-CH0": 4.5}
PAIR_PERIOD_S: dict[str, float] = {"FGS1": 0.4, "AIRS-CH0": 4.8}

TOP_LEVEL_FILES: tuple[str, ...] = (
    "adc_info.csv",
    "axis_info.parquet",
    "wavelengths.csv",
    "train.csv",
    "train_star_info.csv",
    "test_star_info.csv",
    "sample_submission.csv",
)


def top_level_file(root: str | Path, name: str) -> Path:
    """Path of one of the files at the top of the raw root (TOP_LEVEL_FILES)."""
    if name not in TOP_LEVEL_FILES:
        raise ValueError(f"{name!r} is not a top-level file of the raw layout: {TOP_LEVEL_FILES}")
    return Path(root) / name


def check_instrument(instrument: str) -> str:
    """Return ``instrument`` unchanged, or raise if it is not FGS1 or AIRS-CH0."""
    if instrument not in INSTRUMENTS:
        raise ValueError(f"unknown instrument {instrument!r}; expected one of {INSTRUMENTS}")
    return instrument


def frame_shape(instrument: str) -> tuple[int, int]:
    """(rows, columns) of one detector frame of ``instrument``."""
    return N_ROWS, N_COLUMNS[check_instrument(instrument)]


def planet_dir(root: str | Path, split: str, planet_id: int) -> Path:
    return Path(root) / split / str(int(planet_id))


def signal_path(root: str | Path, split: str, planet_id: int, instrument: str, visit: int) -> Path:
    """Path of the raw signal parquet of one visit of one instrument."""
    check_instrument(instrument)
    return planet_dir(root, split, planet_id) / f"{instrument}_signal_{visit}.parquet"


def calibration_dir(
    root: str | Path, split: str, planet_id: int, instrument: str, visit: int
) -> Path:
    """Folder with dark/dead/flat/read/linear_corr parquet files of one visit."""
    check_instrument(instrument)
    return planet_dir(root, split, planet_id) / f"{instrument}_calibration_{visit}"


def visit_files(
    root: str | Path, split: str, planet_id: int, instrument: str, visit: int
) -> list[Path]:
    """Every raw file one visit of one instrument is calibrated from: its signal, then its
    calibration frames."""
    folder = calibration_dir(root, split, planet_id, instrument, visit)
    return [
        signal_path(root, split, planet_id, instrument, visit),
        *(folder / f"{frame}.parquet" for frame in CALIBRATION_FRAMES),
    ]


def discover_planets(root: str | Path, split: str) -> list[int]:
    """Planet ids of ``split`` under ``root``: the integer-named folders, sorted.

    Only lists directories, so it works on read-only roots such as /kaggle/input.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    split_dir = Path(root) / split
    if not split_dir.is_dir():
        raise RawDataError(split_dir, f"no {split}/ folder in the raw root")
    return sorted(int(p.name) for p in split_dir.iterdir() if p.is_dir() and p.name.isdigit())


def discover_visits(root: str | Path, split: str, planet_id: int) -> list[int]:
    """Visit numbers of one planet, from its signal files; both instruments must agree and
    every visit needs its calibration folders."""
    folder = planet_dir(root, split, planet_id)
    if not folder.is_dir():
        raise RawDataError(folder, "planet folder does not exist")
    visits: dict[str, list[int]] = {}
    for instrument in INSTRUMENTS:
        prefix = f"{instrument}_signal_"
        visits[instrument] = sorted(
            int(p.stem[len(prefix) :])
            for p in folder.glob(f"{prefix}*.parquet")
            if p.stem[len(prefix) :].isdigit()
        )
    if not visits["AIRS-CH0"] and not visits["FGS1"]:
        raise RawDataError(folder, "no *_signal_<n>.parquet files in the planet folder")
    if visits["AIRS-CH0"] != visits["FGS1"]:
        raise RawDataError(
            folder,
            f"instruments disagree on visits: FGS1 has {visits['FGS1']}, "
            f"AIRS-CH0 has {visits['AIRS-CH0']}",
        )
    for visit in visits["FGS1"]:
        for instrument in INSTRUMENTS:
            folder = calibration_dir(root, split, planet_id, instrument, visit)
            if not folder.is_dir():
                raise RawDataError(
                    folder, f"calibration folder missing for {instrument}_signal_{visit}.parquet"
                )
    return visits["FGS1"]
