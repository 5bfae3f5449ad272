"""Scheduled shocks (sim/shocks.py): each of the seven types fires on its start day, lasts exactly
its duration, is logged, and does to the market what ``ShockConfig`` says it does.

Every model here runs with ``check_invariants=True``: money stays conserved under every shock.
Outcome checks compare a shocked run with the same seed run without the shock; until the shock
fires the two runs are identical, day by day.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from sim import P2PModel
from sim.config import CustomPlatform, ScenarioError, ShockConfig, validate_scenario
from sim.mechanisms.shocks import REGULATORY_WARNING_NEWS
from sim.vocabulary import Status
from tests.helpers import calm_scenario, changed, index_of, with_custom

SEED = 7
START = 8
DAYS = 25
TARGET = "Target"
OPERATING = (Status.ACTIVE, Status.DISTRESSED)


def base_scenario():
    """Honest owners only, no entry, no failure from a backlog alone: only the shock moves it.

    A named platform ``Target`` holds demand products and enough cash to pay once it can; random
    platforms' capital is spread (lognormal) so a capital deadline splits them.
    """
    sc = calm_scenario(
        run={"days": DAYS, "seed": SEED, "check_invariants": True},
        platforms={"demand_share": 0.5, "fail_backlog_share": 1.0, "max_distress_days": 200},
        investors={"liquidity_need_per_year": 6.0},
        borrowers={"count": 300, "sectors": 3, "loan_size_median": 1e4},  # most borrow
    )
    return with_custom(sc, CustomPlatform(name=TARGET, leverage=1.0, demand_share=1.0,
                                          cash_buffer_target=0.5, visibility=1.0))


def scenario(*shocks: ShockConfig, **changes):
    sc = changed(base_scenario(), **changes)
    sc.shocks = list(shocks)
    return sc


# The seven types, with the named/market-wide variants the schema allows.
SHOCKS = {
    "credit_market": ShockConfig(type="credit", start=START, duration=5, size=100.0),
    "credit_sector": ShockConfig(type="credit", start=START, duration=5, size=100.0, sector=1),
    "funding": ShockConfig(type="funding", start=START, duration=5, size=0.15),
    "liquidity": ShockConfig(type="liquidity", start=START, duration=5, size=4.0),
    "fraud_named": ShockConfig(type="fraud", start=START, duration=3, platform=TARGET),
    "fraud_largest": ShockConfig(type="fraud", start=START, duration=3),
    "rumour_named": ShockConfig(type="rumour", start=START, duration=5, size=2.0, platform=TARGET),
    "rumour_market": ShockConfig(type="rumour", start=START, duration=5, size=1.0),
    "deadline": ShockConfig(type="deadline", start=START, duration=8, size=2.8e7),
    "outage": ShockConfig(type="outage", start=START, duration=6, platform=TARGET),
}


@dataclass
class Trace:
    """A model stepped day by day, with what a test needs to see of each day."""

    model: P2PModel
    days: dict = field(default_factory=dict)  # day -> snapshot
    redeemed: defaultdict = field(default_factory=lambda: defaultdict(float))  # (day, p) -> yuan
    defaults: defaultdict = field(default_factory=lambda: defaultdict(int))  # (day, sector) -> n


def snapshot(model: P2PModel) -> dict:
    plats, n = model.platforms, model.platforms.n
    return {
        "news_shock": model.conditions.news[: plats.capacity].copy(),
        "outage": model.conditions.outage[:n].copy(),
        "sector_multiplier": model.conditions.sector_multiplier.copy(),
        "liquidity_multiplier": model.conditions.liquidity_multiplier,
        "outside_rate": model.conditions.outside_rate,
        "status": plats.status[:n].copy(),
        "winding_down": plats.winding_down[:n].copy(),
        "backlog": plats.backlog[:n].copy(),
        "cash": plats.cash[:n].copy(),
        "products": plats.products[:n].copy(),
        "capital": plats.registered_capital[:n].copy(),
        "deposits": model.ledger.flows["deposits"][:n].copy(),
        "payouts": model.ledger.flows["payouts"][:n].copy(),
        "loans_made": model.ledger.flows["loans_made"][:n].copy(),
        "stolen_flow": model.ledger.flows["stolen"][:n].copy(),
        "stolen": model.ledger.stolen,
    }


def traced(sc, days: int = DAYS) -> Trace:
    """Run ``sc`` with invariants checked, recording hooks, redemptions and defaults per day."""
    model = P2PModel(sc, check_invariants=True)
    trace = Trace(model)
    redeemers, borrowers = model.engine.redeemers, model.engine.borrowers

    def record_investors(ctx, cand, u):
        redeem = redeemers(ctx, cand, u)
        inv = model.investors
        where = inv.pos_platform[redeem]
        for p, amount in zip(where, inv.pos_principal[redeem], strict=True):
            trace.redeemed[(model.day, int(p))] += float(amount)
        return redeem

    def record_borrowers(ctx, u_default, u_apply):
        defaulted, applicants = borrowers(ctx, u_default, u_apply)
        for s in model.borrowers.sector[defaulted]:  # before defaulters are redrawn
            trace.defaults[(model.day, int(s))] += 1
        return defaulted, applicants

    model.engine.redeemers = record_investors
    model.engine.borrowers = record_borrowers
    trace.days[0] = snapshot(model)
    for _ in range(days):
        model.step()
        trace.days[model.day] = snapshot(model)
    return trace


_CACHE: dict[str, Trace] = {}


def run(name: str) -> Trace:
    """The traced run of one variant of SHOCKS ('none' = no shock), cached per session."""
    if name not in _CACHE:
        shocks = [] if name == "none" else [SHOCKS[name]]
        _CACHE[name] = traced(scenario(*shocks))
    return _CACHE[name]


def window(shock: ShockConfig) -> range:
    return range(shock.start, shock.start + shock.duration)


def is_calm(snap: dict, base_rate: float, except_: set[str] = frozenset()) -> bool:
    checks = {
        "news_shock": not snap["news_shock"].any(),
        "outage": not snap["outage"].any(),
        "sector_multiplier": bool((snap["sector_multiplier"] == 1.0).all()),
        "liquidity_multiplier": snap["liquidity_multiplier"] == 1.0,
        "outside_rate": snap["outside_rate"] == base_rate,
    }
    return all(ok for hook, ok in checks.items() if hook not in except_)


def noncompliant(trace: Trace, shock: ShockConfig) -> np.ndarray:
    before = trace.days[shock.start - 1]
    operating = np.isin(before["status"], OPERATING)
    return np.flatnonzero(operating & (before["capital"] < shock.size))


def largest(trace: Trace, day: int) -> int:
    """The operating platform with the most claims at the end of ``day``."""
    snap = trace.days[day]
    claims = np.where(np.isin(snap["status"], OPERATING), snap["products"], -1.0)
    return int(np.argmax(claims))


def hook_active(name: str, trace: Trace, day: int) -> bool:
    """Is the shock's hook set as ShockConfig describes, on ``day``, and nothing else?"""
    shock, snap = SHOCKS[name], trace.days[day]
    base = trace.model.config.market.outside_rate
    t = index_of(trace.model, TARGET)
    if shock.type == "credit":
        m = snap["sector_multiplier"]
        hit = np.zeros(len(m), bool)
        hit[slice(None) if shock.sector is None else shock.sector] = True
        return (bool((m[hit] == 1 + shock.size).all() and (m[~hit] == 1.0).all())
                and is_calm(snap, base, {"sector_multiplier"}))
    if shock.type == "funding":
        return (np.isclose(snap["outside_rate"], base + shock.size)
                and is_calm(snap, base, {"outside_rate"}))
    if shock.type == "liquidity":
        return (snap["liquidity_multiplier"] == 1 + shock.size
                and is_calm(snap, base, {"liquidity_multiplier"}))
    if shock.type == "rumour":
        news = snap["news_shock"]
        if shock.platform is None:
            expected = np.full(len(news), shock.size)
        else:
            expected = np.zeros(len(news))
            expected[t] = shock.size
        return bool((news == expected).all()) and is_calm(snap, base, {"news_shock"})
    if shock.type == "outage":
        expected = np.zeros(len(snap["outage"]), bool)
        expected[t] = True
        return bool((snap["outage"] == expected).all()) and is_calm(snap, base, {"outage"})
    if shock.type == "deadline":
        named = noncompliant(trace, shock)
        news = snap["news_shock"]
        return (bool((news[named] == REGULATORY_WARNING_NEWS).all())
                and np.count_nonzero(news) == len(named) and len(named) > 0
                and is_calm(snap, base, {"news_shock"}))
    raise AssertionError(shock.type)


