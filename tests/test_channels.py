"""The six contagion channels (MODEL.md, "Contagion channels"; sim/channels.py) carry stress from
a platform hit by a shock to platforms the shock did not touch, and only when switched on.

Every scenario here is a small market of named platforms with honest owners and no entry. The
shock hits platform ``A`` alone (fraud, outage or rumour); every channel but the one under test is
off. Two properties per channel, judged on run outcomes only (platform table, events, per-platform
panel), never on the channel's internal state:

1. Isolation. Same seed, same shock, channel on versus off: with it on, another platform fails;
   with it off, no other platform even becomes distressed.
2. Dose-response. Averaged over a few seeds, failures of the platforms the shock did not hit rise
   with the channel's strength: higher at the top dose than at the bottom one, and not falling
   across the three doses (up to a small tolerance for sampling noise).

Each scenario gives its channel something to work on:

* information: a failure at a promised rate shared by thin-buffer, demand-funded platforms;
* herding: a rumour at a big platform whose holders' network neighbours hold the others;
* shared investors: an outage at A, whose investors also hold thin-buffer B..E;
* common borrowers: few lenders, three loans per borrower, A's failure cuts its borrowers'
  refinancing and the others, lightly capitalised, lose on the same borrowers;
* fire sales: a run at A with heavy forced selling; the others' investors read the discount;
* shared guarantors: one guarantor with little capital covers everyone; A's fraud exhausts it and
  the others lose the cover their investors relied on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

from sim.config import CustomPlatform, Scenario, ShockConfig
from sim.mechanisms.channels import CHANNELS
from sim.model import P2PModel
from sim.vocabulary import Status
from tests.helpers import changed, small_scenario

SHOCKED = "A"
OTHERS = "BCDEFG"


# --------------------------------------------------------------------------- builders
def platform(name: str, **fields) -> CustomPlatform:
    """A named honest platform: thin (claims 18 times capital) and in business model 0."""
    fields.setdefault("leverage", 18.0)
    fields.setdefault("business_model", 0)
    return CustomPlatform(name=name, **fields)


def market(named: list[CustomPlatform], shock: ShockConfig, days: int = 60,
           **sections) -> Scenario:
    """Named platforms only, honest owners, no entry, 1,500 investors, every channel off.

    ``sections`` map a scenario table to field overrides, e.g. ``investors={"literacy_mean": 0.5}``.
    """
    sc = small_scenario(run={"days": days, "check_invariants": False},
                        platforms={"count": 0, "share_ponzi": 0.0, "share_fraud": 0.0,
                                   "entry_per_year": 0.0, "custom": named},
                        investors={"count": 1500}, borrowers={"count": 400})
    sc.name = "channel"
    changed(sc, **sections)
    for name in CHANNELS:
        getattr(sc.channels, name).enabled = False
    sc.shocks = [shock]
    return sc


def information_market() -> Scenario:
    """A absconds; B..E promise the same 12% and fund long loans with demand products."""
    platforms = [platform(SHOCKED, promised_rate=0.12, demand_share=0.8, cash_buffer_target=0.02)]
    platforms += [platform(n, promised_rate=0.12, demand_share=0.8, cash_buffer_target=b)
                  for n, b in zip(OTHERS, (0.02, 0.05, 0.08, 0.12), strict=False)]
    return market(platforms, ShockConfig(type="fraud", start=10, platform=SHOCKED))


def herding_market() -> Scenario:
    """A rumour at A, a big brand (many holders), whose holders' neighbours hold B..E."""
    platforms = [platform(SHOCKED, demand_share=0.8, cash_buffer_target=0.05, visibility=3.0)]
    # Buffers of 5% and more: B..E ride out the money fleeing A and ordinary withdrawals alone,
    # but not a herd.
    platforms += [platform(n, demand_share=0.8, cash_buffer_target=b)
                  for n, b in zip(OTHERS, (0.05, 0.06, 0.08, 0.12), strict=False)]
    return market(platforms, ShockConfig(type="rumour", start=10, duration=10, size=1.0,
                                         platform=SHOCKED))


