"""What the option dataclasses built from config blocks share (calibration, extraction, fit).

The JSON schema already refuses bad config before a run; these checks give the same clear
message to library users who build options in Python.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any, ClassVar, Self


def check_limits(options: object, limits: dict[str, tuple[float, float]], block: str) -> None:
    """Raise ValueError naming ``block.key`` for a value of the wrong type or outside its
    inclusive limits. A key with integer limits takes only integers."""
    for key, (low, high) in limits.items():
        value = getattr(options, key)
        kind = int if isinstance(low, int) else (int, float)
        if isinstance(value, bool) or not isinstance(value, kind) or not low <= value <= high:
            what = "an integer" if kind is int else "a number"
            raise ValueError(f"{block}.{key} must be {what} in [{low:g}, {high:g}], got {value!r}")


class ConfigBlock:
    """``from_config`` / ``as_dict`` for a frozen dataclass read from the config block named
    ``BLOCK``: an unknown key is a clear error naming the block, not a TypeError."""

    BLOCK: ClassVar[str]

    @classmethod
    def from_config(cls, block: dict[str, Any] | None) -> Self:
        block = block or {}
        unknown = set(block) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown {cls.BLOCK} option(s) {sorted(unknown)}")
        return cls(**block)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
