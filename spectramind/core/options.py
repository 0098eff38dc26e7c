"""Checks shared by the option dataclasses built from config blocks (fit, extraction).

The JSON schema already refuses bad config before a run; these checks give the same clear
message to library users who build options in Python.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any


def check_limits(options: object, limits: dict[str, tuple[float, float]], block: str) -> None:
    """Raise ValueError naming ``block.key`` for a value of the wrong type or outside its
    inclusive limits. A key with integer limits takes only integers."""
    for key, (low, high) in limits.items():
        value = getattr(options, key)
        kind = int if isinstance(low, int) else (int, float)
        if isinstance(value, bool) or not isinstance(value, kind) or not low <= value <= high:
            what = "an integer" if kind is int else "a number"
            raise ValueError(f"{block}.{key} must be {what} in [{low:g}, {high:g}], got {value!r}")


def known_keys(cls: type, block: dict[str, Any], name: str) -> dict[str, Any]:
    """``block`` itself, after checking that every key is a field of the dataclass ``cls``."""
    unknown = set(block) - {f.name for f in fields(cls)}
    if unknown:
        raise ValueError(f"unknown {name} option(s) {sorted(unknown)}")
    return block
