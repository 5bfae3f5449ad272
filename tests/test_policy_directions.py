"""Policy directions in the stress scenarios: the levers the literature agrees on lower the
failure hazard (disorderly failures: runs, insolvencies, absconding) on common random numbers.

The README's "Policy directions" table reports the full paired comparison (8 replications, every
stress scenario, ``scenarios/policies/directions.toml``); this test replays the part of it that a
user relies on, in ``panic_run`` (a market-wide scare with heavy cash needs), on four seeds.
"""

from __future__ import annotations

import functools

import pytest

from sim import load_scenario, shipped
from sim.experiments.runner import run_scenario

SEEDS = (11, 12, 13, 14)  # panic_run's own seed and the next three: common random numbers
LEVERS = {
    "none": [],
    "custody": ["policies.custody.enabled=true"],
    "entry_threshold": ["policies.entry_threshold.enabled=true"],
    "risk_reserve": ["policies.risk_reserve.enabled=true"],
    "guarantee_backed": ["policies.protection_fund.enabled=true",
                         "policies.protection_fund.public_backstop=true"],
    # the literate weigh the rumour and failure news less against the disclosed books
    "disclosure": ["policies.disclosure.enabled=true"],
}


@functools.cache
def disorderly_failures(lever: str) -> int:
    """Disorderly failures of panic_run under ``lever``, summed over the seeds."""
    total = 0
    for seed in SEEDS:
        scenario = load_scenario(shipped.resolve("panic_run"),
                                 [f"run.seed={seed}", *LEVERS[lever]])
        total += run_scenario(scenario, progress=False).summary["failures_disorderly"]
    return total


@pytest.mark.slow
@pytest.mark.parametrize("lever", ["custody", "entry_threshold", "risk_reserve",
                                   "guarantee_backed", "disclosure"])
def test_lever_lowers_disorderly_failures_in_a_market_wide_scare(lever):
    baseline = disorderly_failures("none")
    assert baseline >= 6  # the scare does topple platforms without any policy
    assert disorderly_failures(lever) < baseline
