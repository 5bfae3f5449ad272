"""Platform decisions: entry, pricing, status, absconding, orderly exit and resolution.

These act on the platform arrays as a whole (platforms number 10-1000, so any of them could also
be written per platform; the array form keeps one code path at every scale).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.market import flows as market
from sim.market import rules
from sim.market.arraytools import sum_by
from sim.market.decisions import market_rate
from sim.vocabulary import Carrier, EventKind, FailureCause, Owner, Status

if TYPE_CHECKING:
    from sim.config import CustomPlatform
    from sim.model import P2PModel


def owner_type_probs(capital: np.ndarray, share_ponzi: float, share_fraud: float,
                     capital_ref: float, elasticity: float) -> np.ndarray:
    """Probabilities of (honest, Ponzi, fraud) owners given registered capital.

    Fraud-prone shares scale as ``share * (capital_ref / capital) ** elasticity`` and are capped
    so that they sum to at most 0.9: low-capital entrants are more often fraud-prone, which is
    the lever an entry threshold pulls [S0 §V.B, S1 §3(1)].
    """
    scale = (capital_ref / np.maximum(capital, 1.0)) ** elasticity
    ponzi = share_ponzi * scale
    fraud = share_fraud * scale
    total = ponzi + fraud
    cap = np.where(total > 0.9, 0.9 / np.maximum(total, 1e-12), 1.0)
    ponzi, fraud = ponzi * cap, fraud * cap
    return np.stack([1.0 - ponzi - fraud, ponzi, fraud], axis=-1)


def create_platforms(model: P2PModel, count: int, custom: list[CustomPlatform] | None = None,
                     rng: np.random.Generator | None = None) -> None:
    """Add ``count`` random platforms (and any custom ones); owners pay in their capital.

    Every candidate's attributes are drawn before an entry threshold turns some away, so the
    admitted entrants are the same platforms, with the same draws, as without the threshold.
    """
    cfg = model.config.platforms
    plats = model.platforms
    rng = model.rng if rng is None else rng
    custom = custom or []
    total = count + len(custom)
    if plats.n + total > plats.capacity:
        total = plats.capacity - plats.n
        count = max(0, total - len(custom))
        custom = custom[: total - count]
    if total <= 0:
        return
    capital = cfg.capital_median * np.exp(cfg.capital_sigma * rng.standard_normal(count))
    u = rng.random(count)
    rate_noise = rng.standard_normal(count)
    screening_noise = rng.standard_normal(count)
    visibility = np.exp(0.5 * rng.standard_normal(count))
    if model.day > 0:  # an entry threshold turns away entrants with too little capital
        admitted = model.policies.admits(capital)
        capital, u, rate_noise = capital[admitted], u[admitted], rate_noise[admitted]
        screening_noise, visibility = screening_noise[admitted], visibility[admitted]
        total -= count - len(capital)
        count = len(capital)
        if total <= 0:
            return
    idx = np.arange(plats.n, plats.n + total)
    probs = owner_type_probs(capital, cfg.share_ponzi, cfg.share_fraud, cfg.capital_median,
                             cfg.fraud_capital_elasticity)
    owner = (u[:, None] > np.cumsum(probs, axis=1)[:, :2]).sum(axis=1)
    rate = market_rate(model) + cfg.promised_rate_sd * rate_noise
    rate = rate + np.where(owner != Owner.HONEST, cfg.ponzi_rate_premium, 0.0)
    screening = np.clip(cfg.screening_mean + 0.15 * screening_noise, 0.05, 0.95)
    screening = np.where(owner != Owner.HONEST, screening * 0.3, screening)
    cols = {
        "capital": capital, "owner": owner, "rate": rate, "screening": screening,
        "visibility": visibility, "demand_share": np.full(count, cfg.demand_share),
        "buffer_target": np.full(count, cfg.cash_buffer_target),
    }
    for c in custom:
        cols["capital"] = np.r_[cols["capital"], c.capital]
        cols["owner"] = np.r_[cols["owner"], ["honest", "ponzi", "fraud"].index(c.owner)]
        cols["rate"] = np.r_[cols["rate"], c.promised_rate]
        cols["screening"] = np.r_[cols["screening"],
                                  cfg.screening_mean if c.screening is None else c.screening]
        cols["visibility"] = np.r_[cols["visibility"], c.visibility]
        cols["demand_share"] = np.r_[cols["demand_share"],
                                     cfg.demand_share if c.demand_share is None else c.demand_share]
        cols["buffer_target"] = np.r_[cols["buffer_target"], cfg.cash_buffer_target
                                      if c.cash_buffer_target is None else c.cash_buffer_target]
    plats.capital[idx] = cols["capital"]
    plats.owner[idx] = cols["owner"]
    plats.rate[idx] = np.clip(cols["rate"], cfg.rate_min, cfg.rate_max)
    plats.spread[idx] = cfg.borrower_spread
    plats.screening[idx] = cols["screening"]
    plats.visibility[idx] = cols["visibility"]
    plats.demand_share[idx] = cols["demand_share"]
    plats.buffer_target[idx] = cols["buffer_target"]
    plats.status[idx] = Status.ACTIVE
    plats.entry_day[idx] = model.day
    plats.cash[idx] = cols["capital"]
    plats.n += total
    model.ledger.book("capital_in", idx, cols["capital"])
    model.channels.on_platforms_created(idx)
    model.policies.on_platforms_created(idx)
    names = [f"P{i:04d}" for i in idx[:count]] + [c.name for c in custom]
    model.add_platform_agents(idx, names)
    if model.day > 0:
        for i in idx:
            model.log_event(EventKind.ENTRY, int(i), owner=Owner(int(plats.owner[i])).name.lower(),
                            capital=float(plats.capital[i]))


def enter(model: P2PModel) -> None:
    """New platforms arrive as a Poisson stream of ``entry_per_year`` [MODEL.md: entry over time]."""
    # Entry has its own stream, so policies that change investors' draws do not change which
    # platforms enter: a policy comparison then meets the same entrants (common random numbers).
    k = model.entry_rng.poisson(model.config.platforms.entry_per_year / rules.DAYS_PER_YEAR)
    if k:
        create_platforms(model, int(k), rng=model.entry_rng)


def update_pricing(model: P2PModel) -> None:
    """Platforms raise their promised rate when funding drains and cut it when funding is ample.

    Over the last ``funding_window_days``, net funding ``f = (deposits - payouts) / products``
    below -2% raises the rate by ``rate_step``; ``f`` above +2%, or idle cash above twice the
    buffer target with ``f >= 0``, cuts it by ``rate_step`` (competition for inflows, MODEL.md
    Pricing; yields fell from about 20% to 9-10% as the market grew, 2013-2017).
    """
    cfg = model.config.platforms
    plats = model.platforms
    n = plats.n
    net = plats.deposits_window[:n].sum(axis=1) - plats.payouts_window[:n].sum(axis=1)
    funding = net / np.maximum(plats.products[:n], 1.0)
    idle = plats.cash[:n] > 2.0 * plats.buffer_target[:n] * plats.products[:n]
    cut = (funding > 0.02) | (idle & (funding >= 0))
    change = np.where(funding < -0.02, cfg.rate_step, np.where(cut, -cfg.rate_step, 0.0))
    change = np.where(plats.open_mask(), change, 0.0)
    plats.rate[:n] = np.clip(plats.rate[:n] + change, cfg.rate_min, cfg.rate_max)


def update_status(model: P2PModel) -> None:
    """ACTIVE -> DISTRESSED -> FAILED on unpaid requests; recovery when the backlog clears.

    * A backlog for ``distress_news_days`` running days makes the distress public.
    * A distressed platform recovers when its backlog is paid.
    * It fails when the backlog exceeds ``fail_backlog_share`` of its liabilities or the distress
      lasts more than ``max_distress_days``. The cause is ``insolvency`` if its true equity (fake
      loans at zero) is negative, else ``run``: a solvent platform killed by illiquidity
      (Diamond and Dybvig 1983).
    """
    cfg = model.config.platforms
    plats = model.platforms
    n = plats.n
    operating = plats.operating_mask()
    has_backlog = (plats.backlog[:n] > 1e-6) & operating
    plats.delay_days[:n] = np.where(has_backlog, plats.delay_days[:n] + 1, 0)
    status = plats.status[:n]
    newly = np.flatnonzero((status == Status.ACTIVE) & (plats.delay_days[:n] >= cfg.distress_news_days))
    for i in newly:
        plats.status[i] = Status.DISTRESSED
        plats.distress_days[i] = 0
        model.log_event(EventKind.DISTRESS, int(i), backlog=float(plats.backlog[i]))
    recovered = np.flatnonzero((status == Status.DISTRESSED) & ~has_backlog)
    for i in recovered:
        plats.status[i] = Status.ACTIVE
        model.log_event(EventKind.RECOVERED, int(i))
    distressed = plats.status[:n] == Status.DISTRESSED
    plats.distress_days[:n] = np.where(distressed, plats.distress_days[:n] + 1, 0)
    failing = distressed & (
        (plats.backlog[:n] > cfg.fail_backlog_share * np.maximum(plats.products[:n], 1.0))
        | (plats.distress_days[:n] > cfg.max_distress_days))
    true_equity = plats.true_equity()
    for i in np.flatnonzero(failing):
        cause = FailureCause.INSOLVENCY if true_equity[i] < 0 else FailureCause.RUN
        start_resolution(model, int(i), Status.FAILED, cause)


def abscond(model: P2PModel) -> None:
    """A fraudulent owner runs off with the cash when that beats carrying on [S3, S0 §IV.A].

    Carrying on is worth the margin on the loan book over ``abscond_horizon_days``, scaled by
    funding health ``h = min(1, deposits / payouts)`` over the funding window, squared (as
    inflows dry up the franchise is worth less and discovery nears). The owner absconds when
    ``cash > spread * loans * horizon / 365 * h^2`` and cash exceeds ``abscond_min_cash``.
    """
    cfg = model.config.platforms
    plats = model.platforms
    n = plats.n
    # Under bank custody there is no pool to run off with.
    candidates = (plats.owner[:n] == Owner.FRAUD) & plats.operating_mask() & ~plats.custody[:n]
    if not candidates.any():
        return
    dep = plats.deposits_window[:n].sum(axis=1)
    pay = plats.payouts_window[:n].sum(axis=1)
    health = np.minimum(1.0, dep / np.maximum(pay, 1.0))
    carry_on = plats.spread[:n] * plats.loans[:n] * cfg.abscond_horizon_days / 365.0 * health**2
    runs = candidates & (plats.cash[:n] > carry_on) & (plats.cash[:n] > cfg.abscond_min_cash)
    runs &= (model.day - plats.entry_day[:n]) > cfg.funding_window_days
    for i in np.flatnonzero(runs):
        force_abscond(model, int(i), cause=FailureCause.ABSCONDING)


def force_abscond(model: P2PModel, i: int, cause: str) -> None:
    """The owner takes all the cash and disappears; the estate goes into resolution."""
    plats = model.platforms
    take = 0.0 if plats.custody[i] else float(plats.cash[i])  # custody: the cash is at a bank
    model.ledger.transfer("stolen", take, i)
    start_resolution(model, i, Status.ABSCONDED, cause, stolen=take)


def orderly_exits(model: P2PModel) -> None:
    """Honest platforms whose equity falls below ``exit_equity_share`` of assets wind down.

    A winding-down platform takes no new money and lets products mature; once every claim is
    paid it sells its remaining loans at the calm transfer discount, returns the equity to its
    owner and leaves as EXITED (or CLOSED when a regulator ordered the wind-down).
    """
    cfg = model.config.platforms
    plats = model.platforms
    n = plats.n
    assets = plats.cash[:n] + plats.loans[:n] + plats.fake_loans[:n]
    weak = ((plats.owner[:n] == Owner.HONEST) & (plats.status[:n] == Status.ACTIVE)
            & ~plats.winding_down[:n] & (plats.equity() < cfg.exit_equity_share * assets)
            & (model.day - plats.entry_day[:n] > cfg.funding_window_days))
    for i in np.flatnonzero(weak):
        stop_new_business(model, int(i), FailureCause.ORDERLY_EXIT, EventKind.WIND_DOWN,
                          reason=FailureCause.ORDERLY_EXIT)
    done = plats.winding_down[:n] & plats.operating_mask() & (plats.products[:n] <= 1e-6)
    done &= len(model.queue) == 0 or ~np.isin(np.arange(n), model.investors.pos_platform[model.queue])
    for i in np.flatnonzero(done):
        finish_exit(model, int(i))


def stop_new_business(model: P2PModel, i: int, exit_cause: str, event: str,
                      **details) -> None:
    """Platform ``i`` takes no new money and lets its products run off; logs ``event``.

    Once every claim is paid it leaves (see :func:`orderly_exits`) with ``exit_cause``.
    """
    model.platforms.winding_down[i] = True
    model.platforms.exit_cause[i] = exit_cause
    model.log_event(event, i, **details)


def close_by_order(model: P2PModel, i: int, cause: str) -> None:
    """A regulator's closure date: leave at once if nothing is owed, else go into resolution."""
    plats = model.platforms
    if plats.products[i] <= 1e-6 and plats.backlog[i] <= 1e-6:
        finish_exit(model, i)
    else:
        start_resolution(model, i, Status.CLOSED, cause)


