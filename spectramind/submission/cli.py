"""``spectramind-validate-submission``: check any submission CSV from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from spectramind.submission.format import SubmissionError, validate_submission


def main(argv: list[str] | None = None) -> int:
    """``spectramind-validate-submission``: exit 0 if valid, 1 with every problem listed."""
    parser = argparse.ArgumentParser(description="Validate an ADC 2025 submission CSV.")
    parser.add_argument("submission", type=Path)
    parser.add_argument("--sample", type=Path, help="sample_submission.csv (column order)")
    parser.add_argument("--test-ids", type=Path, help="test_star_info.csv (planet ids)")
    args = parser.parse_args(argv)
    columns = list(pd.read_csv(args.sample, nrows=0).columns) if args.sample else None
    ids = None
    if args.test_ids:
        ids = pd.read_csv(args.test_ids)["planet_id"].astype(float).astype(np.int64).tolist()
    try:
        frame = validate_submission(args.submission, columns, ids)
    except SubmissionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"{args.submission}: valid, {len(frame)} planets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
