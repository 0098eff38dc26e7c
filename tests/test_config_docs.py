"""docs/configuration.md is what config/schema.yaml writes (make docs-config), with a row
per key."""

from __future__ import annotations

from pathlib import Path

import yaml

from spectramind.core.config_docs import allowed, default_text, render

REPO = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((REPO / "config/schema.yaml").read_text())


def test_configuration_reference_is_up_to_date():
    written = (REPO / "docs/configuration.md").read_text()
    assert written == render(SCHEMA), "docs/configuration.md is stale: run make docs-config"


def dotted_keys(properties: dict, prefix: str = "") -> list[str]:
    """Every key under ``properties``, nested ones as a.b."""
    keys = []
    for name, prop in properties.items():
        keys += [prefix + name, *dotted_keys(prop.get("properties", {}), f"{prefix}{name}.")]
    return keys


def test_every_key_has_its_row():
    text = render(SCHEMA)
    for name, prop in SCHEMA["properties"].items():
        keys = dotted_keys(prop["properties"]) if "properties" in prop else [name]
        for key in keys:
            assert f"\n| `{key}` | " in text, key
    assert "\n| `max_depth` | number in [0.02, 0.5] | `0.1` | Upper bound of every" in text


def test_types_and_defaults_in_words():
    assert allowed({"type": ["integer", "null"], "minimum": 1}) == "integer >= 1 or null"
    assert allowed({"type": "number", "exclusiveMinimum": 0, "maximum": 48}) == "number in (0, 48]"
    assert allowed({"enum": ["a", "b"]}) == "one of `a`, `b`"
    pair = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
    assert allowed(pair) == "[number, number]"
    assert default_text(None) == "`null`" and default_text([3.0, 5.0]) == "`[3.0, 5.0]`"
    assert default_text({"FGS1": 360}) == "`{FGS1: 360}`"
