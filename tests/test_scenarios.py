"""The shipped scenarios load, run with money conserved, and show what they claim to show."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim import P2PModel, load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.stem)
def test_every_scenario_validates_and_runs_a_month_with_money_conserved(path):
    config = load_scenario(path, ["investors.count=2000", "borrowers.count=400", "run.days=30"])
    model = P2PModel(config, check_invariants=True)
    model.run()
    assert model.day == 30
    assert model.timeseries()["investor_claims"].iloc[-1] > 0


def test_liquidity_run_fails_a_solvent_platform_and_records_a_run():
    config = load_scenario(SCENARIOS / "liquidity_run.toml", ["run.days=130"])
    model = P2PModel(config, check_invariants=True)
    model.run()
    events = model.events_table()
    failures = events[events["event"] == "failure"]
    assert list(failures["name"]) == ["Huijin"], "only the rumoured platform fails"
    failure = failures.iloc[0]
    assert failure["cause"] == "run"
    assert json.loads(failure["details"])["equity"] > 0, "it was solvent when it failed"
    shock_day = config.shocks[0].start
    assert shock_day <= failure["day"] <= shock_day + 15, "the run follows the rumour"


def test_liquidity_run_without_the_rumour_has_no_failure():
    config = load_scenario(SCENARIOS / "liquidity_run.toml", ["run.days=130"])
    config.shocks = []
    model = P2PModel(config)
    model.run()
    assert model.summary()["failures"] == 0


def test_baseline_is_calm_for_two_months():
    config = load_scenario(SCENARIOS / "baseline.toml",
                           ["investors.count=10000", "borrowers.count=2000", "platforms.count=10",
                            "run.days=60"])  # the baseline at a tenth of its size
    model = P2PModel(config, check_invariants=True)
    model.run()
    summary = model.summary()
    assert summary["failures_run"] == 0
    ts = model.timeseries()
    assert ts["unpaid_backlog"].max() < 0.01 * ts["investor_claims"].max()
    assert ts["credit_supplied"].iloc[1:].mean() > 0


@pytest.mark.slow
def test_fraud_at_the_largest_platform_spreads_by_information_and_not_without_it():
    config = load_scenario(SCENARIOS / "fraud_largest.toml", ["run.days=200"])
    model = P2PModel(config)
    model.run()
    s = model.summary()
    assert s["failures_absconding"] == 1 and s["failures_direct"] == 1
    assert s["failures_via_information"] >= 1, "the news topples platforms the shock missed"
    config.shocks = []
    calm = P2PModel(config)
    calm.run()
    assert calm.summary()["failures"] == 0
