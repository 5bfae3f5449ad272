"""Shared fixtures: tiny scenarios that run in well under a second."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.config import Scenario, ShockConfig

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"

# CLI flags that shrink any scenario to a market that runs in a fraction of a second.
TINY_SETS = ["--set", "investors.count=300", "--set", "borrowers.count=80",
             "--set", "platforms.count=6", "--steps", "20"]


def tiny_scenario(**sections) -> Scenario:
    """A small market: 8 platforms, 400 investors, 100 borrowers, 40 days, invariants on."""
    sc = Scenario()
    sc.run.days = 40
    sc.run.check_invariants = True
    sc.platforms.count = 8
    sc.investors.count = 400
    sc.borrowers.count = 100
    # 50 investors per platform instead of the default's ~1,000: scale balance sheets alike.
    sc.platforms.capital_median = 1.5e5
    sc.platforms.fixed_cost = 1.5e3
    sc.platforms.abscond_min_cash = 1e4
    for section, values in sections.items():
        for key, value in values.items():
            setattr(getattr(sc, section), key, value)
    return sc


@pytest.fixture
def tiny():
    return tiny_scenario


@pytest.fixture(scope="session")
def tiny_result():
    """One finished tiny run (with a market-wide rumour, so plots draw a shock), shared."""
    from sim.experiments.runner import run_scenario

    sc = tiny_scenario(run={"days": 25})
    sc.name = "tiny"
    sc.shocks = [ShockConfig(type="rumour", start=10, duration=3, size=1.0)]
    return run_scenario(sc, seed=11, progress=False)
