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
from sim.market.decisions import market_rate, true_risk
from sim.vocabulary import Carrier, EventKind, FailureCause, Owner, Status

if TYPE_CHECKING:
    from sim.config import CustomPlatform
    from sim.model import P2PModel


GROWTH_WINDOW_DAYS = 90  # entry reads the growth of investor claims over this window
FAILURE_MEMORY_DAYS = 180  # and the failures of this window
# Inflows beyond 20% of claims over the funding window lower a platform's rate no further.
ABUNDANCE_CAP = 0.2


def owner_type_probs(capital: np.ndarray, share_ponzi: float, share_fraud: float,
                     capital_ref: float, elasticity: float, boom: float = 1.0) -> np.ndarray:
    """Probabilities of (honest, Ponzi, fraud) owners given registered capital.

    Fraud-prone shares scale as ``boom * share * (capital_ref / capital) ** elasticity`` and are
    capped so that they sum to at most 0.9: low-capital entrants are more often fraud-prone,
    which is the lever an entry threshold pulls [S0 §V.B, S1 §3(1)], and a boom draws more of
    them (``boom`` > 1, see :func:`enter`).
    """
    scale = boom * (capital_ref / np.maximum(capital, 1.0)) ** elasticity
    ponzi = share_ponzi * scale
    fraud = share_fraud * scale
    total = ponzi + fraud
    cap = np.where(total > 0.9, 0.9 / np.maximum(total, 1e-12), 1.0)
    ponzi, fraud = ponzi * cap, fraud * cap
    return np.stack([1.0 - ponzi - fraud, ponzi, fraud], axis=-1)


def expected_p2p_money(model: P2PModel) -> float:
    """Money investors are expected to hold in P2P at day 0, yuan.

    ``investors * wealth_min * alpha / (alpha - 1) * p2p_share_mean * initial_fill *
    initial_participation``: the mean of the Pareto wealth times the target share invested on
    day 0. Proportional to the number of investors, so balance sheets drawn from it do not
    depend on the sample's size.
    """
    ic = model.config.investors
    mean_wealth = ic.wealth_min * ic.wealth_alpha / (ic.wealth_alpha - 1.0)
    return (ic.count * mean_wealth * ic.p2p_share_mean * ic.initial_fill
            * ic.initial_participation)


def expected_claims(model: P2PModel, visibility: np.ndarray) -> np.ndarray:
    """Claims new platforms of this visibility can expect to attract, yuan.

    Investors consider platforms in proportion to visibility, so a platform's share of the
    money is about its share of visibility. On day 0 the money is :func:`expected_p2p_money`
    over every platform created together; later, an entrant expects the claims per unit of
    visibility of the open platforms.
    """
    plats = model.platforms
    n = plats.n
    open_ = plats.open_mask() if n else np.zeros(0, dtype=bool)
    weight = float(plats.visibility[:n][open_].sum()) if n else 0.0
    claims = float(plats.products[:n][open_].sum()) if n else 0.0
    if model.day == 0 or weight <= 0 or claims <= 0:
        return expected_p2p_money(model) * visibility / max(float(visibility.sum()), 1e-12)
    return claims / weight * visibility


