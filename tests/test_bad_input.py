"""Broken scenario files give one clear message, exit code 2 and no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CASES = {
    "unknown_key": ("[investors]\ncuont = 5\n", ["investors.cuont", "Allowed here", "count"]),
    "wrong_type": ('[investors]\ncount = "many"\n', ["investors.count", "'many'", "integer"]),
    "negative_count": ("[platforms]\ncount = -5\n", ["platforms.count", "-5", "greater than or equal to 0"]),
    "rate_above_one": ("[market]\noutside_rate = 1.5\n", ["market.outside_rate", "1.5", "less than or equal to 1"]),
    "empty_file": ("", ["empty"]),
    "not_toml": ("this is = = not toml [\n", ["not valid TOML"]),
    "unknown_shock_type": ('[[shocks]]\ntype = "meteor"\nstart = 3\nsize = 1\n', ["shocks.0.type", "meteor"]),
}


def p2psim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim.cli", *args], capture_output=True,
                          text=True, timeout=120)


def assert_clean_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ")
    for needle in needles:
        assert needle in proc.stderr, (needle, proc.stderr)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("command", ["validate", "run"])
def test_broken_scenario_file(tmp_path, case, command):
    text, needles = CASES[case]
    path = tmp_path / f"{case}.toml"
    path.write_text(text)
    assert_clean_error(p2psim(command, str(path)), str(path), *needles)


def test_missing_file(tmp_path):
    missing = tmp_path / "nope.toml"
    assert_clean_error(p2psim("run", str(missing)), "no such scenario file")


def test_binary_file(tmp_path):
    path = tmp_path / "picture.toml"
    path.write_bytes(bytes(range(256)) * 4)
    assert_clean_error(p2psim("validate", str(path)))


@pytest.mark.parametrize(("override", "needles"), [
    ("investors.cuont=5", ["investors.cuont"]),
    ("investors.count=lots", ["investors.count", "lots"]),
    ("market.outside_rate=2", ["market.outside_rate"]),
    ("no_equals_sign", ["dotted.key=value"]),
])
def test_bad_set_override(override, needles):
    scenario = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml"
    assert_clean_error(p2psim("validate", str(scenario), "--set", override), *needles)


def test_shock_naming_unknown_platform(tmp_path):
    path = tmp_path / "shock.toml"
    path.write_text('[investors]\ncount = 50\n[borrowers]\ncount = 10\n[platforms]\ncount = 3\n'
                    '[[shocks]]\ntype = "rumour"\nplatform = "Nowhere"\nstart = 2\nsize = 1\n')
    assert_clean_error(p2psim("run", str(path), "--steps", "3", "--out", str(tmp_path / "o")),
                       "Nowhere")