def finish_exit(model: P2PModel, i: int) -> None:
    """Sell the rest of the book, hand the equity back to the owner, leave the market."""
    plats, book = model.platforms, model.loans
    live = book.live()
    mine = live[(book.platform[live] == i) & ~book.fake[live]]
    principal = float(book.principal[mine].sum())
    proceeds = principal * (1.0 - model.config.market.transfer_discount)
    book.principal[mine] = 0.0
    book.close(mine)
    np.subtract.at(model.borrowers.n_loans, book.borrower[mine], 1)
    plats.loans[i] -= principal
    plats.cash[i] += proceeds
    model.ledger.book_total("loans_sold_at_exit", i, principal)
    model.ledger.book_total("exit_sale_proceeds", i, proceeds)
    model.policies.on_exit(i)
    equity = float(plats.cash[i])
    plats.cash[i] = 0.0
    model.ledger.book_total("equity_withdrawn", i, equity)
    reason = plats.exit_cause.get(i, FailureCause.ORDERLY_EXIT)
    ordered = reason in (FailureCause.REGULATORY_CLOSURE, FailureCause.SUPERVISORY_WINDDOWN)
    plats.status[i] = Status.CLOSED if ordered else Status.EXITED
    plats.exit_day[i] = model.day
    plats.winding_down[i] = False
    model.log_event(EventKind.EXIT, i, cause=reason, equity_returned=equity)


