"""Money moving between investors, platforms, borrowers and the debt-transfer market.

Every function here changes balances and books the same amounts in the ledger, in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.market import rules
from sim.market.arraytools import small_keys, sum_by
from sim.market.state import NEVER, NO_PLATFORM
from sim.vocabulary import Carrier, Owner

if TYPE_CHECKING:
    from sim.model import P2PModel


@dataclass
class DebtTransferMarket:
    """The secondary market for loans (debt transfer, 债权转让).

    Attributes:
        discount: today's discount on principal, share.
        sold_yesterday: principal sold by platforms short of cash yesterday, yuan.
        live_loans_yesterday: real loans outstanding at the end of yesterday, yuan.
    """

    discount: float
    sold_yesterday: float = 0.0
    live_loans_yesterday: float = 0.0


def grouped_cumsum(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Running sum of ``values`` restarting at each new value of ``groups`` (which must be sorted)."""
    cs = np.cumsum(values)
    if len(cs) == 0:
        return cs
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    offsets = np.repeat(cs[starts] - values[starts], np.diff(np.r_[starts, len(values)]))
    return cs - offsets


def capitalise_interest(model: P2PModel, slots: np.ndarray, held: np.ndarray | None = None,
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Add simple interest accrued since the position started to its principal (distinct slots).

    ``interest = principal * rate * (day - start) / 365`` becomes part of the claim, booked as
    the platform's interest expense (``interest_capitalised``).

    Args:
        model: the model.
        slots: distinct held positions.
        held: their current position records, if the caller has read them already.

    Returns:
        The positions' new principal and their platforms (what the caller would otherwise
        read back at the same scattered positions).
    """
    if len(slots) == 0:
        return np.zeros(0), np.zeros(0, dtype=np.int32)
    inv, plats = model.investors, model.platforms
    if held is None:
        held = np.take(inv.positions, slots)  # whole records: one read per position
    days = np.maximum(model.day - held["start"], 0)
    interest = held["principal"] * held["rate"] * days / rules.DAYS_PER_YEAR
    principal = held["principal"] + interest
    inv.pos_principal[slots] = principal  # slots are distinct
    inv.pos_start[slots] = model.day
    p = held["platform"]
    plats.products[: plats.n] += sum_by(p, interest, plats.n)
    model.ledger.book("interest_capitalised", p, interest)
    return principal, p


def open_positions(model: P2PModel, investors: np.ndarray, platforms: np.ndarray,
                   amounts: np.ndarray, demand: np.ndarray, terms: np.ndarray) -> None:
    """Investors move cash into new products at platforms (one position each, first free slot)."""
    if len(investors) == 0:
        return
    inv, plats = model.investors, model.platforms
    k = inv.slots
    # Only the platform field is gathered (indexing a field view reads just those 4 bytes of
    # each record; np.take would copy the strided view in full first): on day 0 every investor
    # opens a position, and whole records would be a 128-byte temporary per investor.
    free = inv.pos_platform.reshape(-1, k)[investors] == NO_PLATFORM
    slots = investors * k + np.argmax(free, axis=1)
    assert free.any(axis=1).all(), "open_positions needs a free slot per investor"
    inv.cash[investors] -= amounts
    inv.free_slots[investors] -= 1  # one position each
    inv.pos_platform[slots] = platforms
    inv.pos_principal[slots] = amounts
    inv.pos_rate[slots] = plats.rate[platforms]
    inv.pos_start[slots] = model.day
    inv.pos_demand[slots] = demand
    inv.pos_maturity[slots] = np.where(demand, inv.never, model.day + terms)
    model.position_index.add(slots, inv.pos_maturity[slots], demand)
    model.holdings.add(slots, platforms)
    inv.pos_request[slots] = -1
    inv.pos_delayed[slots] = False
    by_platform = sum_by(platforms, amounts, plats.n)
    plats.cash[: plats.n] += by_platform
    plats.products[: plats.n] += by_platform
    model.ledger.book("deposits", platforms, amounts)
    model.flows_today["deposits"] += amounts.sum()
    plats.deposits_window[: plats.n, plats.window_col] += by_platform


def clear_slots(model: P2PModel, slots: np.ndarray) -> None:
    """Empty held positions ``slots`` (distinct), freeing them for new products."""
    inv = model.investors
    # ufunc.at is fast only when the values are an array of the target's dtype.
    owners = slots // inv.slots
    np.add.at(inv.free_slots, owners, np.ones(len(slots), dtype=inv.free_slots.dtype))
    inv.note_freed(owners)
    inv.pos_platform[slots] = NO_PLATFORM
    inv.pos_principal[slots] = 0.0
    inv.pos_rate[slots] = 0.0
    inv.pos_maturity[slots] = inv.never
    inv.pos_demand[slots] = False
    inv.pos_request[slots] = -1
    inv.pos_delayed[slots] = False


def mark_delayed(model: P2PModel, waiting: np.ndarray) -> None:
    """Remember a late payment on the waiting position and its owner's other positions there.

    First-hand experience of withdrawal difficulty colours how the investor sees that platform
    (``rules.perceived_failure_prob``: ``delay_fear``) for every position it holds there.
    """
    if len(waiting) == 0:
        return
    inv = model.investors
    k = inv.slots
    owners = waiting // k
    siblings = owners[:, None] * k + np.arange(k)
    same = inv.pos_platform[siblings] == inv.pos_platform[waiting][:, None]
    inv.pos_delayed[siblings[same]] = True
    model.platforms.delay_seen[inv.pos_platform[waiting]] = True
    model.channels.on_delays(owners, inv.pos_platform[waiting])


def transfer_discount(model: P2PModel) -> float:
    """Debt-transfer market discount today: calm discount plus price impact of yesterday's sales.

    ``d = min(max_discount, transfer_discount + fire_sale_impact * sold_yesterday / live_loans)``
    (fire-sale externality: Shleifer and Vishny 1992; Cifuentes, Ferrucci and Shin 2005).
    """
    m = model.config.market
    impact = m.fire_sale_impact if model.conditions.fire_sale_impact else 0.0
    transfers = model.transfer_market
    pressure = transfers.sold_yesterday / max(transfers.live_loans_yesterday, 1.0)
    return min(m.max_discount, m.transfer_discount + impact * pressure)


def fire_sale(model: P2PModel, shortfall: np.ndarray) -> None:
    """Platforms short of cash sell loans on the debt-transfer market at today's discount.

    A platform sells at most ``daily_sale_limit`` of its real loan book a day, pro rata across
    its loans; fake loans find no buyer. Proceeds are ``(1 - d)`` times the principal sold and
    the rest is a realised loss.
    """
    plats, book = model.platforms, model.loans
    d = model.transfer_market.discount
    if d >= 1.0:
        return
    limit = model.config.market.daily_sale_limit * plats.loans[: plats.n]
    sell = np.minimum(np.minimum(shortfall / (1.0 - d), limit), plats.loans[: plats.n])
    sellers = np.flatnonzero(sell > 0)
    if len(sellers) == 0:
        return
    fraction = np.zeros(plats.n)
    fraction[sellers] = sell[sellers] / plats.loans[sellers]
    hit = np.flatnonzero(book.repaying() & (fraction[book.platform[: book.n]] > 0))
    f = fraction[book.platform[hit]]
    sold = book.principal[hit] * f
    book.principal[hit] -= sold
    book.instalment[hit] *= 1.0 - f
    sold_by_platform = sum_by(book.platform[hit], sold, plats.n)
    proceeds = sold_by_platform * (1.0 - d)
    plats.loans[: plats.n] -= sold_by_platform
    plats.cash[: plats.n] += proceeds
    idx = np.arange(plats.n)
    model.ledger.book("fire_sold_principal", idx, sold_by_platform)
    model.ledger.book("fire_sale_proceeds", idx, proceeds)
    model.flows_today["fire_sold"] += sold_by_platform.sum()
    model.flows_today["fire_sale_loss"] += (sold_by_platform - proceeds).sum()


def pay_requests(model: P2PModel) -> None:
    """Pay queued redemption requests first come, first served; short platforms pay part.

    The queue holds requests in arrival order (older days first, random order within a day).
    A platform whose cash falls short first sells loans (:func:`fire_sale`), then pays requests
    in order until its cash runs out; the request at the margin is paid in part and the rest
    waits. Unpaid requests are withdrawal difficulty (提现困难) [S2, S3], and the positions are
    marked delayed, which their owners remember.
    """
    inv, plats = model.investors, model.platforms
    queue = model.queue
    n = plats.n
    if len(queue) == 0:
        plats.backlog[:n] = 0.0
        return
    p = inv.pos_platform[queue]
    due = inv.pos_principal[queue]
    total_due = sum_by(p, due, n)
    down = plats.outage[:n]  # a platform in an outage can neither sell nor pay
    shortfall = np.where(down, 0.0, np.maximum(total_due - plats.cash[:n], 0.0))
    if shortfall.any():
        fire_sale(model, shortfall)
    available = np.where(down, 0.0, plats.cash[:n])
    order = np.argsort(small_keys(p), kind="stable")
    q, p, due = queue[order], p[order], due[order]
    before = grouped_cumsum(p, due) - due
    pay = np.clip(available[p] - before, 0.0, due)
    paid_full = pay >= due
    pay = np.where(paid_full, due, pay)
    paid_by_platform = sum_by(p, pay, n)
    inv.pos_principal[q] -= pay
    inv.pos_principal[q[paid_full]] = 0.0
    np.add.at(inv.cash, q // inv.slots, pay)  # few entries: add.at beats a full-length bincount
    plats.cash[:n] -= paid_by_platform
    plats.products[:n] -= paid_by_platform
    model.ledger.book("payouts", np.arange(n), paid_by_platform)
    model.flows_today["payouts"] += paid_by_platform.sum()
    plats.payouts_window[:n, plats.window_col] += paid_by_platform
    clear_slots(model, q[paid_full])
    still_waiting = np.empty(len(queue), dtype=bool)
    still_waiting[order] = ~paid_full  # back to arrival order
    waiting = q[~paid_full]
    mark_delayed(model, waiting)
    plats.backlog[:n] = sum_by(p[~paid_full], inv.pos_principal[waiting], n)
    # Keep arrival order for the requests still waiting.
    model.queue = queue[still_waiting]


def operating_costs(model: P2PModel) -> None:
    """Running costs: ``(operating_cost * loans + fixed_cost * capital) / 365`` a day.

    Paid while cash lasts. Both parts scale with the platform, so costs do not depend on the
    sample's size.
    """
    plats = model.platforms
    cfg = model.config.platforms
    n = plats.n
    running = plats.operating_mask()
    cost = ((cfg.operating_cost * plats.loans[:n] + cfg.fixed_cost * plats.capital[:n])
            / rules.DAYS_PER_YEAR)
    cost = np.where(running, np.minimum(cost, plats.cash[:n]), 0.0)
    plats.cash[:n] -= cost
    model.ledger.book("operating_cost", np.arange(n), cost)


def loan_terms(model: P2PModel, platforms: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The term of each new loan, days: uniform over the menu terms the platform reaches.

    A platform lends up to ``loan_term_reach_days + age * loan_term_reach_growth`` days (at
    least the shortest term): young platforms keep loans short while their funding and borrower
    base are untested, and the mean term lengthens as the market's platforms age (average
    terms rose from about 6 months in 2014 to about 11 in 2018, WDZJ).
    """
    cfg = model.config.platforms
    menu = np.sort(np.asarray(cfg.loan_terms_days))
    age = model.day - model.platforms.entry_day[platforms]
    reach = cfg.loan_term_reach_days + cfg.loan_term_reach_growth * age
    allowed = np.maximum(np.searchsorted(menu, reach, side="right"), 1)
    return menu[np.minimum((u * allowed).astype(np.int64), allowed - 1)]


