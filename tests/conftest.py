"""Shared fixtures: tiny scenarios that run in well under a second."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim import cli
from sim.config import ShockConfig
from tests.helpers import small_scenario

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"

# A tiny market with a rumour, so runs differ between policies and the report has shocks.
COMPARE_TOML = """
name = "tiny_compare"
description = "A tiny market for the comparison tests."
[run]
days = 60
seed = 41
[platforms]
count = 8
demand_share = 0.6
cash_buffer_target = 0.02
[investors]
count = 300
[borrowers]
count = 60
[[shocks]]
type = "rumour"
start = 20
duration = 5
size = 1.0
"""
# CLI flags that shrink any scenario to a market that runs in a fraction of a second.
TINY_SETS = ["--set", "investors.count=300", "--set", "borrowers.count=80",
             "--set", "platforms.count=6", "--steps", "20"]


@pytest.fixture(scope="session")
def tiny_result():
    """One finished tiny run (with a market-wide rumour, so plots draw a shock), shared."""
    from sim.experiments.runner import run_scenario

    sc = small_scenario(run={"days": 25})
    sc.name = "tiny"
    sc.shocks = [ShockConfig(type="rumour", start=10, duration=3, size=1.0)]
    return run_scenario(sc, seed=11, progress=False)


@pytest.fixture(scope="session")
def scenario_file(tmp_path_factory):
    """:data:`COMPARE_TOML` as a file, for the comparison and policy-set tests."""
    path = tmp_path_factory.mktemp("scenario") / "tiny.toml"
    path.write_text(COMPARE_TOML, encoding="utf-8")
    return path


def run_cli(args, capsys):
    """``p2psim ARGS`` in process: (exit code, stdout, stderr)."""
    code = cli.main(args)
    out = capsys.readouterr()
    return code, out.out, out.err
