"""The configuration reference (docs/configuration.md) written from config/schema.yaml, the
one source of every key's default and meaning: one table per block of key, type and
allowed values, default, meaning.

    python -m spectramind.core.config_docs [SCHEMA [OUT]]   (make docs-config)
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

HEADER = """\
# Configuration

<!-- Generated from config/schema.yaml by `make docs-config`; edit the schema, not this. -->

Every key of the workflow configuration, as config/schema.yaml states it: Snakemake checks
the configuration against the schema before a run and gives every key left out the default
below. config/config.yaml sets the main ones; override any with `--config key=value` or an
overlay with `--configfile` (config/*.yaml). A nested key is written with dots:
`calibration.cosmic.FGS1` is `cosmic: {FGS1: ...}` in the `calibration` block.
"""


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def _bounds(prop: dict[str, Any]) -> str:
    """The bounds in words (in [1, 5], > 0, >= 1, ...): minimum, exclusiveMinimum, maximum."""
    low, open_low, high = (prop.get(k) for k in ("minimum", "exclusiveMinimum", "maximum"))
    if high is not None and (low is not None or open_low is not None):
        bracket = "[" if low is not None else "("
        return f" in {bracket}{_number(low if low is not None else open_low)}, {_number(high)}]"
    if low is not None:
        return f" >= {_number(low)}"
    if open_low is not None:
        return f" > {_number(open_low)}"
    return f" <= {_number(high)}" if high is not None else ""


def _array(prop: dict[str, Any]) -> str:
    if "prefixItems" in prop:
        return "[" + ", ".join(allowed(item) for item in prop["prefixItems"]) + "]"
    items = prop.get("items", {})
    size = prop.get("minItems")
    if size is not None and size == prop.get("maxItems"):
        return "[" + ", ".join([allowed(items)] * size) + "]"
    distinct = "distinct " if prop.get("uniqueItems") else ""
    if "enum" in items:
        return f"list of {distinct}values from " + ", ".join(f"`{v}`" for v in items["enum"])
    return f"list of {distinct}{allowed(items)}"


def _string(prop: dict[str, Any]) -> str:
    if "pattern" in prop:
        return f"string matching `{prop['pattern']}`"
    length = prop.get("minLength", 0)
    if length > 1:
        return f"string of at least {length} characters"
    return "non-empty string" if length == 1 else "string"


def allowed(prop: dict[str, Any]) -> str:
    """The type and allowed values of a schema property, in words."""
    if "enum" in prop:
        return "one of " + ", ".join(f"`{v}`" for v in prop["enum"])
    kinds = prop.get("type", [])
    words = []
    for kind in [kinds] if isinstance(kinds, str) else kinds:
        if kind in ("integer", "number"):
            words.append(kind + _bounds(prop))
        elif kind == "string":
            words.append(_string(prop))
        elif kind == "array":
            words.append(_array(prop))
        elif kind == "object" and isinstance(prop.get("additionalProperties"), dict):
            words.append(f"mapping of names to {allowed(prop['additionalProperties'])}")
        else:
            words.append({"object": "mapping"}.get(kind, kind))
    return " or ".join(words)


def default_text(value: object) -> str:
    """A default as YAML writes it (flow style), in backticks."""
    if isinstance(value, bool) or value is None:
        text = {True: "true", False: "false", None: "null"}[value]
    elif isinstance(value, list | dict):
        text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=1_000)
    else:
        text = str(value)
    return f"`{text.strip()}`"


def _cell(text: str) -> str:
    """A table cell: pipes escaped."""
    return text.replace("|", "\\|")


def _prose(text: str) -> str:
    """A description as one line of Markdown: "<" escaped so "aperture<r>" is no HTML tag."""
    return " ".join(text.split()).replace("<", "\\<")


def rows(properties: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, ...]]:
    """(key, allowed, default, meaning) of each property; an object with properties is a
    row without a default followed by a row per sub-key."""
    for name, prop in properties.items():
        key = prefix + name
        nested = "properties" in prop
        default = "" if nested else default_text(prop["default"])
        yield f"`{key}`", allowed(prop), default, _prose(prop["description"])
        if nested:
            yield from rows(prop["properties"], f"{key}.")


def _table(properties: dict[str, Any]) -> list[str]:
    lines = ["| key | type and allowed values | default | meaning |", "|---|---|---|---|"]
    return lines + ["| " + " | ".join(map(_cell, row)) + " |" for row in rows(properties)]


def render(schema: dict[str, Any]) -> str:
    """The Markdown reference of ``schema``: the top-level keys, then one section per block."""
    properties = schema["properties"]
    blocks = {k: p for k, p in properties.items() if "properties" in p}
    top = {k: p for k, p in properties.items() if k not in blocks}
    lines = [HEADER, "## Top-level keys", "", *_table(top)]
    for name, block in blocks.items():
        lines += ["", f"## `{name}`", "", _prose(block["description"]), ""]
        lines += _table(block["properties"])
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    """Write the reference of the schema (default config/schema.yaml) to docs/configuration.md
    (or the given path)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("schema", nargs="?", default="config/schema.yaml", type=Path)
    parser.add_argument("out", nargs="?", default="docs/configuration.md", type=Path)
    args = parser.parse_args(argv)
    text = render(yaml.safe_load(args.schema.read_text()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
