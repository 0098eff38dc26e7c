"""Check a planet's raw files end to end and summarise them (frame counts, raw value ranges).

Used by the ``check_raw`` rule so a broken download fails early, naming the file, instead of
half-way through calibration.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spectramind.core.atomic import write_csv_atomic, write_json_atomic
from spectramind.io.calibration import read_calibration
from spectramind.io.errors import RawDataError
from spectramind.io.frames import iter_signal_chunks
from spectramind.io.layout import INSTRUMENTS, calibration_dir, discover_visits, signal_path
from spectramind.io.tables import AxisInfo, read_axis_info

log = logging.getLogger(__name__)


def summarise_visit(
    root: str | Path, split: str, planet_id: int, instrument: str, visit: int, axis: AxisInfo
) -> dict[str, Any]:
    """Read one visit of one instrument completely and return its vital statistics."""
    n_frames = axis.n_frames(instrument)
    lo, hi = np.iinfo(np.uint16).max, 0
    read = 0
    path = signal_path(root, split, planet_id, instrument, visit)
    for _, frames in iter_signal_chunks(path, instrument, n_frames=n_frames):
        lo, hi = min(lo, int(frames.min())), max(hi, int(frames.max()))
        read += len(frames)
    calib = read_calibration(calibration_dir(root, split, planet_id, instrument, visit), instrument)
    log.info("%s visit %d: %d frames, raw %d..%d", instrument, visit, read, lo, hi)
    return {
        "instrument": instrument,
        "visit": visit,
        "frames": read,
        "raw_min": lo,
        "raw_max": hi,
        "dead_fraction": float(calib.dead.mean()),
        "dark_median": float(np.median(calib.dark)),
        "read_median": float(np.median(calib.read)),
        "flat_median": float(np.median(calib.flat)),
    }


def summarise_planet(root: str | Path, split: str, planet_id: int, axis: AxisInfo) -> dict:
    """Check and summarise every visit and instrument of one planet."""
    visits = discover_visits(root, split, planet_id)
    return {
        "planet_id": int(planet_id),
        "split": split,
        "visits": visits,
        "files": [
            summarise_visit(root, split, planet_id, instrument, visit, axis)
            for visit in visits
            for instrument in INSTRUMENTS
        ],
    }


def write_planet_summary(root: str | Path, split: str, planet_id: int, out: str | Path) -> None:
    """Check one planet against the root's axis_info and write its summary as JSON.

    A planet whose files fail the check is not an error of the run: the summary records
    ``ok: false`` and the problem (naming the file), so the workflow excludes that planet
    and carries on with the others.
    """
    try:
        summary = {"ok": True, **summarise_planet(root, split, planet_id, read_axis_info(root))}
    except RawDataError as err:
        log.warning("planet %s/%s fails the raw-data check and is excluded: %s",
                    split, planet_id, err)  # fmt: skip
        summary = {"ok": False, "problem": str(err), "planet_id": int(planet_id),
                   "split": split, "files": []}  # fmt: skip
    write_json_atomic(out, summary)


def write_inventory_table(
    summaries: Iterable[str | Path], out: str | Path, excluded_out: str | Path
) -> None:
    """Flatten planet summaries into one CSV row per planet, visit and instrument, and list
    the planets that failed the check (planet_id, split, problem) in ``excluded_out``."""
    rows, excluded = [], []
    for path in summaries:
        summary = json.loads(Path(path).read_text())
        ids = {"planet_id": summary["planet_id"], "split": summary["split"]}
        if not summary["ok"]:
            excluded.append({**ids, "problem": summary["problem"]})
        for entry in summary["files"]:
            rows.append({**ids, **entry})
    write_csv_atomic(out, pd.DataFrame(rows))
    columns = ["planet_id", "split", "problem"]
    write_csv_atomic(excluded_out, pd.DataFrame(excluded, columns=columns))