def lend(model: P2PModel, applicants: np.ndarray, divert: bool = True) -> None:
    """Platforms lend cash above their buffer to screened applicants; Ponzi owners divert some.

    Applicants (distinct borrowers) go to open platforms in proportion to lendable cash. Each platform accepts an
    applicant whose screened default probability (:func:`rules.screened_pd`) is within its
    credit standard, and funds accepted loans in arrival order while cash lasts. A Ponzi owner
    first moves ``ponzi_fake_share`` of its lendable cash into fake, self-dealing loans
    [S0 §IV.A]: the cash leaves the platform but the book shows a loan.
    """
    plats, bor, book, rng = model.platforms, model.borrowers, model.loans, model.rng
    cfg = model.config.platforms
    n = plats.n
    accepting = plats.open_mask() & (plats.status[:n] == 0)
    lendable = np.where(
        accepting, plats.cash[:n] - plats.buffer_target[:n] * plats.products[:n], 0.0)
    lendable = np.maximum(lendable, 0.0)

    ponzi = np.flatnonzero((plats.owner[:n] == Owner.PONZI) & (lendable > 0) & divert
                           & ~plats.custody[:n])  # custody: no pool to divert from
    if len(ponzi):
        fake = lendable[ponzi] * cfg.ponzi_fake_share
        model.ledger.transfer("fake_loans_made", fake, ponzi)
        lendable[ponzi] -= fake
        book.add(ponzi, np.full(len(ponzi), -1), fake, 0.0, NEVER - model.day - 1, model.day,
                 True)

    total = lendable.sum()
    if len(applicants) == 0 or total <= 0:
        return
    applicants = rng.permutation(applicants)
    cum = np.cumsum(lendable)
    choice = np.searchsorted(cum, rng.random(len(applicants)) * total, side="right")
    choice = np.minimum(choice, n - 1)
    true_pd = bor.true_pd[applicants]
    screened = rules.screened_pd(true_pd, bor.reported_pd[applicants], plats.screening[choice])
    lax = plats.owner[choice] != Owner.HONEST  # fraud-prone owners do not screen
    ok = (screened <= cfg.credit_standard) | lax
    applicants, choice, true_pd = applicants[ok], choice[ok], true_pd[ok]
    size = bor.loan_size[applicants]
    order = np.argsort(small_keys(choice), kind="stable")
    applicants, choice, size, true_pd = (applicants[order], choice[order], size[order],
                                         true_pd[order])
    funded = grouped_cumsum(choice, size) <= lendable[choice]
    applicants, choice, size, true_pd = (applicants[funded], choice[funded], size[funded],
                                         true_pd[funded])
    if len(applicants) == 0:
        return
    terms = loan_terms(model, choice, rng.random(len(applicants)))
    rate = plats.rate[choice] + plats.spread[choice]
    book.add(choice, applicants, size, rate, terms, model.day, False, true_pd)
    model.flows_today["credit_term_days"] += float((size * terms).sum())
    bor.n_loans[applicants] += 1  # applicants are distinct borrowers
    lent = sum_by(choice, size, n)
    plats.cash[:n] -= lent
    plats.loans[:n] += lent
    model.ledger.book("loans_made", np.arange(n), lent)
    model.flows_today["credit"] += lent.sum()
    model.policies.on_loans_made(lent)


