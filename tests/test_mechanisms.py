"""Each market mechanism does what its docstring says, on small models stepped a few days.

Where a mechanism needs a particular state (a cash shortfall, a backlog, inflows that dried up),
the test sets it directly in the population arrays and, wherever money moves, books the change
so that ``model.ledger.check`` still holds afterwards.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from sim.config import CustomPlatform
from sim.market import flows as market
from sim.market import lifecycle as platforms
from sim.market import rules
from sim.market.state import NO_PLATFORM
from sim.vocabulary import Owner, Status
from tests.helpers import (
    calm_scenario,
    held_slots,
    index_of,
    live_real_loans,
    model_of,
    set_cash,
    small_scenario,
    with_custom,
)


def busiest_platform(model) -> int:
    """The platform with the most positions (so there are enough requests to order)."""
    counts = np.bincount(model.investors.pos_platform[model.investors.pos_platform >= 0],
                         minlength=model.platforms.n)
    return int(np.argmax(counts))


# --------------------------------------------------------------------------- FCFS payment
class TestFirstComeFirstServed:
    def setup_model(self, sale_limit: float):
        model = model_of(calm_scenario())
        model.config.market.daily_sale_limit = sale_limit
        p = busiest_platform(model)
        slots = held_slots(model, p)
        slots = slots[model.investors.pos_principal[slots] > 0]
        # One position per investor, so each investor's cash shows one payment.
        _, first = np.unique(slots // model.investors.slots, return_index=True)
        slots = slots[np.sort(first)]
        assert len(slots) >= 4
        # Arrival order deliberately differs from slot order: the queue, not the index, decides.
        queue = np.array([slots[3], slots[0], slots[2], slots[1]])
        model.investors.pos_request[queue] = model.day
        model.investors.pos_demand[queue] = False
        model.queue = queue.astype(np.int64)
        return model, p, queue

    def test_older_requests_are_paid_first_and_the_marginal_one_in_part(self):
        model, p, queue = self.setup_model(sale_limit=0.0)  # no fire sale: cash is all there is
        inv = model.investors
        due = inv.pos_principal[queue].copy()
        owners = queue // inv.slots
        cash_before = inv.cash[owners].copy()
        set_cash(model, p, due[0] + due[1] + 0.5 * due[2])

        market.pay_requests(model)

        # The two oldest are paid in full, their slots freed.
        assert inv.cash[owners[0]] - cash_before[0] == pytest.approx(due[0])
        assert inv.cash[owners[1]] - cash_before[1] == pytest.approx(due[1])
        assert np.all(inv.pos_platform[queue[:2]] == NO_PLATFORM)
        # The marginal one gets half and waits for the rest; the newest gets nothing yet.
        assert inv.pos_principal[queue[2]] == pytest.approx(0.5 * due[2])
        assert inv.pos_principal[queue[3]] == pytest.approx(due[3])
        assert np.all(inv.pos_platform[queue[2:]] == p)
        assert inv.pos_delayed[queue[2:]].all()
        assert not inv.pos_delayed[queue[:2]].any()
        # The waiting requests keep their arrival order, and form the platform's backlog.
        assert list(model.queue) == list(queue[2:])
        assert model.platforms.backlog[p] == pytest.approx(0.5 * due[2] + due[3])
        assert model.platforms.cash[p] == pytest.approx(0.0, abs=1e-6)
        model.ledger.check(model)

    def test_a_late_payment_marks_the_owners_other_positions_at_that_platform(self):
        model, p, queue = self.setup_model(sale_limit=0.0)
        inv = model.investors
        k = inv.slots
        waiting = queue[-1]
        owner = waiting // k
        sibling = next((s for s in range(owner * k, owner * k + k) if s != waiting), None)
        assert sibling is not None
        inv.pos_platform[sibling] = p  # a second position at the same platform
        inv.pos_principal[sibling] = 0.0
        set_cash(model, p, 0.0)
        market.pay_requests(model)
        assert inv.pos_delayed[waiting] and inv.pos_delayed[sibling]
        assert model.platforms.delay_seen[p]

    def test_a_platform_short_of_cash_sells_loans_first_and_pays_from_the_proceeds(self):
        model, p, queue = self.setup_model(sale_limit=0.02)
        inv = model.investors
        due = inv.pos_principal[queue].sum()
        loans_before = model.platforms.loans[p]
        set_cash(model, p, 0.0)
        market.pay_requests(model)
        sold = loans_before - model.platforms.loans[p]
        assert sold > 0
        proceeds = sold * (1 - model.transfer_market.discount)
        paid = due - inv.pos_principal[queue][inv.pos_platform[queue] == p].sum()
        assert paid == pytest.approx(min(due, proceeds))
        model.ledger.check(model)


# --------------------------------------------------------------------------- fire sales
def test_fire_sale_sells_at_most_the_daily_limit_at_the_discount_and_books_the_loss():
    model = model_of(calm_scenario())
    model.config.market.daily_sale_limit = 0.05
    model.transfer_market.discount = 0.2
    plats = model.platforms
    loans, cash = plats.loans[: plats.n].copy(), plats.cash[: plats.n].copy()
    rows0 = live_real_loans(model, 0)
    principal0 = model.loans.principal[rows0].copy()
    shortfall = np.zeros(plats.n)
    shortfall[0] = 1e12  # far beyond what the limit allows
    shortfall[1] = 1_000.0  # small: sells just enough to raise it
    market.fire_sale(model, shortfall)

    assert loans[0] - plats.loans[0] == pytest.approx(0.05 * loans[0])
    assert plats.cash[0] - cash[0] == pytest.approx(0.8 * 0.05 * loans[0])
    assert model.loans.principal[rows0] == pytest.approx(0.95 * principal0)  # pro rata
    assert loans[1] - plats.loans[1] == pytest.approx(1_000.0 / 0.8)
    assert plats.cash[1] - cash[1] == pytest.approx(1_000.0)
    assert np.array_equal(plats.loans[2: plats.n], loans[2:])
    sold = 0.05 * loans[0] + 1_000.0 / 0.8
    assert model.flows_today["fire_sold"] == pytest.approx(sold)
    assert model.flows_today["fire_sale_loss"] == pytest.approx(0.2 * sold)
    assert model.ledger.total("fire_sold_principal") == pytest.approx(sold)
    model.ledger.check(model)


def test_transfer_discount_rises_with_yesterdays_sales_up_to_the_ceiling():
    model = model_of(calm_scenario())
    m = model.config.market
    model.transfer_market.live_loans_yesterday = 1e6
    model.transfer_market.sold_yesterday = 0.0
    assert market.transfer_discount(model) == pytest.approx(m.transfer_discount)
    model.transfer_market.sold_yesterday = 1e4  # 1% of the live book
    assert market.transfer_discount(model) == pytest.approx(m.transfer_discount
                                                            + m.fire_sale_impact * 0.01)
    model.transfer_market.sold_yesterday = 2e4
    assert market.transfer_discount(model) > m.transfer_discount + m.fire_sale_impact * 0.01
    model.transfer_market.sold_yesterday = 1e6
    assert market.transfer_discount(model) == pytest.approx(m.max_discount)
    model.conditions.fire_sale_impact = False  # the channel switched off: calm discount whatever is sold
    assert market.transfer_discount(model) == pytest.approx(m.transfer_discount)


def test_the_days_discount_is_set_from_the_previous_days_sales():
    model = model_of(calm_scenario(), 2)
    model.transfer_market.sold_yesterday = 0.02 * model.transfer_market.live_loans_yesterday
    model.step()
    expected = model.config.market.transfer_discount + model.config.market.fire_sale_impact * 0.02
    assert model.timeseries()["transfer_discount"].iloc[-1] == pytest.approx(expected)


# --------------------------------------------------------------------------- status path
class TestStatusPath:
    def test_backlog_makes_distress_public_after_distress_news_days(self):
        model = model_of(calm_scenario())
        plats = model.platforms
        days = model.config.platforms.distress_news_days
        for _ in range(days - 1):
            plats.backlog[0] = 1.0
            platforms.update_status(model)
            assert plats.status[0] == Status.ACTIVE
        plats.backlog[0] = 1.0
        platforms.update_status(model)
        assert plats.status[0] == Status.DISTRESSED
        assert [e["platform"] for e in model.events if e["event"] == "distress"] == [0]
        assert np.all(plats.status[1: plats.n] == Status.ACTIVE)

    def test_distress_clears_when_the_backlog_is_paid(self):
        model = model_of(calm_scenario())
        plats = model.platforms
        for _ in range(model.config.platforms.distress_news_days):
            plats.backlog[0] = 1.0
            platforms.update_status(model)
        plats.backlog[0] = 0.0
        platforms.update_status(model)
        assert plats.status[0] == Status.ACTIVE
        assert model.events[-1]["event"] == "recovered"

    def test_a_solvent_platform_failing_on_its_backlog_fails_by_run(self):
        model = model_of(calm_scenario(), 2)
        plats = model.platforms
        for _ in range(model.config.platforms.distress_news_days):
            plats.backlog[0] = 1.0
            platforms.update_status(model)
        assert plats.true_equity()[0] >= 0  # precondition: solvent
        plats.backlog[0] = 0.5 * plats.products[0]  # above fail_backlog_share = 0.25
        platforms.update_status(model)
        assert plats.status[0] == Status.FAILED
        assert len(model.failures) == 1
        assert {k: model.failures[0][k] for k in ("day", "platform", "cause")} == {
            "day": model.day, "platform": 0, "cause": "run"}
        failure = model.events[-1]
        assert failure["event"] == "failure" and failure["cause"] == "run"
        assert failure["equity"] >= 0

    def test_an_insolvent_platform_fails_by_insolvency(self):
        model = model_of(calm_scenario(), 2)
        plats = model.platforms
        # Its borrowers all default: 65% of the book is lost, far more than the capital.
        market.default_loans(model, np.unique(model.loans.borrower[live_real_loans(model, 1)]))
        assert plats.true_equity()[1] < 0  # precondition: insolvent
        for _ in range(model.config.platforms.distress_news_days):
            plats.backlog[1] = 1.0
            platforms.update_status(model)
        plats.backlog[1] = 0.5 * plats.products[1]
        platforms.update_status(model)
        assert plats.status[1] == Status.FAILED
        assert model.failures[-1]["cause"] == "insolvency"
        model.ledger.check(model)

    def test_distress_lasting_beyond_max_distress_days_fails(self):
        model = model_of(calm_scenario())
        model.config.platforms.max_distress_days = 2
        plats = model.platforms
        news = model.config.platforms.distress_news_days
        # Public on call ``news``; failing once distress has lasted more than 2 days.
        for day in range(news + 2):
            plats.backlog[0] = 1.0  # small: never above fail_backlog_share
            platforms.update_status(model)
            expected = (Status.ACTIVE if day < news - 1 else Status.DISTRESSED if day < news + 1
                        else Status.FAILED)
            assert plats.status[0] == expected, day

    def test_in_a_run_prone_market_distress_precedes_every_failure(self):
        sc = small_scenario(platforms={"demand_share": 0.9, "cash_buffer_target": 0.0,
                                       "share_ponzi": 0.0, "share_fraud": 0.0,
                                       "entry_per_year": 0.0},
                            investors={"liquidity_need_per_year": 20.0}, run={"days": 60})
        model = model_of(sc, 60)
        events = model.events_table()
        failed = events[events["event"] == "failure"]
        assert len(failed) > 0, "the scenario should produce runs"
        news = model.config.platforms.distress_news_days
        panel = model.platform_daily()
        for _, f in failed.iterrows():
            distress = events[(events["event"] == "distress") & (events["platform"] == f["platform"])]
            assert len(distress), "a platform is distressed before it fails"
            first = distress.iloc[0]
            assert first["day"] <= f["day"]  # a huge backlog can fail it the day it goes public
            assert json.loads(first["details"])["backlog"] > 0
            # ... after a backlog on each of the distress_news_days - 1 days before.
            before = panel[(panel["platform"] == f["platform"])
                           & panel["day"].between(first["day"] - news + 1, first["day"] - 1)]
            assert len(before) == news - 1 and (before["backlog"] > 0).all()


# --------------------------------------------------------------------------- fraud owners
def fraud_market():
    """One fraudulent and one honest named platform; nobody absconds until a test allows it."""
    sc = calm_scenario(platforms={"funding_window_days": 5, "abscond_min_cash": 1.0})
    return with_custom(sc, CustomPlatform(name="Shady", owner="fraud", leverage=3.0),
                       CustomPlatform(name="Plain", owner="honest", leverage=3.0))


def test_a_fraudulent_owner_absconds_with_the_cash_when_inflows_dry_up():
    model = model_of(fraud_market(), 8)
    model.config.platforms.abscond_min_cash = 1e-3
    plats = model.platforms
    shady, plain = index_of(model, "Shady"), index_of(model, "Plain")
    assert plats.owner[shady] == Owner.FRAUD and plats.status[shady] == Status.ACTIVE
    for i in (shady, plain):
        set_cash(model, i, 0.05 * plats.loans[i])
        assert plats.cash[i] > model.config.platforms.abscond_min_cash * plats.products[i]
        plats.deposits_window[i] = 0.01 * plats.products[i]  # healthy inflows
        plats.payouts_window[i] = 0.0
    platforms.abscond(model)
    assert plats.status[shady] == Status.ACTIVE, "a healthy franchise is worth keeping"

    stolen_before = model.ledger.stolen
    for i in (shady, plain):
        plats.deposits_window[i] = 0.0  # inflows dry up while investors withdraw
        plats.payouts_window[i] = 0.01 * plats.products[i]
    take = float(plats.cash[shady])
    platforms.abscond(model)
    assert plats.status[shady] == Status.ABSCONDED
    assert plats.cash[shady] == 0.0
    assert model.ledger.stolen - stolen_before == pytest.approx(take)
    assert plats.status[plain] == Status.ACTIVE, "an honest owner never absconds"
    event = model.events[-1]
    assert (event["event"], event["platform"], event["cause"]) == ("absconded", shady,
                                                                   "absconding")
    assert event["stolen"] == pytest.approx(take)
    assert model.failures[-1]["cause"] == "absconding"
    model.ledger.check(model)
    model.step()  # and the run carries on with the estate in resolution
    assert plats.in_resolution[shady]


def test_a_new_fraudulent_platform_waits_out_the_funding_window():
    model = model_of(fraud_market(), 2)
    model.config.platforms.abscond_min_cash = 1e-3
    plats = model.platforms
    shady = index_of(model, "Shady")
    set_cash(model, shady, 1e6)
    plats.deposits_window[shady] = 0.0
    plats.payouts_window[shady] = 1e5
    platforms.abscond(model)
    assert plats.status[shady] == Status.ACTIVE


# --------------------------------------------------------------------------- Ponzi owners
def ponzi_market():
    """A growing market (investors still filling their targets) with one Ponzi platform."""
    sc = calm_scenario(investors={"initial_fill": 0.3, "review_days": 5.0})
    return with_custom(sc, CustomPlatform(name="Pyramid", owner="ponzi",
                                                       leverage=40.0, visibility=3.0,
                                                       promised_rate=0.16))


def test_a_ponzi_owner_diverts_cash_into_fake_loans_that_grow():
    model = model_of(ponzi_market())
    plats = model.platforms
    i = index_of(model, "Pyramid")
    fake = [plats.fake_loans[i]]
    for _ in range(15):
        model.step()
        fake.append(plats.fake_loans[i])
    assert fake[0] > 0 and fake[-1] > fake[0]
    assert np.all(np.diff(fake) >= 0)
    honest = plats.owner[: plats.n] == Owner.HONEST
    assert np.all(plats.fake_loans[: plats.n][honest] == 0)
    assert model.ledger.stolen >= plats.fake_loans[: plats.n].sum()
    assert plats.equity()[i] - plats.true_equity()[i] == pytest.approx(plats.fake_loans[i])
    rows = model.loans.live()
    rows = rows[(model.loans.platform[rows] == i) & model.loans.fake[rows]]
    assert model.loans.principal[rows].sum() == pytest.approx(plats.fake_loans[i])


def test_lending_moves_ponzi_fake_share_of_lendable_cash_out_of_the_platform():
    model = model_of(ponzi_market(), 2)
    plats = model.platforms
    i = index_of(model, "Pyramid")
    lendable = 1e5
    set_cash(model, i, plats.buffer_target[i] * plats.products[i] + lendable)
    cash, fake, stolen = plats.cash[i], plats.fake_loans[i], model.ledger.stolen
    market.lend(model, np.array([], dtype=np.int64))
    share = model.config.platforms.ponzi_fake_share
    assert cash - plats.cash[i] == pytest.approx(share * lendable)
    assert plats.fake_loans[i] - fake == pytest.approx(share * lendable)
    assert model.ledger.stolen - stolen == pytest.approx(share * lendable)
    model.ledger.check(model)


def test_a_failed_ponzi_is_insolvent_and_its_fake_loans_are_written_off():
    model = model_of(ponzi_market(), 10)
    plats = model.platforms
    i = index_of(model, "Pyramid")
    assert plats.equity()[i] > plats.true_equity()[i]
    assert plats.true_equity()[i] < 0, "precondition: the fake loans hide a hole"
    fake = plats.fake_loans[i]
    for _ in range(model.config.platforms.distress_news_days):
        plats.backlog[i] = 1.0
        platforms.update_status(model)
    plats.backlog[i] = plats.products[i]
    platforms.update_status(model)
    assert plats.status[i] == Status.FAILED
    assert (model.failures[-1]["platform"], model.failures[-1]["cause"]) == (i, "insolvency")
    assert plats.fake_loans[i] == 0.0
    assert model.ledger.flows["fake_writeoff"][i] == pytest.approx(fake)
    rows = model.loans.live()
    assert not np.any((model.loans.platform[rows] == i) & model.loans.fake[rows])
    model.ledger.check(model)


# --------------------------------------------------------------------------- resolution
def test_resolution_pays_estates_pro_rata_and_writes_off_the_rest_as_investor_loss():
    sc = calm_scenario(resolution={"payout_interval_days": 5, "max_days": 12})
    model = model_of(sc, 3)
    inv = model.investors
    p = busiest_platform(model)
    loss_before = inv.loss.copy()
    platforms.start_resolution(model, p, Status.FAILED, "run")
    slots = held_slots(model, p)
    claims = inv.pos_principal[slots].copy()  # accrued interest is capitalised at failure
    assert claims.sum() == pytest.approx(model.platforms.products[p])
    assert np.all(model.investors.pos_request[slots] == -1)

    model.run(5)  # first payout day
    ratio = inv.pos_principal[slots] / claims
    assert np.all((ratio > 0) & (ratio < 1))
    assert ratio == pytest.approx(np.full(len(slots), ratio[0]), rel=1e-9), "pro rata"

    model.run(7)  # max_days reached: the estate closes
    assert not model.platforms.in_resolution[p]
    assert np.all(inv.pos_platform[slots] == NO_PLATFORM)
    assert model.platforms.products[p] == pytest.approx(0.0, abs=1e-6)
    owners = slots // inv.slots
    holders = np.unique(owners)
    lost = inv.loss[holders] - loss_before[holders]
    recovery = 1 - lost / np.bincount(owners, weights=claims)[holders]
    assert np.all((recovery >= 0) & (recovery <= 1))
    assert 0 < recovery[0] < 1
    assert recovery == pytest.approx(np.full(len(holders), recovery[0]), rel=1e-9)
    others = np.setdiff1d(np.arange(inv.count), holders)
    assert np.array_equal(inv.loss[others], loss_before[others]), "only its investors lose"
    resolved = [e for e in model.events if e["event"] == "resolved"]
    assert [e["platform"] for e in resolved] == [p]
    assert resolved[0]["investor_loss"] == pytest.approx(
        (model.investors.loss - loss_before).sum())


# --------------------------------------------------------------------------- pricing
def test_pricing_moves_the_rate_part_way_to_its_target_by_hand():
    """target = w * peers + (1 - w) * (outside + premium + k * perceived loss) + f * drain."""
    model = model_of(calm_scenario(platforms={"rate_step": 0.01}))
    cfg = model.config.platforms
    plats = model.platforms
    n = plats.n
    plats.rate[:4] = [0.10, 0.10, 0.10, cfg.rate_max]
    plats.deposits_window[:n] = 0.0
    plats.payouts_window[:n] = 0.0
    plats.payouts_window[0, 0] = 0.10 * plats.products[0]  # draining: 10% of claims left
    plats.deposits_window[1, 0] = 0.10 * plats.products[1]  # flush with inflows
    plats.payouts_window[3, 0] = 0.10 * plats.products[3]  # draining, already at the cap
    rate = plats.rate[:n].copy()
    claims = plats.products[:n]
    peers = np.average(rate, weights=np.where(plats.open_mask(), claims, 0.0))
    own = (model.conditions.outside_rate + cfg.rate_premium
           + cfg.rate_risk_weight * platforms.perceived_loss(model))
    drain = np.array([0.10, -0.10, 0.0, 0.10])
    target = (cfg.rate_peer_weight * peers + (1 - cfg.rate_peer_weight) * own[:4]
              + cfg.rate_funding_weight * drain)
    speed = 1 - 0.5 ** (1 / cfg.rate_adjust_days)
    platforms.update_pricing(model)
    expected = np.clip(rate[:4] + np.clip(speed * (target - rate[:4]), -0.01, 0.01),
                       cfg.rate_min, cfg.rate_max)
    assert plats.rate[:4] == pytest.approx(expected)
    # Funding pressure: the draining platform bids above the one with no flows, the flush one
    # below.
    assert plats.rate[0] > plats.rate[2] > plats.rate[1]


def test_a_platform_losing_funding_day_after_day_keeps_raising_its_rate():
    """A heavy drain (half its claims over the window) pushes the rate up by the daily cap."""
    model = model_of(calm_scenario())
    plats = model.platforms
    start = plats.rate[0]
    for _ in range(10):
        plats.payouts_window[0] = 0.5 / plats.window_days * plats.products[0]
        plats.deposits_window[0] = 0.0
        platforms.update_pricing(model)
    assert plats.rate[0] == pytest.approx(start + 10 * model.config.platforms.rate_step)


# --------------------------------------------------------------------------- entry
def test_owner_type_probabilities_by_hand():
    probs = platforms.owner_type_probs(np.array([4e6, 1e6, 1e3]), 0.05, 0.03, 4e6, 0.5)
    assert probs[0] == pytest.approx([0.92, 0.05, 0.03])
    assert probs[1] == pytest.approx([0.84, 0.10, 0.06])  # a quarter of the capital: x2
    assert probs[2, 1:].sum() == pytest.approx(0.9)  # capped
    assert probs[2, 1] / probs[2, 2] == pytest.approx(0.05 / 0.03)
    assert probs.sum(axis=1) == pytest.approx(np.ones(3))


def test_entry_adds_platforms_over_time():
    sc = calm_scenario(platforms={"entry_per_year": 365 * 0.5})
    model = model_of(sc, 30)
    plats = model.platforms
    entrants = np.arange(sc.platforms.count, plats.n)
    assert len(entrants) >= 5  # about 15 expected
    events = [e for e in model.events if e["event"] == "entry"]
    assert [e["platform"] for e in events] == list(entrants)
    assert np.all(plats.entry_day[entrants] == [e["day"] for e in events])
    assert np.all(plats.entry_day[entrants] > 0)
    assert np.all(plats.status[entrants] == Status.ACTIVE)
    assert model.platform_table()["capital"].iloc[entrants].sum() == pytest.approx(
        model.ledger.flows["capital_in"][entrants].sum())


def test_low_capital_platforms_are_more_often_fraud_prone():
    """Owner types are drawn from registered capital (the same code for day 0 and entrants)."""
    sc = small_scenario(platforms={"count": 600, "leverage_sigma": 1.5,
                                   "share_ponzi": 0.05, "share_fraud": 0.05},
                        investors={"count": 3000}, borrowers={"count": 100})
    model = model_of(sc, 0)
    plats = model.platforms
    created = np.arange(plats.n)
    capital = plats.registered_capital[created]
    prone = plats.owner[created] != Owner.HONEST
    low = capital < np.median(capital)
    assert prone[low].mean() > 2 * prone[~low].mean()


# --------------------------------------------------------------------------- screening
def funded_book(screening: float, seed: int):
    sc = calm_scenario(platforms={"screening_mean": screening},
                       borrowers={"count": 400, "pd_mean": 0.2, "pd_concentration": 3.0,
                                  "misreport_share": 0.7, "misreport_strength": 0.8},
                       run={"seed": seed, "days": 60})
    model = model_of(sc)
    rows = live_real_loans(model)
    funded_pd = np.average(model.borrowers.true_pd[model.loans.borrower[rows]],
                           weights=model.loans.principal[rows])
    model.run(60)
    ts = model.timeseries()
    return funded_pd, ts["loan_defaults"].sum(), ts["loans_outstanding"].mean()


def test_better_screening_lowers_realised_defaults_of_funded_borrowers():
    lax = [funded_book(0.1, seed) for seed in range(6)]
    strict = [funded_book(0.9, seed) for seed in range(6)]
    for (pd_lax, *_), (pd_strict, *_) in zip(lax, strict, strict=True):
        assert pd_strict < pd_lax
    rate_lax = sum(r[1] for r in lax) / sum(r[2] for r in lax)
    rate_strict = sum(r[1] for r in strict) / sum(r[2] for r in strict)
    assert rate_lax > 0
    assert rate_strict < 0.5 * rate_lax


# --------------------------------------------------------------------------- multi-homing
def test_borrowers_hold_loans_at_several_platforms_up_to_max_lenders():
    for max_lenders in (1, 3):
        model = model_of(calm_scenario(borrowers={"max_lenders": max_lenders}), 10)
        rows = live_real_loans(model)
        borrower, platform = model.loans.borrower[rows], model.loans.platform[rows]
        per_borrower = np.bincount(borrower, minlength=model.borrowers.count)
        assert np.array_equal(per_borrower, model.borrowers.n_loans)
        assert per_borrower.max() <= max_lenders
        lenders = {b: len(set(platform[borrower == b])) for b in np.unique(borrower)}
        multi = sum(n >= 2 for n in lenders.values())
        assert (multi > 0) == (max_lenders > 1)


def test_most_investors_hold_two_or_more_platforms():
    model = model_of(small_scenario(), 10)
    inv = model.investors
    held = inv.pos_platform.reshape(-1, inv.slots)
    distinct = np.array([len(np.unique(row[row >= 0])) for row in held])
    holders = distinct > 0
    assert holders.mean() > 0.9
    assert (distinct[holders] >= 2).mean() > 0.5


# --------------------------------------------------------------------------- interest
def test_interest_accrues_simply_and_is_capitalised_into_the_claim():
    model = model_of(calm_scenario(), 3)
    inv = model.investors
    slot = held_slots(model, 0)[0]
    principal, rate = inv.pos_principal[slot], inv.pos_rate[slot]
    inv.pos_start[slot] = model.day - 73
    products = model.platforms.products[0]
    market.capitalise_interest(model, np.array([slot]))
    interest = principal * rate * 73 / 365
    assert inv.pos_principal[slot] == pytest.approx(principal + interest)
    assert inv.pos_start[slot] == model.day
    assert model.platforms.products[0] == pytest.approx(products + interest)



def test_a_riskier_looking_platform_prices_its_risk():
    """Bad news at one platform raises what investors expect to lose there, and its rate."""
    model = model_of(calm_scenario(platforms={"rate_step": 0.01}))
    plats = model.platforms
    plats.rate[:2] = 0.10
    plats.deposits_window[:2] = plats.payouts_window[:2] = 0.0
    model.conditions.news[0] = 1.0  # as strong as public distress
    before = platforms.perceived_loss(model)
    assert before[0] > before[1]
    platforms.update_pricing(model)
    assert plats.rate[0] > plats.rate[1]


# --------------------------------------------------------------------------- borrowers' money
def scheduled(model, rows):
    book = model.loans
    principal = book.principal[rows]
    repay = np.minimum(book.instalment[rows], principal)
    last = (book.maturity[rows] <= model.day) | (principal - repay <= 1e-6)
    repay = np.where(last, principal, repay)
    return repay.sum(), (principal * book.rate[rows] / 365).sum()


def test_repayments_are_collected_in_full_and_at_the_collection_rate_after_failure():
    model = model_of(calm_scenario(), 3)
    plats = model.platforms
    platforms.start_resolution(model, 0, Status.FAILED, "run")
    model.day += 1  # collect the next day's instalments
    due = {i: scheduled(model, live_real_loans(model, i)) for i in (0, 1)}
    cash = plats.cash[:2].copy()
    loans = plats.loans[:2].copy()
    written_off = model.ledger.flows["collection_writeoff"][0]
    market.collect_repayments(model)
    rate = model.config.resolution.collection_rate
    principal0, interest0 = due[0]
    principal1, interest1 = due[1]
    assert plats.cash[1] - cash[1] == pytest.approx(principal1 + interest1)
    assert plats.cash[0] - cash[0] == pytest.approx(rate * (principal0 + interest0))
    assert loans[0] - plats.loans[0] == pytest.approx(principal0)
    assert model.ledger.flows["collection_writeoff"][0] - written_off == pytest.approx(
        (1 - rate) * principal0)
    model.day -= 1
    model.ledger.check(model)


def test_running_costs_by_hand_and_never_beyond_cash():
    model = model_of(calm_scenario(), 2)
    cfg = model.config.platforms
    plats = model.platforms
    set_cash(model, 1, 1.0)  # almost nothing left
    cash, loans = plats.cash[:2].copy(), plats.loans[:2].copy()
    market.operating_costs(model)
    assert cash[0] - plats.cash[0] == pytest.approx(
        (cfg.operating_cost * loans[0] + cfg.fixed_cost * plats.capital[0]) / 365)
    assert plats.cash[1] == 0.0
    model.ledger.check(model)


def test_a_default_writes_down_the_borrowers_loans_at_every_lender():
    model = model_of(calm_scenario(), 2)
    book, plats = model.loans, model.platforms
    rows = live_real_loans(model)
    lenders = {b: set(book.platform[rows][book.borrower[rows] == b])
               for b in np.unique(book.borrower[rows])}
    borrower = next(b for b, ls in lenders.items() if len(ls) >= 2)
    mine = rows[book.borrower[rows] == borrower]
    owed = {int(p): book.principal[mine][book.platform[mine] == p].sum() for p in lenders[borrower]}
    cash = plats.cash[: plats.n].copy()
    loans = plats.loans[: plats.n].copy()
    market.default_loans(model, np.array([borrower]))
    assert not book.active[mine].any()
    assert model.borrowers.n_loans[borrower] == 0
    recovery = model.config.borrowers.default_recovery
    for p, amount in owed.items():
        assert loans[p] - plats.loans[p] == pytest.approx(amount)
        assert plats.cash[p] - cash[p] == pytest.approx(recovery * amount)
    model.ledger.check(model)


def test_honest_platforms_fund_only_applicants_within_their_credit_standard():
    sc = calm_scenario(borrowers={"count": 300, "pd_mean": 0.15, "misreport_share": 0.5})
    model = model_of(sc, 15)
    book, bor, plats = model.loans, model.borrowers, model.platforms
    rows = live_real_loans(model)
    b, p = book.borrower[rows], book.platform[rows]
    # A live borrower's attributes are those it applied with; its lender's screening is fixed.
    pd_seen = rules.screened_pd(bor.true_pd[b], bor.reported_pd[b], plats.screening[p])
    assert len(rows) > 20
    assert np.all(pd_seen <= model.config.platforms.credit_standard + 1e-12)
    assert bor.true_pd.max() > model.config.platforms.credit_standard, "some were refused"


def test_investors_receive_new_savings_at_savings_rate():
    model = model_of(calm_scenario(investors={"savings_rate": 0.365}))
    daily = 0.365 / 365 * model.investors.initial_wealth.sum()
    model.step()
    assert model.ledger.savings == pytest.approx(daily)
    model.run(9)
    assert model.ledger.savings == pytest.approx(10 * daily)
    none = model_of(calm_scenario(investors={"savings_rate": 0.0}), 5)
    assert none.ledger.savings == 0.0