def create_platforms(model: P2PModel, count: int, custom: list[CustomPlatform] | None = None,
                     rng: np.random.Generator | None = None, boom: float = 1.0) -> None:
    """Add ``count`` random platforms (and any custom ones); owners pay in their capital.

    Balance sheets do not depend on the sample's size: a platform's visibility sets the claims
    it can expect (:func:`expected_claims`), and its paid-in capital is those claims over its
    leverage, drawn lognormal (``leverage_median``, ``leverage_sigma``). Its *registered*
    capital, in real yuan, is that capital scaled by the real market's claims per platform
    (``real_claims_per_platform``) over the sample's; regulation and owner types refer to it.

    Every candidate's attributes are drawn before an entry threshold turns some away, so the
    admitted entrants are the same platforms, with the same draws, as without the threshold.

    Args:
        model: the model.
        count: random platforms to create.
        custom: named platforms from the scenario (day 0 only).
        rng: the generator to draw from (entry has its own stream).
        boom: multiplier of the fraud-prone shares (see :func:`owner_type_probs`).
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
    leverage = cfg.leverage_median * np.exp(cfg.leverage_sigma * rng.standard_normal(count))
    u = rng.random(count)
    rate_noise = rng.standard_normal(count)
    screening_noise = rng.standard_normal(count)
    visibility = np.exp(cfg.visibility_sigma * rng.standard_normal(count))
    business_model = rng.integers(0, cfg.business_models, count)
    leverage = np.r_[np.clip(leverage, 1.0, 200.0),
                     [cfg.leverage_median if c.leverage is None else c.leverage for c in custom]]
    capital = expected_claims(model, np.r_[visibility, [c.visibility for c in custom]]) / leverage
    if model.day == 0:
        plats.yuan_scale = cfg.real_claims_per_platform / max(
            expected_p2p_money(model) / total, 1e-12)
    registered = capital * plats.yuan_scale
    if model.day > 0:  # an entry threshold turns away entrants with too little capital
        admitted = (model.policies.admits(registered)
                    & model.shocks.admits(registered, model.day))
        capital, registered, u = capital[admitted], registered[admitted], u[admitted]
        rate_noise, screening_noise = rate_noise[admitted], screening_noise[admitted]
        visibility, business_model = visibility[admitted], business_model[admitted]
        total -= count - len(capital)
        count = len(capital)
        if total <= 0:
            return
    idx = np.arange(plats.n, plats.n + total)
    probs = owner_type_probs(registered[:count], cfg.share_ponzi, cfg.share_fraud,
                             cfg.fraud_capital_reference, cfg.fraud_capital_elasticity, boom)
    owner = (u[:, None] > np.cumsum(probs, axis=1)[:, :2]).sum(axis=1)
    rate = market_rate(model) + cfg.promised_rate_sd * rate_noise
    rate = rate + np.where(owner != Owner.HONEST, cfg.ponzi_rate_premium, 0.0)
    screening = np.clip(cfg.screening_mean + 0.15 * screening_noise, 0.05, 0.95)
    screening = np.where(owner != Owner.HONEST, screening * 0.3, screening)
    cols = {
        "owner": owner, "rate": rate, "screening": screening,
        "visibility": visibility, "demand_share": np.full(count, cfg.demand_share),
        "buffer_target": np.full(count, cfg.cash_buffer_target),
        "business_model": business_model,
    }
    for i, c in enumerate(custom):
        model_of = i % cfg.business_models if c.business_model is None else c.business_model
        cols["business_model"] = np.r_[cols["business_model"], model_of]
        cols["owner"] = np.r_[cols["owner"], ["honest", "ponzi", "fraud"].index(c.owner)]
        cols["rate"] = np.r_[cols["rate"], c.promised_rate]
        cols["screening"] = np.r_[cols["screening"],
                                  cfg.screening_mean if c.screening is None else c.screening]
        cols["visibility"] = np.r_[cols["visibility"], c.visibility]
        cols["demand_share"] = np.r_[cols["demand_share"],
                                     cfg.demand_share if c.demand_share is None else c.demand_share]
        cols["buffer_target"] = np.r_[cols["buffer_target"], cfg.cash_buffer_target
                                      if c.cash_buffer_target is None else c.cash_buffer_target]
    plats.capital[idx] = capital
    plats.registered_capital[idx] = registered
    plats.business_model[idx] = cols["business_model"]
    plats.owner[idx] = cols["owner"]
    plats.rate[idx] = np.clip(cols["rate"], cfg.rate_min, cfg.rate_max)
    plats.spread[idx] = cfg.borrower_spread
    plats.screening[idx] = cols["screening"]
    plats.visibility[idx] = cols["visibility"]
    plats.demand_share[idx] = cols["demand_share"]
    plats.buffer_target[idx] = cols["buffer_target"]
    plats.status[idx] = Status.ACTIVE
    plats.entry_day[idx] = model.day
    plats.cash[idx] = capital
    plats.n += total
    model.ledger.book("capital_in", idx, capital)
    model.channels.on_platforms_created(idx)
    model.policies.on_platforms_created(idx)
    names = [f"P{i:04d}" for i in idx[:count]] + [c.name for c in custom]
    model.add_platform_agents(idx, names)
    if model.day > 0:
        for i in idx:
            model.log_event(EventKind.ENTRY, int(i), owner=Owner(int(plats.owner[i])).name.lower(),
                            capital=float(plats.capital[i]),
                            registered_capital=float(plats.registered_capital[i]))


def claims_growth(model: P2PModel) -> float:
    """Annualised growth of investor claims over the last :data:`GROWTH_WINDOW_DAYS`.

    ``(claims_today / claims_then - 1) * 365 / window``, clipped to [-1, 10]; 0 before the
    window has passed.
    """
    history = model.platforms.claims_history
    if len(history) <= GROWTH_WINDOW_DAYS or history[-1 - GROWTH_WINDOW_DAYS] <= 0:
        return 0.0
    ratio = history[-1] / history[-1 - GROWTH_WINDOW_DAYS]
    return float(np.clip((ratio - 1.0) * rules.DAYS_PER_YEAR / GROWTH_WINDOW_DAYS, -1.0, 10.0))


def entry_rate(model: P2PModel) -> tuple[float, float]:
    """Entrants expected per year today, and the boom multiplier of fraud-prone shares.

    ``rate = entry_per_year * size^e * exp(g * growth + s * excess_spread - f * failure_rate)
    * (1 - r * regime)`` where ``size`` is investor claims relative to day 0 (a larger market has
    room for more platforms), ``growth`` is :func:`claims_growth`, ``excess_spread`` the mean
    promised rate over the outside rate beyond ``rate_premium`` (a yield above what investors
    need signals profits), ``failure_rate`` the failures of the last
    :data:`FAILURE_MEMORY_DAYS` per open platform, and ``regime`` 1 while a policy restricts
    entry (an entry threshold: registration). Entry follows profitability and falls with
    regulation and bad news (MODEL.md, "Entry and exit"; Bresnahan and Reiss 1991 on entry
    and market size). The boom multiplier is ``exp(b * max(growth, 0))``.
    """
    cfg = model.config.platforms
    plats = model.platforms
    growth = claims_growth(model)
    open_count = int(plats.open_mask().sum()) if plats.n else 0
    spread = market_rate(model) - model.conditions.outside_rate - cfg.rate_premium
    recent = sum(1 for f in model.failures if f["day"] > model.day - FAILURE_MEMORY_DAYS)
    failure_rate = recent / max(open_count, 1)
    exponent = (cfg.entry_growth_elasticity * growth + cfg.entry_spread_elasticity * spread
                - cfg.entry_failure_deterrence * failure_rate)
    regime = 1.0 if model.policies.restricts_entry() else 0.0
    history = plats.claims_history
    size = max(history[-1], 0.0) / history[0] if history and history[0] > 0 else 1.0
    rate = cfg.entry_per_year * size ** cfg.entry_size_elasticity * np.exp(min(exponent, 20.0)) * (
        1.0 - cfg.entry_regulation_deterrence * regime)
    return float(rate), float(np.exp(cfg.entry_boom_fraud * max(growth, 0.0)))


def enter(model: P2PModel) -> None:
    """New platforms arrive as a Poisson stream at :func:`entry_rate` [MODEL.md: entry over time].

    Entry has its own stream, so policies that change investors' draws do not change the draws
    entry makes: a policy comparison meets the same entrants as long as conditions agree
    (common random numbers), and entrants respond to the market when they do not.
    """
    rate, boom = entry_rate(model)
    k = model.entry_rng.poisson(rate / rules.DAYS_PER_YEAR)
    if k:
        create_platforms(model, int(k), rng=model.entry_rng, boom=boom)


def perceived_loss(model: P2PModel) -> np.ndarray:
    """The expected loss a typical investor perceives at each platform (share of a claim).

    The rule of :func:`sim.market.rules.perceived_failure_prob` for an investor of the
    investors' mean literacy and attention, with the mean fear, times loss given failure and the uncovered
    share: what a platform reads off its investors' behaviour when it prices its risk.
    """
    ic = model.config.investors
    plats, cond = model.platforms, model.conditions
    n = plats.n
    signal = np.minimum(true_risk(model, cond.fake_loan_visibility) + plats.signal_noise[:n]
                        + cond.price_signal[:n], 1.0)
    news = ((plats.status[:n] == Status.DISTRESSED) + cond.news[:n] + cond.information_news[:n])
    inv = model.investors
    literacy, attention = inv.trait_means() if inv.count else (ic.literacy_mean,
                                                                ic.attention_mean)
    fail = rules.perceived_failure_prob(literacy, signal, ic.prior_failure_prob, attention, news,
                                        ic.news_weight, inv.mean_fear(), 0.0, ic.delay_fear)
    cover = np.minimum(cond.coverage[:n] + cond.guarantee_cover[:n], 1.0)
    return rules.expected_loss(fail, ic.loss_given_failure, cover)


def update_pricing(model: P2PModel) -> None:
    """Platforms move their promised rate part of the way to a target each day.

    ``target = w * peers + (1 - w) * (outside + premium + k * perceived_loss) + f * drain``,
    where ``peers`` is the claims-weighted mean rate of open platforms, ``perceived_loss`` is
    :func:`perceived_loss`, and ``drain`` the net outflow over the funding window as a share of
    claims, negative when money flows in but at most ``ABUNDANCE_CAP`` of it counts: platforms
    bid hard for money they lose and cut rates less for money they are offered). The gap closes with half-life ``rate_adjust_days``,
    at most ``rate_step`` a day, within ``[rate_min, rate_max]``.

    Platforms compete for inflows against peers and the outside option, price their own risk,
    and bid rates up when they lose funding, so a platform's rate can rise in a run while the
    market's trend falls (MODEL.md, Pricing; deposit-rate competition under funding pressure,
    Acharya and Mora 2015; after a large fraud rates rose at unrelated platforms, Cheng, Leite
    and Caldieraro 2020). As inflows grow and perceived risk settles, rates drift toward
    ``outside + premium``: yields fell from about 20% to 9-10% between 2013 and 2017.
    """
    cfg = model.config.platforms
    plats = model.platforms
    n = plats.n
    open_ = plats.open_mask()
    if not open_.any():
        return
    claims = plats.products[:n]
    weights = np.where(open_, claims, 0.0)
    peers = (float(np.average(plats.rate[:n], weights=weights)) if weights.sum() > 0
             else float(plats.rate[:n][open_].mean()))
    own = model.conditions.outside_rate + cfg.rate_premium + cfg.rate_risk_weight * perceived_loss(
        model)
    net = plats.deposits_window[:n].sum(axis=1) - plats.payouts_window[:n].sum(axis=1)
    drain = np.clip(-net / np.maximum(claims, 1.0), -ABUNDANCE_CAP, 1.0)
    target = (cfg.rate_peer_weight * peers + (1.0 - cfg.rate_peer_weight) * own
              + cfg.rate_funding_weight * drain)
    speed = 1.0 - 0.5 ** (1.0 / cfg.rate_adjust_days)
    change = np.clip(speed * (target - plats.rate[:n]), -cfg.rate_step, cfg.rate_step)
    change = np.where(open_, change, 0.0)
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
    ``cash > spread * loans * horizon / 365 * h^2`` and cash exceeds ``abscond_min_cash`` of
    its claims.
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
    runs = candidates & (plats.cash[:n] > carry_on) & (plats.cash[:n] > cfg.abscond_min_cash * plats.products[:n])
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
                           "business_model": int(plats.business_model[i]),
                           "claims": float(plats.products[i]),
                           "contributions": contributions})
    kind = {Status.FAILED: EventKind.FAILURE,
            Status.ABSCONDED: EventKind.ABSCONDED}.get(status, EventKind.CLOSURE)
    model.log_event(kind, i, cause=cause, channel=channel, parent=parent, equity=true_equity,
                    claims=float(plats.products[i]), **details)
    model.channels.on_losses(slots // inv.slots, np.full(len(slots), i))
    leave_after_loss(model, slots // inv.slots)
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


def leave_after_loss(model: P2PModel, owners: np.ndarray) -> None:
    """Investors ``owners`` lost money at a failed platform; some leave P2P for good.

    Each leaves with probability ``exit_after_loss``: it invests nothing new, and what it holds
    runs off.
    """
    p = model.config.investors.exit_after_loss
    if p <= 0 or len(owners) == 0:
        return
    owners = np.unique(owners)
    leaving = owners[model.rng.random(len(owners)) < p]
    model.investors.participating[leaving] = False
    model.investors.left[leaving] = True
