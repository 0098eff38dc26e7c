"""Build, validate and package a Kaggle submission (planet_id, wl_1..wl_283, sigma_1..sigma_283).

The validator reports every problem at once, each naming the column or planet to fix.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from spectramind.core.atomic import atomic_output
from spectramind.io.errors import few
from spectramind.io.exact_csv import read_csv
from spectramind.io.tables import sigma_columns, target_columns

ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can hold


class SubmissionError(ValueError):
    """The submission would be rejected; ``problems`` lists every reason."""

    def __init__(self, path: str | Path, problems: list[str]) -> None:
        self.problems = problems
        listed = "\n  - ".join(problems)
        super().__init__(f"{path}: {len(problems)} problem(s):\n  - {listed}")


def expected_columns() -> list[str]:
    return ["planet_id", *target_columns(), *sigma_columns()]


def submission_problems(
    frame: pd.DataFrame, columns: list[str], test_ids: Iterable[int] | None = None
) -> list[str]:
    """Every reason ``frame`` would be rejected (empty when it is valid); planet ids are
    checked against ``test_ids`` when given."""
    problems = []
    if list(frame.columns) != columns:
        missing = [c for c in columns if c not in frame.columns]
        extra = [c for c in frame.columns if c not in columns]
        if missing:
            problems.append(f"missing columns: {few(missing)}")
        if extra:
            problems.append(f"unexpected columns: {few(extra)}")
        if not missing and not extra:
            pairs = zip(frame.columns, columns, strict=False)  # duplicates make lengths differ
            first = next(i for i, (a, b) in enumerate(pairs) if a != b)
            problems.append(
                f"columns out of order from position {first}: found {frame.columns[first]!r},"
                f" expected {columns[first]!r} (use the sample_submission.csv order)"
            )
        return problems
    ids = pd.to_numeric(frame["planet_id"], errors="coerce")
    if ids.isna().any() or (ids != ids.round()).any():
        problems.append("planet_id has values that are not whole numbers")
        return problems
    ids = ids.astype(np.int64)
    duplicated = ids[ids.duplicated()].unique()
    if len(duplicated):
        problems.append(f"duplicate planet_id rows: {few(duplicated)}")
    if test_ids is not None:
        wanted = {int(i) for i in test_ids}
        if set(ids) - wanted:
            problems.append(f"planet_id not in the test set: {few(sorted(set(ids) - wanted))}")
        if wanted - set(ids):
            problems.append(f"test planets without a row: {few(sorted(wanted - set(ids)))}")
    values = frame[columns[1:]].apply(pd.to_numeric, errors="coerce")
    for kind, names in (("mean", target_columns()), ("sigma", sigma_columns())):
        block = values[names]
        bad = block.columns[~np.isfinite(block.to_numpy()).all(axis=0)]
        if len(bad):
            rows = ids[~np.isfinite(block.to_numpy()).all(axis=1)]
            problems.append(
                f"non-numeric, NaN or infinite {kind} values in columns {few(bad)}"
                f" (planets {few(rows)})"
            )
        negative = block.columns[(block.to_numpy() < 0).any(axis=0)]
        if len(negative):
            rows = ids[(block.to_numpy() < 0).any(axis=1)]
            problems.append(
                f"negative {kind} values in columns {few(negative)} (planets {few(rows)});"
                " Kaggle rejects any negative mu or sigma"
            )
    return problems


def validate_submission(
    path: str | Path, columns: list[str] | None = None, test_ids: Iterable[int] | None = None
) -> pd.DataFrame:
    """Read and validate a submission CSV; raise ``SubmissionError`` listing every problem."""
    path = Path(path)
    if not path.is_file():
        raise SubmissionError(path, ["file not found"])
    try:
        frame = read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise SubmissionError(path, [f"not a readable CSV file: {err}"]) from err
    problems = submission_problems(frame, columns or expected_columns(), test_ids)
    if problems:
        raise SubmissionError(path, problems)
    return frame


def read_submission(path: str | Path) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Planet ids, means and sigmas (planets, 283) of a submission CSV, validated first."""
    frame = validate_submission(path)
    ids = frame["planet_id"].astype(np.int64).tolist()
    return ids, frame[target_columns()].to_numpy(), frame[sigma_columns()].to_numpy()


def build_submission(
    planet_ids: list[int], mu: np.ndarray, sigma: np.ndarray, columns: list[str]
) -> pd.DataFrame:
    """Submission rows (one per planet) in the column order of ``columns``."""
    table = pd.DataFrame(
        np.hstack([np.asarray(mu), np.asarray(sigma)]),
        columns=[*target_columns(), *sigma_columns()],
    )
    table.insert(0, "planet_id", np.asarray(planet_ids, dtype=np.int64))
    return table[columns]


def write_submission(frame: pd.DataFrame, csv_path: str | Path, zip_path: str | Path) -> None:
    """Write submission.csv and submission.zip (holding it), each atomically. The zip entry
    carries a fixed date, so the same predictions always give the same bytes."""
    with atomic_output(csv_path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.10g")
    entry = zipfile.ZipInfo("submission.csv", date_time=ZIP_DATE)
    entry.external_attr = 0o100644 << 16  # a regular file, rw-r--r--
    with atomic_output(zip_path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(entry, Path(csv_path).read_bytes(), zipfile.ZIP_DEFLATED)


def write_validated_submission(
    planet_ids: list[int],
    mu: np.ndarray,
    sigma: np.ndarray,
    columns: list[str],
    test_ids: Iterable[int],
    csv_path: str | Path,
    zip_path: str | Path,
) -> pd.DataFrame:
    """Build, validate (before anything is written), write and re-validate a submission."""
    test_ids = list(test_ids)
    frame = build_submission(planet_ids, mu, sigma, columns)
    problems = submission_problems(frame, columns, test_ids)
    if problems:
        raise SubmissionError(csv_path, problems)
    write_submission(frame, csv_path, zip_path)
    return validate_submission(csv_path, columns, test_ids)
