"""The TOML writer: hand-made data and a shipped scenario read back unchanged."""

from __future__ import annotations

import tomllib

import pytest

from sim.config import load_scenario, validate_scenario
from sim.outputs import toml_text


def test_plain_keys_come_before_tables_and_none_is_left_out():
    data = {"run": {"days": 30, "seed": None}, "name": "x \"quoted\"", "on": True,
            "shocks": [{"type": "credit", "size": 0.5}, {"type": "rumour", "size": 1}],
            "list": [1, 2.5]}
    text = toml_text.to_toml(data)
    assert text == ('name = "x \\"quoted\\""\non = true\nlist = [1, 2.5]\n\n[run]\ndays = 30\n\n'
                    '[[shocks]]\ntype = "credit"\nsize = 0.5\n\n[[shocks]]\ntype = "rumour"\n'
                    'size = 1\n')
    assert tomllib.loads(text) == {**data, "run": {"days": 30}}


def test_values_toml_cannot_hold_are_refused():
    with pytest.raises(TypeError, match="cannot write"):
        toml_text.to_toml({"when": object()})


def test_scenario_toml_round_trips():
    sc = load_scenario("scenarios/stress_2018.toml")
    assert validate_scenario(tomllib.loads(toml_text.to_toml(sc.model_dump(mode="json")))) == sc