# --------------------------------------------------------------------------- timing and log
CONTINUING = [name for name in SHOCKS if SHOCKS[name].type != "fraud"]


@pytest.mark.parametrize("name", CONTINUING)
def test_hook_is_set_exactly_from_start_to_start_plus_duration_minus_one(name):
    shock, trace = SHOCKS[name], run(name)
    base = trace.model.config.market.outside_rate
    for day in range(0, shock.start):
        assert is_calm(trace.days[day], base), f"{name}: hook set on day {day}, before the start"
    for day in window(shock):
        assert hook_active(name, trace, day), f"{name}: hook not set on day {day}"
    end = shock.start + shock.duration
    for day in range(end, DAYS + 1):
        assert is_calm(trace.days[day], base), f"{name}: hook still set on day {day}"


@pytest.mark.parametrize("name", ["fraud_named", "fraud_largest"])
def test_fraud_fires_once_on_its_start_day(name):
    shock, trace = SHOCKS[name], run(name)
    base = trace.model.config.market.outside_rate
    victim = index_of(trace.model, TARGET) if shock.platform else largest(trace, shock.start - 1)
    statuses = [trace.days[d]["status"][victim] for d in range(DAYS + 1)]
    assert all(s == Status.ACTIVE for s in statuses[: shock.start])
    assert all(s == Status.ABSCONDED for s in statuses[shock.start:])
    assert all(is_calm(trace.days[d], base) for d in range(DAYS + 1)), "fraud sets no hook"
    mine = [f for f in trace.model.failures if f["platform"] == victim]
    assert len(mine) == 1 and mine[0]["day"] == shock.start, "absconds once, on the start day"