def shared_investor_market() -> Scenario:
    """A cannot pay for ten days; its investors (most hold several platforms) also hold B..E."""
    platforms = [platform(SHOCKED, demand_share=0.8, cash_buffer_target=0.02, visibility=2.0)]
    platforms += [platform(n, demand_share=0.8, cash_buffer_target=b)
                  for n, b in zip(OTHERS, (0.02, 0.05, 0.08, 0.12), strict=False)]
    return market(platforms, ShockConfig(type="outage", start=10, duration=10, platform=SHOCKED))


def common_borrower_market() -> Scenario:
    """A absconds; four lenders, 100 borrowers with up to three loans each, so A's borrowers owe
    the others too. B..D hold 4-7% capital and churn fast (liquidity needs 6 a year): once their
    losses leave them insolvent they wind down and fail within the run.
    """
    platforms = [platform(SHOCKED, demand_share=0.3, cash_buffer_target=0.05, visibility=2.0)]
    platforms += [platform(n, leverage=lev, demand_share=0.8, cash_buffer_target=0.08)
                  for n, lev in zip(OTHERS, (18.0, 13.5, 11.0), strict=False)]
    sc = market(platforms, ShockConfig(type="fraud", start=10, platform=SHOCKED), days=150,
                platforms={"max_distress_days": 20},
                investors={"liquidity_need_per_year": 6.0},
                borrowers={"count": 100, "max_lenders": 3})
    sc.channels.common_borrowers.decay_days = 365.0
    return sc


def fire_sale_market() -> Scenario:
    """A rumour at A, a big demand-funded platform that may sell 30% of its book a day at a
    steep price impact; investors of middling literacy read the discount at B..E.
    """
    platforms = [platform(SHOCKED, demand_share=0.9, cash_buffer_target=0.02, visibility=3.0)]
    platforms += [platform(n, demand_share=0.8, cash_buffer_target=b)
                  for n, b in zip(OTHERS, (0.04, 0.06, 0.08, 0.1), strict=False)]
    return market(platforms, ShockConfig(type="rumour", start=10, duration=10, size=2.0,
                                         platform=SHOCKED),
                  investors={"literacy_mean": 0.5},
                  market={"daily_sale_limit": 0.3, "fire_sale_impact": 10.0})


def guarantor_market() -> Scenario:
    """A absconds; every platform is guaranteed (80% cover, paid at once) by one guarantor with
    capital of half a percent of their claims, which A's claims exhaust. Investors distrust platforms (prior failure probability 20% a
    year) and hold them because of the cover.
    """
    platforms = [platform(SHOCKED, demand_share=0.5, cash_buffer_target=0.05, visibility=2.0)]
    platforms += [platform(n, demand_share=0.6, cash_buffer_target=0.05) for n in OTHERS]
    sc = market(platforms, ShockConfig(type="fraud", start=10, platform=SHOCKED),
                investors={"prior_failure_prob": 0.2})
    g = sc.channels.shared_guarantors
    g.present = True  # guarantors exist whether or not their failure spreads
    g.guarantors, g.share_guaranteed, g.cover, g.capital = 1, 1.0, 0.8, 0.005
    g.payout_delay_days = 0
    return sc


# --------------------------------------------------------------------------- running
@dataclass(frozen=True)
class Spread:
    """What reached the platforms the shock did not hit."""

    failed: int  # platforms that failed (or absconded)
    distress_events: int  # times one became DISTRESSED (public delays)
    distressed_days: int  # platform-days spent DISTRESSED
    shocked_status: str  # end status of A, to check the shock itself hit alike


def run(sc: Scenario, seed: int, channel: str, enabled: bool, check: bool = False,
        **params) -> P2PModel:
    """Run a copy of ``sc`` with ``channel`` switched as asked and its parameters set."""
    sc = sc.model_copy(deep=True)
    target = getattr(sc.channels, channel)
    target.enabled = enabled
    for key, value in params.items():
        setattr(target, key, value)
    model = P2PModel(sc, seed=seed, check_invariants=check)
    model.run()
    return model


