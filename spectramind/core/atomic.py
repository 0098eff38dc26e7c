"""Write files so that a crash never leaves a half-written output under the final name."""

from __future__ import annotations

import errno
import glob
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

LOW_SPACE_BYTES = 1 << 20


class OutputError(OSError):
    """An output could not be written; the message starts with its final path and says why."""

    def __init__(self, path: str | Path, code: int, problem: str) -> None:
        self.path = Path(path)
        super().__init__(code, f"{self.path}: could not write it: {problem}")

    def __str__(self) -> str:
        return self.strerror  # the path first, like RawDataError; no "[Errno n]" prefix


def _write_problem(err: Exception, folder: Path) -> tuple[int, str] | None:
    """(errno, reason) of a failed write, or None when the error is not about writing.

    netCDF4/HDF5 report a full disk as a RuntimeError and a read-only one as "permission
    denied", so then the file system of ``folder`` is asked what is wrong.
    """
    if not isinstance(err, OSError | RuntimeError):
        return None
    code = getattr(err, "errno", None)
    if code is None or code <= 0 or code in (errno.EACCES, errno.EPERM):
        try:
            stats = os.statvfs(folder)
        except OSError:
            stats = None
        if stats and stats.f_flag & os.ST_RDONLY:
            return errno.EROFS, f"{os.strerror(errno.EROFS)} (the writer said: {err})"
        free = stats.f_bavail * stats.f_frsize if stats else LOW_SPACE_BYTES
        if free < LOW_SPACE_BYTES:
            return errno.ENOSPC, (
                f"{os.strerror(errno.ENOSPC)} ({free} bytes free; the writer said: {err})"
            )
    if code is None or code <= 0:
        return None
    return code, os.strerror(code)


def _remove_stale_siblings(path: Path) -> None:
    """Remove the temporary siblings of ``path`` (files or folders) that a writer killed
    mid-write (kill -9, out of memory) left behind."""
    for stale in path.parent.glob(f".{glob.escape(path.name)}.tmp-*"):
        if stale.is_dir():
            shutil.rmtree(stale)
        else:
            stale.unlink(missing_ok=True)


@contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """Yield a hidden sibling of ``path`` to write to; it becomes ``path`` only on success.

    The sibling lives on the same filesystem, so the final rename is atomic; temp siblings
    of ``path`` left by a killed writer are removed first. A failed write (full or read-only
    disk, no permission) raises ``OutputError`` naming ``path``.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_siblings(path)
        yield tmp
        os.replace(tmp, path)
    except Exception as err:
        problem = _write_problem(err, path.parent)
        if problem is None:
            raise
        raise OutputError(path, *problem) from err
    finally:
        if tmp.exists():  # unlink(missing_ok=True) fails on a read-only file system
            tmp.unlink()


@contextmanager
def atomic_directory(final: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling folder that replaces ``final`` only if the block succeeds;
    temporary folders of ``final`` left by a killed writer are removed first."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_siblings(final)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    try:
        yield tmp
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def write_csv_atomic(path: str | Path, frame: pd.DataFrame) -> None:
    with atomic_output(path) as tmp:
        frame.to_csv(tmp, index=False)


def write_parquet_atomic(path: str | Path, frame: pd.DataFrame) -> None:
    with atomic_output(path) as tmp:
        frame.to_parquet(tmp, index=False)


def write_json_atomic(path: str | Path, data: Any) -> None:
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