@pytest.mark.parametrize("name", list(SHOCKS))
def test_nothing_changes_before_the_start_day(name):
    """Same seed, no shock: identical market up to the day before the shock, different after."""
    shock = SHOCKS[name]
    shocked, calm = run(name).model.timeseries(), run("none").model.timeseries()
    pd.testing.assert_frame_equal(shocked.iloc[: shock.start], calm.iloc[: shock.start])
    assert not shocked.iloc[shock.start:].equals(calm.iloc[shock.start:]), f"{name} did nothing"


@pytest.mark.parametrize("name", list(SHOCKS))
def test_events_log_shock_start_on_start_and_shock_end_on_last_day(name):
    shock, events = SHOCKS[name], run(name).model.events_table()
    starts = events[events["event"] == "shock_start"]
    ends = events[events["event"] == "shock_end"]
    assert list(starts["day"]) == [shock.start]
    assert list(starts["cause"]) == [shock.type]
    assert list(ends["day"]) == [shock.start + shock.duration - 1]
    assert list(ends["cause"]) == [shock.type]


def test_one_day_shock_starts_and_ends_on_the_same_day():
    shock = ShockConfig(type="rumour", start=3, duration=1, size=1.0)
    model = P2PModel(scenario(shock), check_invariants=True)
    model.run(2)
    assert not model.conditions.news.any()
    model.step()
    assert (model.conditions.news == 1.0).all()
    model.step()
    assert not model.conditions.news.any()
    events = model.events_table()
    shock_rows = events[events["event"].str.startswith("shock_")]
    assert list(zip(shock_rows["event"], shock_rows["day"], strict=True)) == [
        ("shock_start", 3), ("shock_end", 3)]