def spread(model: P2PModel) -> Spread:
    """Outcomes at every platform but ``A``, read from the run's output tables."""
    table = model.platform_table()
    others = table[table["name"] != SHOCKED]
    failed = int(others["status"].isin([Status.FAILED.name, Status.ABSCONDED.name]).sum())
    events = model.events_table()
    distress = int(((events["event"] == "distress") & events["name"].isin(others["name"])).sum())
    daily = model.platform_daily()
    daily = daily[daily["platform"].isin(others["platform"])]
    distressed_days = int((daily["status"] == Status.DISTRESSED.name).sum())
    shocked = table.loc[table["name"] == SHOCKED, "status"].item()
    return Spread(failed, distress, distressed_days, shocked)


@dataclass(frozen=True)
class Case:
    channel: str
    build: Callable[[], Scenario]
    on: dict = field(default_factory=dict)  # channel parameters of the isolation run
    seed: int = 0  # isolation seed
    param: str = "strength"  # the dose
    doses: tuple = ()
    seeds: tuple = (0, 1, 2, 3, 4)


CASES = {
    "information": Case("information", information_market, on={"strength": 0.6},
                        doses=(0.05, 0.2, 0.4)),
    "herding": Case("herding", herding_market, on={"strength": 0.5},
                    doses=(0.02, 0.1, 0.3)),
    "shared_investors": Case("shared_investors", shared_investor_market, on={"strength": 0.15},
                             doses=(0.05, 0.1, 0.15)),
    "common_borrowers": Case("common_borrowers", common_borrower_market, on={"strength": 60.0},
                             doses=(10.0, 30.0, 60.0), seeds=(0, 1, 2, 3)),
    "fire_sales": Case("fire_sales", fire_sale_market, on={"signal_weight": 2.0},
                       param="signal_weight", doses=(0.5, 1.0, 2.0)),
    # How concentrated the guarantees are: 4, 2, then 1 guarantor for all platforms.
    "shared_guarantors": Case("shared_guarantors", guarantor_market, param="guarantors",
                              doses=(4, 2, 1)),
}

def isolation_params(case: Case):
    marks = []
    return pytest.param(case, id=case.channel, marks=marks)


# --------------------------------------------------------------------------- 1. isolation
@pytest.mark.parametrize("case", [isolation_params(c) for c in CASES.values()])
def test_channel_carries_the_shock_to_other_platforms_only_when_on(case: Case):
    sc = case.build()
    on = spread(run(sc, case.seed, case.channel, True, check=True, **case.on))
    off = spread(run(sc, case.seed, case.channel, False, check=True))

    # The shock hit A in both runs.
    assert on.shocked_status != Status.ACTIVE.name
    if case.channel != "fire_sales":
        # With fire-sale price impact off, A itself can sell loans cheaply and may survive:
        # the channel also worsens the shocked platform's own sales.
        assert off.shocked_status != Status.ACTIVE.name
    # Channel off: the stress stays at A; not one other platform so much as pays late for days.
    assert off == Spread(0, 0, 0, off.shocked_status), off
    # Channel on: it reaches platforms the shock never touched, and topples at least one.
    assert on.distress_events >= 1, on
    assert on.failed >= 1, on


# --------------------------------------------------------------------------- 2. dose-response
@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_failures_rise_with_channel_strength(case: Case):
    sc = case.build()
    means = []
    for dose in case.doses:
        failures = [spread(run(sc, seed, case.channel, True, **{case.param: dose})).failed
                    for seed in case.seeds]
        means.append(float(np.mean(failures)))
    tolerance = 0.25  # platforms: sampling noise between neighbouring doses
    assert means[-1] > means[0], (case.param, case.doses, means)
    assert all(b >= a - tolerance for a, b in zip(means, means[1:], strict=False)), (
        case.param, case.doses, means)


# --------------------------------------------------------------------------- switch details
def test_fire_sales_off_leaves_debt_transfer_prices_calm():
    sc = fire_sale_market()
    model = run(sc, 0, "fire_sales", False)
    assert model.timeseries()["fire_sold"].sum() > 0  # A did sell loans
    discount = model.timeseries()["transfer_discount"]
    assert np.allclose(discount, sc.market.transfer_discount), discount.max()


def test_fire_sales_on_lowers_debt_transfer_prices():
    sc = fire_sale_market()
    discount = run(sc, 0, "fire_sales", True).timeseries()["transfer_discount"]
    assert discount.max() > sc.market.transfer_discount + 0.1
