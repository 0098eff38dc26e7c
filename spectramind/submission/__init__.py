"""The Kaggle submission: build, validate and package it (``format``), and its validator
CLI."""

from spectramind.submission.format import (
    SubmissionError,
    build_submission,
    expected_columns,
    submission_problems,
    validate_submission,
    write_submission,
    write_validated_submission,
)

__all__ = [
    "SubmissionError",
    "build_submission",
    "expected_columns",
    "submission_problems",
    "validate_submission",
    "write_submission",
    "write_validated_submission",
]
