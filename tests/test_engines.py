"""The array engine decides exactly what the one-object-per-agent engine (the executable
specification in :mod:`sim.agents`) decides: identical outputs, bit for bit.

Each case also asserts that its run exercised the rules it is meant to cover, so the equality is
never that of two idle models.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from sim import P2PModel
from sim.config import CustomPlatform, ShockConfig
from tests.helpers import calm_scenario, run_scenario, small_scenario, with_custom


def calm():
    return calm_scenario(run={"days": 30})


def runs():
    sc = run_scenario(platforms={"demand_share": 0.85, "share_ponzi": 0.0, "share_fraud": 0.0},
                      investors={"liquidity_need_per_year": 15.0},
                      borrowers={"loan_size_median": 2e4},  # loans small for the small platforms
                      resolution={"payout_interval_days": 5, "max_days": 12}, run={"days": 40})
    sc.shocks = [ShockConfig(type="liquidity", start=5, duration=10, size=3.0)]
    return sc


def fraud():
    sc = small_scenario(platforms={"share_ponzi": 0.3, "share_fraud": 0.3, "entry_per_year": 40.0,
                                   "funding_window_days": 10},
                        investors={"initial_fill": 0.4, "review_days": 5.0},
                        resolution={"payout_interval_days": 5, "max_days": 10}, run={"days": 40})
    return with_custom(sc, CustomPlatform(name="Pyramid", owner="ponzi", leverage=40.0,
                                          promised_rate=0.16, visibility=3.0))


def rumour():
    sc = calm_scenario(platforms={"demand_share": 0.7}, run={"days": 30})
    sc.shocks = [ShockConfig(type="rumour", platform="P0002", start=8, duration=4, size=1.5)]
    return sc


def crowded():
    """Many slots per investor, few platforms, several lenders per borrower."""
    return small_scenario(platforms={"count": 3}, investors={"count": 200, "max_holdings": 8},
                          borrowers={"count": 60, "max_lenders": 4}, run={"days": 25})


CASES = {"calm": calm, "runs": runs, "fraud": fraud, "rumour": rumour, "crowded": crowded}


def exercised(name: str, model: P2PModel) -> None:
    """What the case must have done for its equality to mean something."""
    ts = model.timeseries()
    events = Counter(model.events_table()["event"])
    assert ts["deposits"].sum() > 0 and ts["payouts"].sum() > 0 and ts["requests"].sum() > 0
    assert ts["credit_supplied"].iloc[1:].sum() > 0
    if name == "runs":
        assert events["distress"] > 0 and events["failure"] > 0 and events["resolved"] > 0
        assert ts["fire_sold"].sum() > 0
    if name == "fraud":
        assert ts["fake_loans"].max() > 0
        assert events["absconded"] > 0 and events["entry"] > 0
    if name == "rumour":
        assert events["shock_start"] == 1


@pytest.fixture(scope="module")
def pairs():
    """Each case run by both engines (once per module: the object engine is slow)."""
    out = {}
    for name, make in CASES.items():
        a = P2PModel(make(), engine="array")
        a.run()
        b = P2PModel(make(), engine="object")
        b.run()
        out[name] = (a, b)
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_case_exercises_the_rules(pairs, name):
    exercised(name, pairs[name][0])


@pytest.mark.parametrize("name", sorted(CASES))
def test_array_and_object_engines_give_identical_tables(pairs, name):
    a, b = pairs[name]
    assert (a.engine.name, b.engine.name) == ("array", "object")
    pd.testing.assert_frame_equal(a.timeseries(), b.timeseries(), check_exact=True)
    pd.testing.assert_frame_equal(a.platform_table(), b.platform_table(), check_exact=True)
    pd.testing.assert_frame_equal(a.platform_daily(), b.platform_daily(), check_exact=True)
    pd.testing.assert_frame_equal(a.events_table(), b.events_table(), check_exact=True)


@pytest.mark.parametrize("name", sorted(CASES))
def test_array_and_object_engines_give_identical_agent_arrays(pairs, name):
    a, b = pairs[name]
    for field, values in a.investors.arrays().items():
        assert np.array_equal(values, getattr(b.investors, field)), f"investors.{field}"
    for field, values in vars(a.platforms).items():
        if isinstance(values, np.ndarray):
            assert np.array_equal(values, getattr(b.platforms, field)), f"platforms.{field}"
    for field, values in vars(a.borrowers).items():
        if isinstance(values, np.ndarray):
            assert np.array_equal(values, getattr(b.borrowers, field)), f"borrowers.{field}"
    n = a.loans.n
    assert n == b.loans.n
    for field in a.loans._fields():
        assert np.array_equal(getattr(a.loans, field)[:n], getattr(b.loans, field)[:n]), field
    assert a.ledger.stolen == b.ledger.stolen
    for category, flows in a.ledger.flows.items():
        assert np.array_equal(flows, b.ledger.flows[category]), category


def test_the_engines_really_differ_in_how_they_decide(monkeypatch):
    """The object engine calls the agents' methods; the array engine never does."""
    from sim.market.agents import Investor

    calls = Counter()
    original = Investor.ticket

    def counted(self, ctx, u):
        calls["ticket"] += 1
        return original(self, ctx, u)

    monkeypatch.setattr(Investor, "ticket", counted)
    P2PModel(calm(), engine="array").run(2)
    assert calls["ticket"] == 0
    P2PModel(calm(), engine="object").run(2)
    assert calls["ticket"] == 2 * calm().investors.count
