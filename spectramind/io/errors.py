"""The one exception type the data layer raises for bad raw input."""

from pathlib import Path


class RawDataError(ValueError):
    """A raw-data file is missing, malformed or inconsistent.

    The message always starts with the offending path so a user can find it at once.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
