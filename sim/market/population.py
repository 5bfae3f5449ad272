"""Drawing the population on day 0: investors, borrowers, the first positions and the first loans.

Every draw comes from the model's generator, in a fixed order (platforms, their signal noise,
investors, borrowers, the initial allocation, the initial lending), so a seed gives the same
market in any process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.market import allocator, flows
from sim.market.decisions import MIN_TICKET, consideration_sets, step_context
from sim.market.engine import ArrayEngine
from sim.market.rules import DAYS_PER_YEAR

if TYPE_CHECKING:
    from sim.model import P2PModel

TRAIT_CONCENTRATION = 4.0  # Beta(m * c, (1 - m) * c) of investor traits: mean m, modest spread
INITIAL_LENDING_ROUNDS = 4  # one pass leaves applicants unmatched; four fill the books
CHOICE_CHUNK = 1 << 16  # investors whose day-0 choice is made at once (bounds the temporaries)


def beta_with_mean(rng: np.random.Generator, mean: float, size: int,
                   concentration: float = TRAIT_CONCENTRATION) -> np.ndarray:
    """``size`` Beta draws with the given mean (clipped into (0.001, 0.999)) and concentration."""
    m = min(max(mean, 1e-3), 1 - 1e-3)
    return rng.beta(m * concentration, (1 - m) * concentration, size)


def uniforms_by_rows(rng: np.random.Generator, rows: int, columns: int):
    """The draws of ``rng.random((rows, columns))``, to be read by consecutive blocks of rows.

    ``rng`` is left where that call would leave it. With a PCG64 generator (one 64-bit step per
    float64 uniform) the draws are not held at once: a copy of the generator makes each block
    when it is read, and ``rng`` jumps past all of them (``advance``). Otherwise they are drawn
    in full.

    Args:
        rng: the generator to draw from.
        rows: rows of the draw.
        columns: uniforms per row.

    Returns:
        ``block(lo, hi)``: rows ``lo`` to ``hi`` (exclusive) of the draw, float64 of shape
        ``(hi - lo, columns)``; blocks must be read in order, each row once, from row 0.
    """
    bits = rng.bit_generator
    # A buffered half of a 64-bit word (left by a 32-bit draw) is dropped by advance and kept
    # by a plain draw: only jump from a clean state.
    if isinstance(bits, np.random.PCG64 | np.random.PCG64DXSM) and not bits.state["has_uint32"]:
        copy = type(bits)()
        copy.state = bits.state
        reader = np.random.Generator(copy)
        bits.advance(rows * columns)
        at = [0]

        def block(lo: int, hi: int) -> np.ndarray:
            hi = min(hi, rows)
            if lo != at[0]:
                raise ValueError(f"rows read out of order: {lo} after {at[0]}")
            at[0] = hi
            return reader.random((hi - lo, columns))

        return block
    full = rng.random((rows, columns))
    return lambda lo, hi: full[lo:hi]


def draw_signal_noise(model: P2PModel) -> None:
    """Each platform's initial noise in investors' signal of its true risk (sd from disclosure)."""
    plats = model.platforms
    plats.signal_noise[: plats.n] = (model.conditions.signal_noise
                                     * model.rng.standard_normal(plats.n))


def draw_investors(model: P2PModel) -> None:
    """Wealth (Pareto), target P2P share, literacy, risk tolerance and attention (Beta)."""
    ic, inv, rng = model.config.investors, model.investors, model.rng
    n = inv.count
    wealth = ic.wealth_min * (1.0 + rng.pareto(ic.wealth_alpha - 0.0, n))
    inv.cash[:] = wealth
    inv.initial_wealth[:] = wealth
    inv.target_share[:] = beta_with_mean(rng, ic.p2p_share_mean, n)
    inv.literacy[:] = beta_with_mean(rng, ic.literacy_mean, n)
    inv.risk_tolerance[:] = beta_with_mean(rng, ic.risk_tolerance_mean, n)
    inv.attention[:] = beta_with_mean(rng, ic.attention_mean, n)
    inv.note_traits_changed()
    inv.participating[:] = rng.random(n) < ic.initial_participation
    model.ledger.opening_investor_cash = float(wealth.sum())
    if ic.savings_rate > 0:  # constant: the total is summed once
        inv.savings_per_wealth = ic.savings_rate / DAYS_PER_YEAR
        inv.daily_savings_total = float((inv.initial_wealth * inv.savings_per_wealth).sum())


def draw_borrowers(model: P2PModel, idx: np.ndarray) -> None:
    """Fresh borrowers ``idx`` (at start, and to replace those who defaulted).

    True PD is Beta with mean ``pd_mean``; a share ``misreport_share`` report a PD lower by
    ``misreport_strength`` ("brushing credit" [S3]); loan size is lognormal, capped by policy.
    """
    bc, b, rng, cond = model.config.borrowers, model.borrowers, model.rng, model.conditions
    k = len(idx)
    if k == 0:
        return
    m = bc.pd_mean
    true_pd = (rng.beta(m * bc.pd_concentration, (1 - m) * bc.pd_concentration, k) if 0 < m < 1
               else np.full(k, m))
    misreports = rng.random(k) < bc.misreport_share
    b.true_pd[idx] = true_pd
    b.reported_pd[idx] = np.where(misreports, true_pd * (1 - cond.misreport_strength), true_pd)
    b.sector[idx] = rng.integers(0, bc.sectors, k)
    b.loan_size[idx] = np.minimum(
        bc.loan_size_median * np.exp(bc.loan_size_sigma * rng.standard_normal(k)),
        cond.loan_size_cap)
    b.n_loans[idx] = 0
    b.refinancing_stress[idx] = 0.0


def initial_allocation(model: P2PModel) -> None:
    """Day 0: investors fill their slots, with term maturities spread over the product terms.

    Each slot gets ``initial_fill * target_share * wealth / slots``, placed by the same logit
    choice investors use later (array form).
    """
    ic, inv, rng = model.config.investors, model.investors, model.rng
    ctx = step_context(model)
    choose = ArrayEngine(model).choices
    per_slot = (ic.initial_fill * inv.target_share * inv.participating * inv.initial_wealth
                / inv.slots)
    menu = model.conditions.product_terms
    # Each round's investor-sized temporaries are dropped as soon as they are used: held
    # together they came to about 110 MB at 10^6 investors, the peak of the model's build.
    for _ in range(inv.slots):
        ok = np.flatnonzero(per_slot >= MIN_TICKET)
        # The (investors x consideration set) draws come first in the stream; they are read
        # by blocks (48 MB at 10^6 investors when drawn at once).
        u_consider = uniforms_by_rows(rng, len(ok), ic.consideration_set)
        if consideration_sets(model, np.empty((0, ic.consideration_set))) is None:
            return
        u_choice = rng.random(len(ok))
        # The choices are made by rows of CHOICE_CHUNK investors: each row's choice reads its
        # own draws alone, so the result is that of one call, without its (investors x
        # consideration set) temporaries, which at 10^6 investors came to about 500 MB.
        choice = np.empty(len(ok), dtype=np.int64)
        for lo in range(0, len(ok), CHOICE_CHUNK):
            rows = slice(lo, lo + CHOICE_CHUNK)
            choice[rows] = choose(ctx, ok[rows], consideration_sets(
                model, u_consider(lo, lo + CHOICE_CHUNK)), u_choice[rows])
        del u_consider, u_choice
        u_demand, u_term = rng.random(len(ok)), rng.random(len(ok))
        chosen = choice >= 0
        who, where = ok[chosen], choice[chosen]
        del ok, choice
        demand = u_demand[chosen] < model.platforms.demand_share[where]
        del u_demand
        # Positions outstanding at a moment are length-biased: a product twice as long is
        # twice as likely to be found open, so day-0 terms are drawn with weight ~ term.
        weight = np.cumsum(menu) / menu.sum()
        terms = menu[np.minimum(np.searchsorted(weight, u_term[chosen], side="right"),
                                len(menu) - 1)]
        del u_term, chosen
        # Spread first maturities uniformly over the term so day-0 cohorts do not bunch.
        first = 1 + (rng.random(len(who)) * terms).astype(np.int64)
        del terms
        flows.open_positions(model, who, where, per_slot[who], demand, first)
        del who, where, demand, first
        allocator.release_free_memory()  # the round's temporaries, before the next round's
    model.platforms.deposits_window[:] = 0.0
    model.flows_today.clear()


def initial_lending(model: P2PModel) -> None:
    """Day 0: platforms lend out their funds; loans are seasoned so maturities are spread."""
    book = model.loans
    start = book.n
    for round_ in range(INITIAL_LENDING_ROUNDS):
        capacity = model.borrowers.n_loans < model.conditions.max_lenders
        flows.lend(model, np.flatnonzero(capacity), divert=round_ == 0)
    rows = np.arange(start, book.n)
    rows = rows[~book.fake[rows]]
    term = np.maximum(book.maturity[rows] - model.day, 1)
    remaining = 1 + (model.rng.random(len(rows)) * term).astype(np.int64)
    book.maturity[rows] = model.day + remaining
    book.instalment[rows] = book.principal[rows] / remaining
    model.flows_today.clear()


def adopt(model: P2PModel) -> None:
    """Investors who never used P2P start to, by Bass (1969) diffusion.

    A non-user adopts on a day with probability ``(p + q * users / investors) / 365``: ``p``
    (innovation) is adoption from outside the market, ``q`` (imitation) from seeing others use
    it. An investor who left after a loss does not come back. Draws one uniform per non-user
    when adoption is on.
    """
    ic, inv = model.config.investors, model.investors
    if ic.adoption_innovation <= 0 and ic.adoption_imitation <= 0:
        return
    users = float(inv.participating.mean()) if inv.count else 0.0
    candidates = np.flatnonzero(~inv.participating & ~inv.left)
    if len(candidates) == 0:
        return
    daily = (ic.adoption_innovation + ic.adoption_imitation * users) / DAYS_PER_YEAR
    inv.participating[candidates[model.rng.random(len(candidates)) < daily]] = True


def receive_savings(model: P2PModel) -> None:
    """New savings arrive as cash: ``savings_rate * initial_wealth / 365`` a day per investor."""
    inv = model.investors
    if inv.savings_per_wealth <= 0:
        return
    # Each investor's savings are the same product as the one summed into the total; by chunks
    # of investors, so the temporary stays small.
    for lo in range(0, inv.count, CHOICE_CHUNK):
        rows = slice(lo, lo + CHOICE_CHUNK)
        inv.cash[rows] += inv.initial_wealth[rows] * inv.savings_per_wealth
    model.ledger.book_market("savings", inv.daily_savings_total)