def start_resolution(model: P2PModel, i: int, status: Status, cause: str, **details) -> None:
    """Freeze a failed or absconded platform and open its estate for pro-rata payouts.

    Accrued interest is added to every claim, pending requests are cancelled (they become plain
    claims on the estate) and fake loans are written off.
    """
    plats, inv = model.platforms, model.investors
    channel, contributions = model.channels.attribute(i)
    if cause == FailureCause.ABSCONDING and channel == Carrier.NONE:
        channel = Carrier.OWN  # the owner's choice, not stress from outside
    plats.status[i] = status
    plats.exit_day[i] = model.day
    plats.in_resolution[i] = True
    plats.winding_down[i] = False
    plats.backlog[i] = 0.0
    plats.next_payout_day[i] = model.day + model.config.resolution.payout_interval_days
    slots = model.holdings.at(i)
    market.capitalise_interest(model, slots)
    inv.pos_request[slots] = -1
    if len(model.queue):
        model.queue = model.queue[inv.pos_platform[model.queue] != i]
    fake = float(plats.fake_loans[i])
    if fake:
        book = model.loans
        live = book.live()
        mine = live[(book.platform[live] == i) & book.fake[live]]
        book.principal[mine] = 0.0
        book.close(mine)
        plats.fake_loans[i] = 0.0
        model.ledger.book_total("fake_writeoff", i, fake)
    true_equity = float(plats.cash[i] + plats.loans[i] - plats.products[i])
    if model.shocks.hit_directly(i) or cause == FailureCause.REGULATORY_CLOSURE:
        channel = Carrier.SHOCK
    parent = model.failures[-1]["platform"] if model.failures and channel not in (
        Carrier.SHOCK, Carrier.NONE, Carrier.OWN) else None
    model.failures.append({"day": model.day, "platform": i, "cause": cause, "channel": channel,
                           "parent": parent, "rate": float(plats.rate[i]),
                           "contributions": contributions})
    kind = {Status.FAILED: EventKind.FAILURE,
            Status.ABSCONDED: EventKind.ABSCONDED}.get(status, EventKind.CLOSURE)
    model.log_event(kind, i, cause=cause, channel=channel, parent=parent, equity=true_equity,
                    claims=float(plats.products[i]), **details)
    model.channels.on_losses(slots // inv.slots, np.full(len(slots), i))
    model.channels.on_failure(i)
    model.policies.on_failure(i)


def resolve(model: P2PModel) -> None:
    """Pay estates out pro rata to claims on payout days; close resolution after ``max_days``.

    The estate's cash (collections of the loan book at ``collection_rate``) is paid out every
    ``payout_interval_days`` in proportion to each claim. When the loan book is collected, or
    ``max_days`` have passed, the last cash is paid and what is still owed is written off as
    investor loss.
    """
    plats, inv, book = model.platforms, model.investors, model.loans
    res = model.config.resolution
    n = plats.n
    active = plats.in_resolution[:n]
    if not active.any():
        return
    live = book.live()
    has_loans = np.bincount(book.platform[live], minlength=n)[:n] > 0 if len(live) else np.zeros(n, bool)
    closing = active & ((model.day - plats.exit_day[:n] >= res.max_days) | ~has_loans)
    paying = active & ((plats.next_payout_day[:n] <= model.day) | closing)
    if not paying.any():
        return
    # The positions at paying platforms, in slot order (as a scan of all positions gives).
    slots = np.sort(np.concatenate([model.holdings.at(i) for i in np.flatnonzero(paying)]))
    p = inv.pos_platform[slots]
    claims = plats.products[:n]
    share = np.where(claims[p] > 0, inv.pos_principal[slots] / np.maximum(claims[p], 1e-300), 0.0)
    pay = np.minimum(share * plats.cash[p], inv.pos_principal[slots])
    paid = sum_by(p, pay, n)
    inv.pos_principal[slots] -= pay
    np.add.at(inv.cash, slots // inv.slots, pay)
    plats.cash[:n] -= paid
    plats.products[:n] -= paid
    model.ledger.book("payouts", np.arange(n), paid)
    model.flows_today["estate_payouts"] += paid.sum()
    plats.next_payout_day[:n] = np.where(paying, model.day + res.payout_interval_days,
                                         plats.next_payout_day[:n])
    if closing.any():
        close = slots[closing[p]]
        cp = inv.pos_platform[close]
        lost = inv.pos_principal[close]
        np.add.at(inv.loss, close // inv.slots, lost)
        written = sum_by(cp, lost, n)
        plats.products[:n] -= written
        model.ledger.book("claims_written_off", np.arange(n), written)
        market.clear_slots(model, close)
        left = live[closing[book.platform[live]]] if len(live) else live
        left = left[~book.fake[left]]
        lp = book.platform[left]
        remaining = sum_by(lp, book.principal[left], n)
        book.principal[left] = 0.0
        book.close(left)
        np.subtract.at(model.borrowers.n_loans, book.borrower[left], 1)
        plats.loans[:n] -= remaining
        model.ledger.book("collection_writeoff", np.arange(n), remaining)
        for i in np.flatnonzero(closing):
            plats.in_resolution[i] = False
            model.log_event(EventKind.RESOLVED, int(i), investor_loss=float(written[i]),
                            leftover_cash=float(plats.cash[i]))

