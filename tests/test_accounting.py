"""Money is conserved: every yuan is booked, on random scenarios, and the check can fail."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import P2PModel
from sim.accounting import AccountingError
from sim.config import ShockConfig
from tests.conftest import tiny_scenario

scenarios = st.fixed_dictionaries({
    "seed": st.integers(0, 10_000),
    "days": st.integers(5, 40),
    "platforms": st.integers(1, 12),
    "investors": st.integers(20, 500),
    "borrowers": st.integers(5, 150),
    "demand_share": st.floats(0.0, 1.0),
    "buffer": st.floats(0.0, 0.3),
    "ponzi": st.floats(0.0, 0.4),
    "fraud": st.floats(0.0, 0.4),
    "liquidity": st.floats(0.0, 20.0),
    "pd_mean": st.floats(0.01, 0.4),
    "entry": st.floats(0.0, 60.0),
    "slots": st.integers(1, 6),
    "rumour_day": st.integers(1, 30),
})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios)
def test_money_is_conserved_every_day(p):
    config = tiny_scenario(
        platforms={"count": p["platforms"], "demand_share": p["demand_share"],
                   "cash_buffer_target": p["buffer"], "share_ponzi": p["ponzi"],
                   "share_fraud": p["fraud"], "entry_per_year": p["entry"]},
        investors={"count": p["investors"], "liquidity_need_per_year": p["liquidity"],
                   "max_holdings": p["slots"]},
        borrowers={"count": p["borrowers"], "pd_mean": p["pd_mean"]},
        resolution={"payout_interval_days": 7, "max_days": 20},
    )
    config.run.days = p["days"]
    config.shocks = [ShockConfig(type="rumour", start=p["rumour_day"], duration=5, size=2.0)]
    model = P2PModel(config, seed=p["seed"], check_invariants=True)
    model.run()  # Ledger.check runs every day and raises on any gap


@pytest.fixture
def model():
    m = P2PModel(tiny_scenario(), check_invariants=True)
    m.run(5)
    return m


def test_unbooked_cash_is_caught(model):
    model.platforms.cash[0] += 1_000.0
    with pytest.raises(AccountingError, match="platform cash"):
        model.ledger.check(model)


def test_claim_on_one_side_only_is_caught(model):
    held = np.flatnonzero(model.investors.pos_platform >= 0)[0]
    model.investors.pos_principal[held] -= 500.0
    with pytest.raises(AccountingError, match="positions vs product liabilities"):
        model.ledger.check(model)


def test_money_printed_for_investors_is_caught(model):
    model.investors.cash[3] += 50.0
    with pytest.raises(AccountingError, match="investor cash"):
        model.ledger.check(model)