def collect_repayments(model: P2PModel) -> None:
    """Borrowers pay the day's instalment and interest; loans of failed platforms pay part.

    A live loan repays ``min(instalment, principal)`` of principal and ``principal * rate / 365``
    of interest. A loan of a platform in resolution pays only ``collection_rate`` of both; the
    uncollected principal is written off (MODEL.md: resolution recovers 10-35%).
    """
    plats, book, bor = model.platforms, model.loans, model.borrowers
    repaying = book.repaying()
    if not repaying.any():
        return
    # One pass over the whole block of rows: closed and fake loans are masked to repay nothing,
    # so the sums equal those over the live real loans alone.
    n, rows = plats.n, slice(0, book.n)
    # As the index type once: each bincount below would convert the int32 column again.
    p = book.platform[rows].astype(np.intp)
    principal = book.principal[rows]  # a view: updated in place below
    # The same operations as ``principal * rate / 365`` and so on, written into reused
    # buffers (this pass reads every row of the book every day).
    interest = np.multiply(principal, book.rate[rows])
    interest /= rules.DAYS_PER_YEAR
    repay = np.minimum(book.instalment[rows], principal)
    left = np.subtract(principal, repay)
    last = left <= 1e-6
    last |= book.maturity[rows] <= model.day
    last &= repaying
    np.copyto(repay, principal, where=last)
    masked = ~repaying
    np.copyto(repay, 0.0, where=masked)
    np.copyto(interest, 0.0, where=masked)
    np.subtract(principal, repay, out=principal)
    done = np.flatnonzero(last)
    book.close(done)
    np.subtract.at(bor.n_loans, book.borrower[done], np.ones(len(done), dtype=bor.n_loans.dtype))
    reduced = sum_by(p, repay, n)
    if plats.in_resolution[:n].any():
        collected = np.where(plats.in_resolution[p], model.config.resolution.collection_rate, 1.0)
        received_principal = sum_by(p, repay * collected, n)
        received_interest = sum_by(p, interest * collected, n)
    else:  # everything is collected in full: the same sums without the factor of one
        received_principal = reduced
        received_interest = sum_by(p, interest, n)
    plats.loans[:n] -= reduced
    plats.cash[:n] += received_principal + received_interest
    idx = np.arange(n)
    model.ledger.book("principal_repaid", idx, received_principal)
    model.ledger.book("collection_writeoff", idx, reduced - received_principal)
    model.ledger.book("interest_received", idx, received_interest)