# --------------------------------------------------------------------------- credit
def defaults_by_sector(trace: Trace, days: range, sectors: int) -> np.ndarray:
    out = np.zeros(sectors, dtype=int)
    for (day, sector), count in trace.defaults.items():
        if day in days:
            out[sector] += count
    return out


def test_credit_shock_raises_loan_defaults():
    shock = SHOCKS["credit_market"]
    shocked, calm = run("credit_market").model.timeseries(), run("none").model.timeseries()
    days = list(window(shock))
    assert shocked["loan_defaults"].iloc[days].sum() > 3 * calm["loan_defaults"].iloc[days].sum()
    hit = defaults_by_sector(run("credit_market"), window(shock), 3)
    base = defaults_by_sector(run("none"), window(shock), 3)
    # A market-wide shock reaches every sector; per-sector counts are small (about 30 borrowers
    # with loans each), so the 3x test is on the pool and each sector only must not fall.
    assert hit.sum() > 3 * max(base.sum(), 1), (hit, base)
    assert (hit >= base).all() and (hit > 0).all(), (hit, base)


def test_sector_credit_shock_hits_only_its_sector():
    shock = SHOCKS["credit_sector"]
    hit = defaults_by_sector(run("credit_sector"), window(shock), 3)
    base = defaults_by_sector(run("none"), window(shock), 3)
    assert hit[shock.sector] > 3 * max(base[shock.sector], 1), (hit, base)
    others = [s for s in range(3) if s != shock.sector]
    # Other sectors default at their calm rate (paths differ after the first day, so allow noise).
    assert hit[others].sum() <= base[others].sum() + 3, (hit, base)
    assert hit[others].sum() < hit[shock.sector] / 3
    shocked, calm = run("credit_sector").model.timeseries(), run("none").model.timeseries()
    days = list(window(shock))
    assert shocked["loan_defaults"].iloc[days].sum() > calm["loan_defaults"].iloc[days].sum()


# --------------------------------------------------------------------------- funding
def test_funding_shock_raises_outside_rate_and_lowers_deposits():
    shock = SHOCKS["funding"]
    shocked, calm = run("funding").model.timeseries(), run("none").model.timeseries()
    base = run("none").model.config.market.outside_rate
    days = list(window(shock))
    assert (calm["outside_rate"] == base).all()
    assert np.allclose(shocked["outside_rate"].iloc[days], base + shock.size)
    outside = [d for d in range(DAYS + 1) if d not in days]
    assert (shocked["outside_rate"].iloc[outside] == base).all()
    assert shocked["deposits"].iloc[days].sum() < 0.5 * calm["deposits"].iloc[days].sum()


# --------------------------------------------------------------------------- liquidity
def test_liquidity_shock_raises_requests_and_payouts():
    shock = SHOCKS["liquidity"]
    shocked, calm = run("liquidity").model.timeseries(), run("none").model.timeseries()
    days = list(window(shock))
    assert shocked["requests"].iloc[days].sum() > 2 * calm["requests"].iloc[days].sum()
    assert shocked["payouts"].iloc[days].sum() > calm["payouts"].iloc[days].sum()


# --------------------------------------------------------------------------- fraud
@pytest.mark.parametrize("name", ["fraud_named", "fraud_largest"])
def test_fraud_shock_absconds_with_the_cash(name):
    shock, trace = SHOCKS[name], run(name)
    model = trace.model
    before, on = trace.days[shock.start - 1], trace.days[shock.start]
    victim = index_of(model, TARGET) if shock.platform else largest(trace, shock.start - 1)
    cash = before["cash"][victim]
    assert cash > 0
    assert on["status"][victim] == Status.ABSCONDED
    # All the cash goes at the start of the day; what the estate holds at the end of it is the
    # day's loan collections.
    assert on["stolen_flow"][victim] == pytest.approx(cash)
    assert before["stolen_flow"][victim] == 0.0
    assert on["cash"][victim] < 0.2 * cash
    assert on["stolen"] - before["stolen"] == pytest.approx(cash), "calm market: nothing else stolen"
    others = np.arange(len(on["status"])) != victim
    assert not (on["status"][others] == Status.ABSCONDED).any()
    record = next(f for f in model.failures if f["platform"] == victim)
    assert record["day"] == shock.start
    assert record["channel"] == "shock"
    events = model.events_table()
    row = events[(events["event"] == "absconded") & (events["platform"] == victim)]
    assert list(row["day"]) == [shock.start]


