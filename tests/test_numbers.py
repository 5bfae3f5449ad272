"""Numbers: every numeric field of the scenario is bounded both ways and refuses NaN and inf.

The walk goes over the JSON Schema, so a field added later without bounds fails here.
"""

from __future__ import annotations

import json
import math

import pytest

from sim.config import ScenarioError, json_schema, validate_scenario
from sim.config.dotted import set_dotted

# One entry in each list, so list fields (shocks.0.size, platforms.custom.0.visibility) are reached.
BASE = {"shocks": [{"type": "rumour", "start": 2, "size": 1.0, "sector": 0}],
        "platforms": {"custom": [{"name": "Alpha"}]}}


def numeric_fields() -> dict[str, dict]:
    """Dotted key -> JSON Schema node of every number and integer field (lists at index 0)."""
    schema = json.loads(json_schema())
    defs = schema.get("$defs", {})
    found: dict[str, dict] = {}

    def walk(node: dict, path: str) -> None:
        if "$ref" in node:
            walk(defs[node["$ref"].split("/")[-1]], path)
            return
        for key in ("anyOf", "allOf", "oneOf"):
            for sub in node.get(key, []):
                walk(sub, path)
        if node.get("type") in ("number", "integer"):
            found[path] = node
        if node.get("type") == "array" and "items" in node:
            walk(node["items"], f"{path}.0")
        for name, sub in node.get("properties", {}).items():
            walk(sub, f"{path}.{name}" if path else name)

    walk(schema, "")
    return found


FIELDS = numeric_fields()


def test_the_walk_finds_the_fields():
    assert len(FIELDS) > 100
    assert "investors.choice_sensitivity" in FIELDS and "shocks.0.size" in FIELDS


@pytest.mark.parametrize("key", sorted(FIELDS))
def test_every_number_is_bounded(key):
    node = FIELDS[key]
    assert "minimum" in node or "exclusiveMinimum" in node, f"{key}: no lower bound"
    assert "maximum" in node or "exclusiveMaximum" in node, f"{key}: no upper bound"
    high = node.get("maximum", node.get("exclusiveMaximum"))
    assert math.isfinite(high) and high <= 2**63


@pytest.mark.parametrize("key", sorted(k for k, n in FIELDS.items() if n["type"] == "number"))
@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan, 1e308])
def test_no_float_field_takes_a_non_finite_or_huge_value(key, bad):
    data = json.loads(json.dumps(BASE))
    set_dotted(data, key, bad)
    with pytest.raises(ScenarioError, match=key.replace(".", r"\.")):
        validate_scenario(data)


def test_the_base_used_above_is_valid():
    validate_scenario(json.loads(json.dumps(BASE)))
