"""Shared fixtures: tiny scenarios that run in well under a second."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.config import ShockConfig
from tests.helpers import small_scenario

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"

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