def default_loans(model: P2PModel, defaulted: np.ndarray) -> None:
    """Write down all live loans of borrowers who defaulted; recover ``default_recovery``."""
    plats, book, bor = model.platforms, model.loans, model.borrowers
    if len(defaulted) == 0:
        return
    n = plats.n
    mask = np.zeros(bor.count, dtype=bool)
    mask[defaulted] = True
    hit = np.flatnonzero(book.repaying() & mask[book.borrower[: book.n]])
    p = book.platform[hit]
    principal = book.principal[hit]
    borrower = book.borrower[hit]
    lost = sum_by(p, principal, n)
    stress = bor.refinancing_stress[borrower]
    model.channels.common_borrower_losses(p, principal, stress)
    multiplier = model.conditions.sector_multiplier[bor.sector[borrower]]
    shocked = principal * (multiplier - 1.0) / (multiplier * (1.0 + stress))
    model.conditions.stress[Carrier.SHOCK][:n] += sum_by(p, shocked, n) / np.maximum(
        plats.products[:n], 1.0)
    recovery = lost * model.config.borrowers.default_recovery
    book.principal[hit] = 0.0
    book.close(hit)
    plats.loans[:n] -= lost
    plats.cash[:n] += recovery
    idx = np.arange(n)
    model.ledger.book("default_principal", idx, lost)
    model.ledger.book("default_recovery", idx, recovery)
    model.policies.on_loan_losses(lost - recovery)
    model.flows_today["defaults"] += lost.sum()
    bor.n_loans[defaulted] = 0
