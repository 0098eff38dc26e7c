"""Write files so that a crash never leaves a half-written output under the final name."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd


def temporary_sibling(path: str | Path) -> Path:
    """A hidden name next to ``path`` (same filesystem, so the final rename is atomic)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def write_csv_atomic(path: str | Path, frame: pd.DataFrame) -> None:
    tmp = temporary_sibling(path)
    try:
        frame.to_csv(tmp, index=False)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_parquet_atomic(path: str | Path, frame: pd.DataFrame) -> None:
    tmp = temporary_sibling(path)
    try:
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json_atomic(path: str | Path, data: Any) -> None:
    tmp = temporary_sibling(path)
    try:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
