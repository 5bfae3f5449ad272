"""The day's decisions of investors and borrowers: their inputs, their random draws, and booking.

:func:`step_context` gathers what every rule reads today (signals, news, cover, rates, the
day's conditions). :func:`borrower_phase` and :func:`investor_phase` draw the day's uniforms
from the model's generator once, in a fixed order, and hand them to the engine (the array forms
of :mod:`sim.market.engine` or the Mesa agents of :mod:`sim.market.agents`), so both engines see
the same numbers and decide the same. :func:`apply_investor_decisions` books the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.market import flows
from sim.market.arraytools import sum_by
from sim.market.engine import bucketed_searchsorted
from sim.market.rules import StepContext
from sim.vocabulary import Status

if TYPE_CHECKING:
    from sim.model import P2PModel

MIN_TICKET = 100.0  # yuan: the smallest position platforms accepted
SIGNAL_PERSISTENCE_DAYS = 30.0  # autocorrelation time of investors' signal noise, days


@dataclass
class InvestorDecisions:
    """What investors decided today, before it is booked.

    Attributes:
        redeem: demand positions redeemed early.
        maturing: term positions maturing today.
        maturing_held: their position records as read today (array engine), else ``None``.
        roll: whether each maturing position is rolled over.
        choosers: investors opening a position.
        amounts: yuan each puts in.
        choice: the platform each chose, -1 for the outside option.
        u_demand: draws that decide whether a new position is a demand product.
        u_term: draws that pick a new term product's term.
        panicked: positions redeemed early from a platform under bad news.
    """

    redeem: np.ndarray
    maturing: np.ndarray
    maturing_held: np.ndarray | None
    roll: np.ndarray
    choosers: np.ndarray
    amounts: np.ndarray
    choice: np.ndarray
    u_demand: np.ndarray
    u_term: np.ndarray
    panicked: np.ndarray


# ----------------------------------------------------------------------------- inputs of rules
def market_rate(model: P2PModel) -> float:
    """Mean promised rate of open platforms (the going rate entrants price against)."""
    plats = model.platforms
    if plats.n == 0:
        return model.config.platforms.promised_rate_mean
    open_ = plats.open_mask()
    if not open_.any():
        return model.config.platforms.promised_rate_mean
    return float(plats.rate[: plats.n][open_].mean())


def true_risk(model: P2PModel, fake_visibility: float = 1.0) -> np.ndarray:
    """Each platform's annual expected loss on claims: fake loans plus credit losses.

    ``(fake_visibility * fake_loans + sum(loan * pd * (1 - recovery))) / products``, capped
    at 1. With ``fake_visibility = 1`` it is what a fully informed investor would expect to
    lose in a year; investors' signal sees only the visible share of a Ponzi book's fake
    loans (``investors.fake_loan_visibility``, raised by disclosure).
    """
    plats, book = model.platforms, model.loans
    n = plats.n
    # A pass over the whole block of rows (see LoanBook.repaying): masked rows add zero.
    rows = slice(0, book.n)
    weighted = book.principal[rows] * book.pd[rows]  # = true_pd[borrower] (see LoanBook.pd)
    weighted[~book.repaying()] = 0.0
    expected = sum_by(book.platform[rows], weighted, n)
    expected *= 1.0 - model.config.borrowers.default_recovery
    return np.minimum((fake_visibility * plats.fake_loans[:n] + expected)
                      / np.maximum(plats.products[:n], 1.0), 1.0)


def update_signals(model: P2PModel) -> None:
    """Persistent (AR(1)) noise in investors' signal of true risk; disclosure scales it.

    ``noise = rho * noise + sqrt(1 - rho^2) * sd * N(0, 1)`` with ``rho = exp(-1 / 30 days)``.
    """
    plats = model.platforms
    n = plats.n
    rho = np.exp(-1.0 / SIGNAL_PERSISTENCE_DAYS)
    shock = model.rng.standard_normal(n)
    plats.signal_noise[:n] = (rho * plats.signal_noise[:n]
                              + np.sqrt(1 - rho**2) * model.conditions.signal_noise * shock)


def step_context(model: P2PModel) -> StepContext:
    """What every investor and borrower rule reads today."""
    ic = model.config.investors
    plats, cond = model.platforms, model.conditions
    n = plats.n
    # Noise is not clipped at zero: clipping would bias every signal upward, most for the
    # safest platforms, so that less noise (disclosure) would make every platform look
    # safer at once. The perceived probability is clipped instead.
    signal = np.minimum(true_risk(model, cond.fake_loan_visibility) + plats.signal_noise[:n]
                        + cond.price_signal[:n], 1.0)
    news = ((plats.status[:n] == Status.DISTRESSED).astype(float) + cond.news[:n]
            + cond.information_news[:n])
    coverage = np.minimum(cond.coverage[:n] + cond.guarantee_cover[:n], 1.0)
    return StepContext(
        day=model.day, signal=signal, news=news, rate=plats.rate[:n].copy(),
        coverage=coverage, operating=plats.operating_mask(), open=plats.open_mask(),
        redeemable=plats.operating_mask() & (plats.gate_until[:n] <= model.day),
        sector_multiplier=cond.sector_multiplier, prior=ic.prior_failure_prob,
        news_weight=ic.news_weight, delay_fear=ic.delay_fear,
        liquidity_need=ic.liquidity_need_per_year * cond.liquidity_multiplier,
        appetite=1.0 / cond.liquidity_multiplier,
        panic_max=ic.panic_redemption, panic_threshold=ic.panic_threshold,
        loss_given_failure=ic.loss_given_failure, outside_rate=cond.outside_rate,
        sensitivity=ic.choice_sensitivity, review_days=ic.review_days, min_ticket=MIN_TICKET,
        max_lenders=cond.max_lenders, apply_per_year=model.config.borrowers.apply_per_year)


def consideration_sets(model: P2PModel, u: np.ndarray) -> np.ndarray | None:
    """Platforms each chooser compares, drawn with replacement in proportion to visibility.

    ``u`` holds one uniform per chooser and slot of the set; ``None`` if no platform is open.
    """
    plats = model.platforms
    weight = np.where(plats.open_mask(), plats.visibility[: plats.n], 0.0)
    total = weight.sum()
    if total <= 0:
        return None
    cum = np.cumsum(weight)
    return np.minimum(bucketed_searchsorted(cum, u * total, total), plats.n - 1)


# ----------------------------------------------------------------------------- the phases
def borrower_phase(model: P2PModel, ctx: StepContext) -> tuple[np.ndarray, np.ndarray]:
    """Which borrowers default today and which apply for a loan (defaulters do not apply)."""
    b = model.borrowers
    u_default = model.rng.random(b.count)
    u_apply = model.rng.random(b.count)
    defaulted, applying = model.engine.borrowers(ctx, u_default, u_apply)
    # Both are sorted and distinct: drop the few defaulted applicants by binary search
    # (the same as np.setdiff1d, without its pass over the applicants per defaulter).
    at = np.searchsorted(applying, defaulted)
    inside = at < len(applying)
    at = at[inside][applying[at[inside]] == defaulted[inside]]
    return defaulted, np.delete(applying, at)


def investor_phase(model: P2PModel, ctx: StepContext) -> InvestorDecisions:
    """Draw the day's uniforms once, in a fixed order, and let the engine apply the rules.

    Order of draws: early redemption (one per candidate), roll-over (one per maturing
    position), review (one per investor), consideration sets, choice, demand or term, term.
    """
    inv, rng, engine = model.investors, model.rng, model.engine
    cand = engine.redemption_candidates(ctx)
    redeem = engine.redeemers(ctx, cand, rng.random(len(cand.demand)))
    roll = engine.rollovers(ctx, cand, rng.random(len(cand.maturing)))
    choosers, amounts = engine.tickets(ctx, rng.random(inv.count))
    m = len(choosers)
    considered = consideration_sets(model, rng.random((m, model.config.investors.consideration_set)))
    u_choice, u_demand, u_term = rng.random(m), rng.random(m), rng.random(m)
    if considered is None:
        choice = np.full(m, -1)
    else:
        choice = engine.choices(ctx, choosers, considered, u_choice)
    panicked = redeem[ctx.news[inv.pos_platform[redeem]] > 0]
    return InvestorDecisions(redeem, cand.maturing, cand.held, roll, choosers, amounts, choice,
                             u_demand, u_term, panicked)


def apply_investor_decisions(model: P2PModel, d: InvestorDecisions) -> None:
    """Book the day's investor decisions: interest, roll-overs, requests, new positions.

    Requests join the payment queue in random order; a rolled-over position gets today's
    promised rate and a new term from the product menu.
    """
    inv, rng = model.investors, model.rng
    menu = model.conditions.product_terms
    held = None
    if d.maturing_held is not None:  # records read today: only the redeemed are read here
        held = np.concatenate([np.take(inv.positions, d.redeem), d.maturing_held])
    touched = np.concatenate([d.redeem, d.maturing])
    principal, platform = flows.capitalise_interest(model, touched, held)
    rolled = d.maturing[d.roll]
    if len(rolled):
        terms = menu[rng.integers(0, len(menu), len(rolled))]
        where = (inv.pos_platform[rolled] if d.maturing_held is None
                 else d.maturing_held["platform"][d.roll])
        inv.pos_rate[rolled] = model.platforms.rate[where]
        inv.pos_maturity[rolled] = model.day + terms
        model.position_index.add(rolled, inv.pos_maturity[rolled],
                                 np.zeros(len(rolled), dtype=bool))
    # Requests in random order. Permuting their indices draws the same numbers as
    # permuting the positions, and the amounts and platforms come along without reading
    # the scattered positions again.
    asked = np.flatnonzero(np.concatenate([np.ones(len(d.redeem), dtype=bool), ~d.roll]))
    order = asked[rng.permutation(len(asked))]
    requests, amount, where = touched[order], principal[order], platform[order]
    inv.pos_request[requests] = model.day
    # A requested position is no longer a candidate for early redemption; clearing the flag
    # lets the daily candidate scan read one array instead of two.
    inv.pos_demand[requests] = False
    model.queue = np.concatenate([model.queue, requests])
    model.flows_today["requests"] += float(amount.sum())
    model.requests_today[:] = 0.0
    n = model.platforms.n
    model.requests_today[:n] = sum_by(where, amount, n)
    chosen = d.choice >= 0
    where = d.choice[chosen]
    demand = d.u_demand[chosen] < model.platforms.demand_share[where]
    terms = menu[(d.u_term[chosen] * len(menu)).astype(int)]
    flows.open_positions(model, d.choosers[chosen], where, d.amounts[chosen], demand, terms)
    model.channels.on_panic_redemptions(d.panicked // inv.slots, inv.pos_platform[d.panicked])