def test_fraud_largest_hits_the_platform_with_most_claims():
    shock = SHOCKS["fraud_largest"]
    trace = run("fraud_largest")
    victim = largest(trace, shock.start - 1)
    target = index_of(trace.model, TARGET)
    assert victim != target, "precondition: the largest is not the named platform"
    assert trace.days[shock.start]["status"][victim] == Status.ABSCONDED
    assert trace.days[shock.start]["status"][target] == Status.ACTIVE
    starts = trace.model.events_table().query("event == 'shock_start'")
    assert list(starts["platform"]) == [victim]


def test_fraud_shock_at_a_platform_already_in_resolution_steals_nothing():
    first = ShockConfig(type="fraud", start=5, platform=TARGET)
    second = ShockConfig(type="fraud", start=12, platform=TARGET)
    sc = scenario(first, second, resolution={"payout_interval_days": 30})
    trace = traced(sc, days=14)
    t = index_of(trace.model, TARGET)
    assert trace.days[11]["status"][t] == Status.ABSCONDED
    assert trace.days[11]["cash"][t] > 0, "precondition: the estate has collected some cash"
    assert trace.days[12]["stolen"] == trace.days[11]["stolen"]
    assert trace.days[12]["cash"][t] >= trace.days[11]["cash"][t]
    assert sum(f["platform"] == t for f in trace.model.failures) == 1


# --------------------------------------------------------------------------- rumour
def redeemed_at(trace: Trace, platform: int, days) -> float:
    return sum(trace.redeemed.get((d, platform), 0.0) for d in days)


def test_named_rumour_raises_redemptions_at_that_platform():
    shock = SHOCKS["rumour_named"]
    shocked, calm = run("rumour_named"), run("none")
    t = index_of(shocked.model, TARGET)
    assert redeemed_at(shocked, t, window(shock)) > 2 * redeemed_at(calm, t, window(shock))
    assert redeemed_at(shocked, t, window(shock)) > 0


def test_market_rumour_raises_redemptions_everywhere():
    shock = SHOCKS["rumour_market"]
    shocked, calm = run("rumour_market"), run("none")
    ts, ts0 = shocked.model.timeseries(), calm.model.timeseries()
    days = list(window(shock))
    assert ts["requests"].iloc[days].sum() > 1.5 * ts0["requests"].iloc[days].sum()
    n = shocked.model.platforms.n
    more = [redeemed_at(shocked, p, days) > redeemed_at(calm, p, days) for p in range(n)]
    assert sum(more) >= n - 1, more


# --------------------------------------------------------------------------- deadline
def test_deadline_closes_undercapitalised_platforms_and_spares_compliant_ones():
    shock = SHOCKS["deadline"]
    trace = run("deadline")
    model = trace.model
    deadline = shock.start + shock.duration - 1
    named = noncompliant(trace, shock)
    compliant = np.setdiff1d(np.arange(model.platforms.n), named)
    assert len(named) >= 2 and len(compliant) >= 2, "precondition: the deadline splits the market"
    events = model.events_table()
    notices = events[events["event"] == "deadline_notice"]
    assert sorted(notices["platform"]) == sorted(named.tolist())
    assert set(notices["day"]) == {shock.start}
    assert set(notices["cause"]) == {"regulatory_closure"}
    before = trace.days[shock.start - 1]
    assert not before["winding_down"][named].any(), "no notice before the start day"
    for day in range(shock.start, deadline + 1):
        snap = trace.days[day]
        # No new money: no deposits, no new loans, from the start day on.
        assert (snap["deposits"][named] == before["deposits"][named]).all()
        assert (snap["loans_made"][named] == before["loans_made"][named]).all()
    for i in named:
        statuses = [trace.days[d]["status"][i] for d in range(deadline + 1)]
        assert Status.CLOSED in statuses, f"platform {i} not closed by the deadline"
        closed_on = statuses.index(Status.CLOSED)
        assert closed_on >= shock.start
        assert all(trace.days[d]["status"][i] == Status.CLOSED for d in range(closed_on, DAYS + 1))
    causes = model.platform_table().set_index("platform")["cause"]
    assert set(causes[named]) == {"regulatory_closure"}
    for f in model.failures:
        if f["platform"] in named:
            assert f["channel"] == "shock" and f["day"] <= deadline
    # Compliant platforms: no notice, still open, still taking deposits during the deadline.
    end = trace.days[deadline]
    assert not end["winding_down"][compliant].any()
    assert not (end["status"][compliant] == Status.CLOSED).any()
    assert (end["deposits"][compliant] > before["deposits"][compliant]).sum() >= len(compliant) - 1
    assert "regulatory_closure" not in set(causes[compliant])


