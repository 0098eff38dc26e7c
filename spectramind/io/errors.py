"""The one exception type the data layer raises for bad raw input, and how messages list
the offending items."""

from collections.abc import Iterable
from pathlib import Path

MAX_LISTED = 5


def few(items: Iterable) -> str:
    """The first MAX_LISTED items, comma-separated, and how many more there are."""
    items = list(items)
    more = f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else ""
    return ", ".join(map(str, items[:MAX_LISTED])) + more


class RawDataError(ValueError):
    """A raw-data file is missing, malformed or inconsistent.

    The message always starts with the offending path so a user can find it at once.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
