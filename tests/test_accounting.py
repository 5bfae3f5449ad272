"""Money is conserved: every yuan is booked, on random scenarios, and the check can fail.

``run.check_invariants = True`` makes :meth:`sim.accounting.Ledger.check` run after day 0 and
after every step; it raises :class:`sim.accounting.AccountingError` on the first gap.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import P2PModel
from sim.config import PoliciesConfig, ShockConfig
from sim.market.ledger import AccountingError
from tests.helpers import calm_scenario, live_real_loans, model_of, set_cash, small_scenario

share = st.floats(0.0, 1.0)

scenarios = st.fixed_dictionaries({
    "seed": st.integers(0, 2**31 - 1),
    "days": st.integers(5, 40),
    "platforms": st.fixed_dictionaries({
        "count": st.integers(1, 10),
        "leverage_median": st.floats(1.0, 60.0),
        "entry_growth_elasticity": st.floats(0.0, 5.0),
        "entry_boom_fraud": st.floats(0.0, 3.0),
        "loan_term_reach_days": st.floats(30.0, 800.0),
        "loan_term_reach_growth": st.floats(0.0, 2.0),
        "demand_share": share,
        "cash_buffer_target": st.floats(0.0, 0.5),
        "share_ponzi": st.floats(0.0, 0.45),
        "share_fraud": st.floats(0.0, 0.45),
        "promised_rate_mean": st.floats(0.06, 0.2),
        "entry_per_year": st.floats(0.0, 60.0),
        "screening_mean": share,
        "fail_backlog_share": st.floats(0.05, 0.5),
        "max_distress_days": st.integers(1, 30),
        "exit_equity_share": st.floats(0.0, 0.5),
        "funding_window_days": st.integers(1, 30),
        "product_terms_days": st.lists(st.integers(1, 120), min_size=1, max_size=3),
    }),
    "investors": st.fixed_dictionaries({
        "count": st.integers(10, 400),
        "max_holdings": st.integers(1, 6),
        "initial_fill": share,
        "liquidity_need_per_year": st.floats(0.0, 30.0),
        "review_days": st.floats(1.0, 40.0),
        "literacy_mean": share,
        "initial_participation": share,
        "adoption_imitation": st.floats(0.0, 3.0),
        "exit_after_loss": share,
    }),
    "borrowers": st.fixed_dictionaries({
        "count": st.integers(1, 120),
        "pd_mean": st.floats(0.0, 0.5),
        "max_lenders": st.integers(1, 4),
        "default_recovery": share,
    }),
    "market": st.fixed_dictionaries({
        "outside_rate": st.floats(0.0, 0.15),
        "daily_sale_limit": st.floats(0.0, 0.2),
        "fire_sale_impact": st.floats(0.0, 20.0),
    }),
    "resolution": st.fixed_dictionaries({
        "collection_rate": share,
        "payout_interval_days": st.integers(1, 10),
        "max_days": st.integers(1, 20),
    }),
    "shock": st.one_of(st.none(), st.builds(
        dict, type=st.sampled_from(["rumour", "liquidity"]), start=st.integers(1, 30),
        duration=st.integers(1, 10), size=st.floats(0.0, 5.0))),
    "policies": st.lists(st.sampled_from(sorted(PoliciesConfig.model_fields)), unique=True,
                         max_size=4),
})

# Policy settings that make a short, small run exercise each policy's flows.
BUSY_POLICIES = {
    "protection_fund": {"payout_delay_days": 2},
    "early_warning": {"review_days": 3, "flag_threshold": 0.0, "fraud_detection": 0.5},
    "redemption_gates": {"days": 3},
    "entry_threshold": {"grace_days": 10},
}


def enable(sc, names) -> None:
    for name in names:
        section = getattr(sc.policies, name)
        section.enabled = True
        for key, value in BUSY_POLICIES.get(name, {}).items():
            setattr(section, key, value)


def build(p: dict):
    sc = small_scenario(**{k: p[k] for k in ("platforms", "investors", "borrowers", "market",
                                             "resolution")})
    sc.run.days = p["days"]
    sc.run.seed = p["seed"]
    sc.shocks = [ShockConfig(**p["shock"])] if p["shock"] else []
    enable(sc, p["policies"])
    return sc


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenarios)
def test_money_is_conserved_every_day_on_random_scenarios(p):
    model = P2PModel(build(p), check_invariants=True)
    model.run()  # Ledger.check runs every day and raises AccountingError on any gap
    assert model.day == p["days"]


def turbulent_scenario():
    """60 days of runs, Ponzi and fraud owners, entry and fast resolution, with a rumour and an
    abscond (the fraud shock, whatever the draws)."""
    sc = small_scenario(
        platforms={"demand_share": 0.7, "cash_buffer_target": 0.02, "share_ponzi": 0.25,
                   "share_fraud": 0.25, "entry_per_year": 40.0, "funding_window_days": 10},
        investors={"liquidity_need_per_year": 8.0}, borrowers={"pd_mean": 0.15},
        resolution={"payout_interval_days": 5, "max_days": 15}, run={"days": 60, "seed": 2})
    sc.shocks = [ShockConfig(type="rumour", start=10, duration=5, size=1.5),
                 ShockConfig(type="fraud", start=20)]
    return sc


def test_money_is_conserved_through_runs_fraud_failures_and_resolution():
    """A turbulent market: every kind of failure, estates paid out and closed."""
    model = model_of(turbulent_scenario(), 60)  # checked every day
    events = Counter(e["event"] for e in model.events)
    causes = Counter(f["cause"] for f in model.failures)
    assert events["resolved"] > 0 and events["entry"] > 0
    assert causes["run"] > 0 and causes["insolvency"] > 0 and causes["absconding"] > 0
    assert model.ledger.total("claims_written_off") > 0
    assert model.investors.loss.sum() == pytest.approx(model.ledger.total("claims_written_off"))


def test_money_is_conserved_with_every_policy_on_in_a_turbulent_market():
    """Levies, payouts, reserve fees and cover, ordered capital and wind-downs all reconcile."""
    sc = turbulent_scenario()
    sc.platforms.leverage_median = 3.0  # platforms that live long enough for loans to default
    sc.shocks.append(ShockConfig(type="credit", start=5, duration=50, size=5.0))
    enable(sc, PoliciesConfig.model_fields)
    sc.policies.custody.share = 0.5
    model = model_of(sc, 60)  # checked every day
    led = model.ledger
    for flow in ("levies", "reserve_fees", "reserve_cover", "reserve_released"):
        assert led.total(flow) > 0, flow
    assert model.summary()["ew_inspections"] > 0


def test_money_is_conserved_through_orderly_exits():
    sc = calm_scenario(platforms={"exit_equity_share": 0.9, "funding_window_days": 5,
                                  "product_terms_days": [10], "demand_share": 0.0,
                                  "cash_buffer_target": 0.7, "leverage_median": 1.0,
                                  "leverage_sigma": 0.0})
    model = model_of(sc, 40)
    assert sum(e["event"] == "exit" for e in model.events) > 0
    assert model.ledger.total("loans_sold_at_exit") > 0
    assert model.ledger.total("equity_withdrawn") > 0


def test_the_object_engine_conserves_money_too():
    sc = small_scenario(platforms={"share_ponzi": 0.3, "share_fraud": 0.3, "demand_share": 0.6},
                        investors={"count": 150, "liquidity_need_per_year": 10.0},
                        borrowers={"count": 40}, run={"days": 25})
    model_of(sc, 25, engine="object")


# --------------------------------------------------------------------------- the check can fail
@pytest.fixture
def model():
    return model_of(small_scenario(platforms={"share_ponzi": 0.5}), 5)


def test_a_consistent_model_passes(model):
    model.ledger.check(model)


def test_a_rounding_sized_gap_is_tolerated(model):
    model.platforms.cash[0] += 1e-6
    model.ledger.check(model)


def _ponzi(model) -> int:
    fake = np.flatnonzero(model.platforms.fake_loans[: model.platforms.n] > 0)
    assert len(fake), "precondition: a Ponzi platform with fake loans"
    return int(fake[0])


INJECTIONS = {
    "unbooked platform cash": (lambda m: m.platforms.cash.__setitem__(
        0, m.platforms.cash[0] + 1_000.0), "platform cash"),
    "dropped position principal": (lambda m: m.investors.pos_principal.__setitem__(
        np.flatnonzero(m.investors.pos_platform >= 0)[0],
        0.0), "positions vs product liabilities"),
    "money printed for an investor": (lambda m: m.investors.cash.__setitem__(
        3, m.investors.cash[3] + 50.0), "investor cash"),
    "loan repaid on one side only": (lambda m: m.loans.principal.__setitem__(
        live_real_loans(m)[0], m.loans.principal[live_real_loans(m)[0]] * 0.5),
        "loans vs loan book"),
    "platform loan book edited": (lambda m: m.platforms.loans.__setitem__(
        1, m.platforms.loans[1] - 10.0), "platform loan book"),
    "fake loan vanished": (lambda m: m.platforms.fake_loans.__setitem__(
        _ponzi(m), 0.0), "platform fake loans"),
    "claims edited": (lambda m: m.platforms.products.__setitem__(
        2, m.platforms.products[2] + 100.0), "platform product liabilities"),
    "money parked in an empty slot": (lambda m: m.investors.pos_principal.__setitem__(
        np.flatnonzero(m.investors.pos_platform < 0)[0], 5.0), "empty positions"),
    "unbooked loss": (lambda m: m.investors.loss.__setitem__(0, 10.0), "investor losses"),
    "stolen cash returned": (lambda m: m.ledger.balances.__setitem__(
        "owners", m.ledger.stolen + 1e4), "account owners"),
    "negative cash, booked": (lambda m: set_cash(m, 0, -500.0), "negative cash"),
}


@pytest.mark.parametrize("name", sorted(INJECTIONS))
def test_an_injected_bug_is_caught(model, name):
    inject, message = INJECTIONS[name]
    inject(model)
    with pytest.raises(AccountingError, match=message):
        model.ledger.check(model)


NON_FINITE = {
    "platform cash": lambda m, v: m.platforms.cash.__setitem__(0, v),
    "investor cash": lambda m, v: m.investors.cash.__setitem__(1, v),
    "position principal": lambda m, v: m.investors.pos_principal.__setitem__(
        np.flatnonzero(m.investors.pos_platform >= 0)[0], v),
    "loan book": lambda m, v: m.loans.principal.__setitem__(live_real_loans(m)[0], v),
    "flow deposits": lambda m, v: m.ledger.flows["deposits"].__setitem__(0, v),
}


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("name", sorted(NON_FINITE))
def test_a_non_finite_stock_or_flow_fails_the_check(model, name, value):
    # A NaN compares false with every tolerance, so a gap test alone would pass it (issue #9).
    NON_FINITE[name](model, value)
    with pytest.raises(AccountingError, match=f"{name} holds a value that is not a finite"):
        model.ledger.check(model)


def test_an_injected_bug_stops_a_checked_run():
    model = model_of(calm_scenario(), 2)
    model.platforms.cash[1] += 1_000.0
    with pytest.raises(AccountingError, match="day 3: platform cash"):
        model.step()


def test_an_unchecked_run_does_not_check():
    model = model_of(calm_scenario(run={"check_invariants": False}), 2)
    model.platforms.cash[1] += 1_000.0
    model.step()
    with pytest.raises(AccountingError):
        model.ledger.check(model)