# --------------------------------------------------------------------------- outage
def test_outage_platform_pays_nothing_then_pays_again():
    shock = SHOCKS["outage"]
    trace = run("outage")
    model = trace.model
    t = index_of(model, TARGET)
    k = model.config.platforms.distress_news_days
    end = shock.start + shock.duration
    paid = {d: trace.days[d]["payouts"][t] - trace.days[d - 1]["payouts"][t]
            for d in range(1, DAYS + 1)}
    took = {d: trace.days[d]["deposits"][t] - trace.days[d - 1]["deposits"][t]
            for d in range(1, DAYS + 1)}
    assert paid[shock.start - 1] > 0, "precondition: the target pays on a normal day"
    for day in window(shock):
        assert paid[day] == 0.0 and took[day] == 0.0, f"money moved on outage day {day}"
    backlog = [trace.days[d]["backlog"][t] for d in window(shock)]
    assert backlog[0] > 0 and all(b > a for a, b in zip(backlog, backlog[1:], strict=False))
    events = model.events_table()
    distress = events[(events["event"] == "distress") & (events["platform"] == t)]
    assert list(distress["day"])[:1] == [shock.start + k - 1]
    assert trace.days[shock.start + k - 2]["status"][t] == Status.ACTIVE
    assert paid[end] > 0, "pays again the day after the outage"
    assert trace.days[end]["backlog"][t] < trace.days[end - 1]["backlog"][t]
    assert took[end] >= 0.0
    assert trace.days[DAYS]["status"][t] in OPERATING


# --------------------------------------------------------------------------- bad targets
def test_unknown_platform_name_is_a_scenario_error_naming_the_field():
    sc = scenario(ShockConfig(type="fraud", start=3, platform="Nowhere"))
    with pytest.raises(ScenarioError, match=r"shocks\.platform.*Nowhere"):
        P2PModel(sc, check_invariants=True)


@pytest.mark.parametrize("kind", ["rumour", "outage"])
def test_every_named_shock_checks_its_platform(kind):
    sc = scenario(ShockConfig(type=kind, start=30, platform="P9999"))
    with pytest.raises(ScenarioError, match=r"shocks\.platform"):
        P2PModel(sc, check_invariants=True)


def test_out_of_range_sector_is_a_scenario_error_naming_the_field():
    sc = scenario(ShockConfig(type="credit", start=3, sector=3))  # sectors are 0, 1, 2
    with pytest.raises(ScenarioError, match=r"shocks\.sector.*3"):
        P2PModel(sc, check_invariants=True)


def test_negative_sector_is_rejected_on_validation():
    data = {"shocks": [{"type": "credit", "start": 3, "sector": -1}]}
    with pytest.raises(ScenarioError, match=r"shocks\.0\.sector"):
        validate_scenario(data)


def test_named_and_largest_targets_are_accepted():
    for platform in (TARGET, "largest", "P0000"):
        P2PModel(scenario(ShockConfig(type="outage", start=2, platform=platform)))
