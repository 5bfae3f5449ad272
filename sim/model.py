"""The P2P lending market as a Mesa model: wiring and the order of a day.

One step is one day. :meth:`P2PModel.step` spells out the phases and why they come in that order.
Population state lives in arrays (:mod:`sim.state`); behaviour rules are formulas in
:mod:`sim.rules`, applied to the whole population at once (``engine = "array"``) or agent by agent
through the Mesa agents (``engine = "object"``, the executable specification). Both consume the
same random draws in the same order, so they give identical results.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import mesa
import numpy as np
import pandas as pd

from sim import metrics
from sim.config import Scenario
from sim.market import flows as market
from sim.market import lifecycle as platforms
from sim.market import rules
from sim.market.agents import Borrower, Investor, Platform
from sim.market.ledger import Ledger
from sim.market.state import (
    NEVER,
    NO_PLATFORM,
    BorrowerArrays,
    Holdings,
    InvestorArrays,
    LoanBook,
    PlatformArrays,
    PositionIndex,
    Status,
    sum_by,
)
from sim.mechanisms import shocks
from sim.mechanisms.channels import Channels
from sim.mechanisms.policies import Policies

AGENT_VIEW_LIMIT = 10_000  # above this, investor/borrower agents are made on demand only
MIN_TICKET = 100.0  # yuan: the smallest position platforms accepted
SIGNAL_PERSISTENCE_DAYS = 30.0  # autocorrelation time of investors' signal noise
FEAR_CAP = 0.02  # fear above which an investor's positions skip the redemption bound
# Investors are grouped by risk tolerance (16 equal bins of [0, 1]; a power of two, so the bin
# edges are exact) for a per-group bound on the early-redemption probability.
TOLERANCE_GROUPS = 16


@dataclass
class StepContext:
    """Platform-level quantities and parameters every investor and borrower rule reads today."""

    day: int
    signal: np.ndarray
    news: np.ndarray
    rate: np.ndarray
    coverage: np.ndarray
    operating: np.ndarray
    redeemable: np.ndarray  # operating and not gated: early redemption possible
    open: np.ndarray
    sector_multiplier: np.ndarray
    prior: float
    news_weight: float
    delay_fear: float
    liquidity_need: float
    panic_max: float
    panic_threshold: float
    loss_given_failure: float
    outside_rate: float
    sensitivity: float
    review_days: float
    min_ticket: float
    max_lenders: int
    apply_per_year: float


@dataclass
class InvestorDecisions:
    redeem: np.ndarray  # demand positions redeemed early
    maturing: np.ndarray  # term positions maturing today
    maturing_held: np.ndarray | None  # their position records as read today (array engine)
    roll: np.ndarray  # bool per maturing position
    choosers: np.ndarray  # investors opening a position
    amounts: np.ndarray
    choice: np.ndarray  # platform per chooser, -1 = outside option
    u_demand: np.ndarray
    u_term: np.ndarray
    panicked: np.ndarray  # positions redeemed early from a platform under bad news


def _beta(rng: np.random.Generator, mean: float, size: int, concentration: float = 4.0):
    m = min(max(mean, 1e-3), 1 - 1e-3)
    return rng.beta(m * concentration, (1 - m) * concentration, size)


SEARCH_BUCKETS = 4096  # buckets of the table in bucketed_searchsorted


def bucketed_searchsorted(cum: np.ndarray, x: np.ndarray, total: float) -> np.ndarray:
    """``np.searchsorted(cum, x, side="right")`` for ``0 <= x <= total``, mostly by table.

    ``[0, total]`` is cut into :data:`SEARCH_BUCKETS` equal buckets. The answer is monotone in
    ``x``, so a value whose bucket and both neighbours (rounding of the bucket index can be
    off by one) hold no entry of ``cum`` has the answer at the edges of that span, looked up
    in a table; only the values in the few spans with an entry are searched. The result is
    exactly that of the search.
    """
    if x.size < 4 * SEARCH_BUCKETS:  # the table costs more than it saves
        return np.searchsorted(cum, x, side="right")
    edges = np.arange(-1, SEARCH_BUCKETS + 2) * (total / SEARCH_BUCKETS)
    at_edge = np.searchsorted(cum, edges, side="right")
    low, high = at_edge[:-3], at_edge[3:]  # bucket b spans edges b - 1 .. b + 2
    bucket = np.minimum((x * (SEARCH_BUCKETS / total)).astype(np.intp), SEARCH_BUCKETS - 1)
    out = np.take(low, bucket)
    unsure = np.flatnonzero(np.take(high, bucket) != out)
    flat = out.reshape(-1)
    flat[unsure] = np.searchsorted(cum, x.reshape(-1)[unsure], side="right")
    return out


def tolerance_group(risk_tolerance: np.ndarray) -> np.ndarray:
    """Risk-tolerance group of each investor: ``floor(tolerance * TOLERANCE_GROUPS)``, capped.

    Group ``g`` holds tolerances in ``[g, g + 1) / TOLERANCE_GROUPS`` (the last also holds 1).
    Risk tolerance is fixed after the investors are created, so the groups are computed once.
    """
    group = np.floor(np.clip(risk_tolerance, 0.0, 1.0) * TOLERANCE_GROUPS)
    return np.minimum(group, TOLERANCE_GROUPS - 1).astype(np.int8)


class P2PModel(mesa.Model):
    """Platforms, investors and borrowers of a P2P lending market.

    Args:
        config: a validated :class:`sim.config.Scenario` (defaults to the built-in baseline).
        seed: overrides ``config.run.seed``.
        check_invariants: overrides ``config.run.check_invariants``.
        engine: overrides ``config.run.engine`` ("array" or "object").
    """

    def __init__(self, config: Scenario | None = None, *, seed: int | None = None,
                 check_invariants: bool | None = None, engine: str | None = None) -> None:
        config = config or Scenario()
        seed = config.run.seed if seed is None else int(seed)
        super().__init__(rng=seed)
        # A second stream, derived from the same seed, for platform entry (common random numbers
        # across policies; see sim.platforms.enter).
        self.entry_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
        self.config = config
        self.seed = seed
        self.engine = engine or config.run.engine
        self.check_invariants = (config.run.check_invariants if check_invariants is None
                                 else check_invariants)
        self.day = 0
        pc, ic, bc = config.platforms, config.investors, config.borrowers
        capacity = pc.max_platforms
        self.platforms = PlatformArrays(capacity)
        window = pc.funding_window_days
        self.platforms.deposits_window = np.zeros((capacity, window))
        self.platforms.payouts_window = np.zeros((capacity, window))
        self.window_col = 0
        self.investors = InvestorArrays(ic.count, ic.max_holdings)
        self.holdings = Holdings(self.investors.pos_platform)  # positions by platform
        self.borrowers = BorrowerArrays(bc.count)
        self.loans = LoanBook(capacity=max(1024, 4 * bc.count))
        self.ledger = Ledger(capacity)
        self.queue = np.empty(0, dtype=np.int64)  # slots with unpaid requests, in arrival order
        self.position_index = PositionIndex()  # grouped once investors exist
        self.events: list[dict] = []
        self.failures: list[dict] = []
        self.exit_reason: dict[int, str] = {}
        self.platform_agents: list[Platform] = []
        self.investor_agents: list[Investor] = []
        self.borrower_agents: list[Borrower] = []
        self.flows_today: defaultdict[str, float] = defaultdict(float)
        # Hooks for shocks, contagion channels and policies.
        self.coverage = np.zeros(capacity)  # protection cover investors count on (policies)
        self.guarantee_cover = np.zeros(capacity)  # cover of a solvent third-party guarantor
        self.news_shock = np.zeros(capacity)  # rumours and regulatory warnings
        self.news_parts = {"information": np.zeros(capacity)}  # news carried by channels
        self.signal_extra = np.zeros(capacity)  # risk read from debt-transfer prices
        self.outage = self.platforms.outage
        self.liquidity_multiplier = 1.0  # scales investors' ordinary redemption need (shocks)
        self.shock_targets: dict[int, int] = {}
        self.noncompliant: dict[int, np.ndarray] = {}
        self.signal_noise_scale = ic.signal_noise  # disclosure policy may lower it
        self.fake_loan_visibility = ic.fake_loan_visibility  # disclosure policy may raise it
        self.fire_sale_impact_on = True  # the fire-sale channel's switch sets it
        self.requests_today = np.zeros(capacity)  # yuan requested at each platform today
        # Market rules that policies may tighten (see sim.policies.Policies.configure).
        self.product_terms = np.asarray(pc.product_terms_days)
        self.max_lenders = bc.max_lenders
        self.loan_size_cap = np.inf
        self.misreport_strength = bc.misreport_strength
        self.channels = Channels(self)
        self.policies = Policies(self)
        self.policies.configure()
        self.sector_multiplier = np.ones(bc.sectors)  # credit-shock hazard multipliers
        self.outside_rate = config.market.outside_rate
        self.fire_sold_yesterday = 0.0
        self.live_loans_yesterday = 0.0
        self.discount_today = config.market.transfer_discount

        self._init_platforms()
        shocks.check_targets(self)
        savings_rate = config.investors.savings_rate
        self._daily_savings = None
        self._daily_savings_total = 0.0
        self._init_investors()
        self.policies.on_investors_created()
        self.position_index = PositionIndex(tolerance_group(self.investors.risk_tolerance),
                                            self.investors.slots, TOLERANCE_GROUPS)
        self._init_borrowers()
        self._initial_allocation()
        self._initial_lending()
        if savings_rate > 0:  # constant: computed once
            self._daily_savings = self.investors.initial_wealth * (savings_rate
                                                                   / rules.DAYS_PER_YEAR)
            self._daily_savings_total = float(self._daily_savings.sum())
        self.recorder = metrics.Recorder(self)
        self.recorder.collect(self)
        if self.check_invariants:
            self.ledger.check(self)

    # ------------------------------------------------------------------ set-up
    def _init_platforms(self) -> None:
        pc = self.config.platforms
        platforms.create_platforms(self, pc.count, pc.custom)
        self.platforms.signal_noise[: self.platforms.n] = (
            self.signal_noise_scale * self.rng.standard_normal(self.platforms.n))

    def _init_investors(self) -> None:
        ic, inv, rng = self.config.investors, self.investors, self.rng
        n = inv.count
        wealth = ic.wealth_min * (1.0 + rng.pareto(ic.wealth_alpha - 0.0, n))
        inv.cash[:] = wealth
        inv.initial_wealth[:] = wealth
        inv.target_share[:] = _beta(rng, ic.p2p_share_mean, n)
        inv.literacy[:] = _beta(rng, ic.literacy_mean, n)
        inv.risk_tolerance[:] = _beta(rng, ic.risk_tolerance_mean, n)
        inv.attention[:] = _beta(rng, ic.attention_mean, n)
        self.ledger.opening_investor_cash = float(wealth.sum())
        if self.engine == "object" or n <= AGENT_VIEW_LIMIT:
            self.investor_agents = [Investor(self, i) for i in range(n)]

    def _init_borrowers(self) -> None:
        self._draw_borrowers(np.arange(self.borrowers.count))
        if self.engine == "object" or self.borrowers.count <= AGENT_VIEW_LIMIT:
            self.borrower_agents = [Borrower(self, i) for i in range(self.borrowers.count)]

    def _draw_borrowers(self, idx: np.ndarray) -> None:
        """Fresh borrowers (at start, and to replace those who defaulted)."""
        bc, b, rng = self.config.borrowers, self.borrowers, self.rng
        k = len(idx)
        if k == 0:
            return
        m = bc.pd_mean
        true_pd = rng.beta(m * bc.pd_concentration, (1 - m) * bc.pd_concentration, k) if 0 < m < 1 \
            else np.full(k, m)
        misreports = rng.random(k) < bc.misreport_share
        b.true_pd[idx] = true_pd
        b.reported_pd[idx] = np.where(misreports, true_pd * (1 - self.misreport_strength), true_pd)
        b.sector[idx] = rng.integers(0, bc.sectors, k)
        b.loan_size[idx] = np.minimum(
            bc.loan_size_median * np.exp(bc.loan_size_sigma * rng.standard_normal(k)),
            self.loan_size_cap)
        b.n_loans[idx] = 0
        b.refinancing_stress[idx] = 0.0

    def _initial_allocation(self) -> None:
        """Day 0: investors fill their slots, with term maturities spread over the product terms."""
        ic, inv = self.config.investors, self.investors
        ctx = self._context()
        every = np.arange(inv.count)
        per_slot = ic.initial_fill * inv.target_share * inv.initial_wealth / inv.slots
        menu = self.product_terms
        for _ in range(inv.slots):
            ok = every[per_slot >= MIN_TICKET]
            considered = self._consideration_sets(self.rng.random((len(ok), ic.consideration_set)))
            if considered is None:
                return
            choice = self._choices_array(ctx, ok, considered, self.rng.random(len(ok)))
            u_demand, u_term = self.rng.random(len(ok)), self.rng.random(len(ok))
            chosen = choice >= 0
            who, where = ok[chosen], choice[chosen]
            demand = u_demand[chosen] < self.platforms.demand_share[where]
            # Positions outstanding at a moment are length-biased: a product twice as long is
            # twice as likely to be found open, so day-0 terms are drawn with weight ~ term.
            weight = np.cumsum(menu) / menu.sum()
            terms = menu[np.minimum(np.searchsorted(weight, u_term[chosen], side="right"),
                                    len(menu) - 1)]
            # Spread first maturities uniformly over the term so day-0 cohorts do not bunch.
            first = 1 + (self.rng.random(len(who)) * terms).astype(np.int64)
            market.open_positions(self, who, where, per_slot[who], demand, first)
        self.platforms.deposits_window[:] = 0.0
        self.flows_today.clear()

    def _initial_lending(self) -> None:
        """Day 0: platforms lend out their funds; loans are seasoned so maturities are spread."""
        start = self.loans.n
        for round_ in range(4):  # several rounds: one pass leaves applicants unmatched
            capacity = self.borrowers.n_loans < self.max_lenders
            market.lend(self, np.flatnonzero(capacity), divert=round_ == 0)
        rows = np.arange(start, self.loans.n)
        rows = rows[~self.loans.fake[rows]]
        term = np.maximum(self.loans.maturity[rows] - self.day, 1)
        remaining = 1 + (self.rng.random(len(rows)) * term).astype(np.int64)
        self.loans.maturity[rows] = self.day + remaining
        self.loans.instalment[rows] = self.loans.principal[rows] / remaining
        self.flows_today.clear()

    # ------------------------------------------------------------------ the day
    def step(self) -> None:
        """Advance one day.

        Order, and why:
        1. Shocks and policies open the day, so their effect shows in today's data.
        2. Borrowers repay, then default, then apply: repayments fund today's payouts, and a
           defaulted borrower cannot borrow again the same day.
        3. Investors decide from the start-of-day state (simultaneous decisions: no investor sees
           another's choice of the same day): early redemptions, roll-overs, new positions.
        4. Platforms take deposits before paying, so new inflows can pay old investors (exactly
           what keeps a Ponzi scheme alive), then pay requests first come, first served.
        5. Platforms lend only what is left above their cash buffer after paying.
        6. Status, absconding, exits and pricing react to the day's flows; estates pay out.
        7. Entrants arrive last, so they start trading tomorrow.
        """
        self.day += 1
        self.flows_today = defaultdict(float)
        self.window_col = self.day % self.platforms.deposits_window.shape[1]
        self.platforms.deposits_window[:, self.window_col] = 0.0
        self.platforms.payouts_window[:, self.window_col] = 0.0
        self.discount_today = market.transfer_discount(self)
        shocks.apply_shocks(self)
        self.channels.start_of_day()
        self.policies.start_of_day()
        self._update_signals()

        self._receive_savings()
        market.collect_repayments(self)
        ctx = self._context()
        defaulted, applicants = self._borrower_phase(ctx)
        market.default_loans(self, defaulted)
        self._draw_borrowers(defaulted)

        decisions = self._investor_phase(ctx)
        self._apply_investor_decisions(decisions)
        market.pay_requests(self)

        market.lend(self, applicants)
        market.operating_costs(self)

        platforms.update_status(self)
        self.policies.end_of_day()
        platforms.abscond(self)
        platforms.orderly_exits(self)
        platforms.update_pricing(self)
        platforms.resolve(self)
        platforms.enter(self)

        self.investors.decay_fear(0.5 ** (1.0 / self.config.investors.fear_half_life_days))
        self.fire_sold_yesterday = self.flows_today["fire_sold"]
        self.live_loans_yesterday = float(self.platforms.loans[: self.platforms.n].sum())
        self.recorder.collect(self)
        if self.check_invariants:
            self.ledger.check(self)

    def _receive_savings(self) -> None:
        """New savings arrive as cash: ``savings_rate * initial_wealth / 365`` a day per investor."""
        if self._daily_savings is None:
            return
        self.investors.cash += self._daily_savings
        self.ledger.savings += self._daily_savings_total

    # ------------------------------------------------------------------ inputs of rules
    def market_rate(self) -> float:
        """Mean promised rate of open platforms (the going rate entrants price against)."""
        if self.platforms.n == 0:
            return self.config.platforms.promised_rate_mean
        open_ = self.platforms.open_mask()
        if not open_.any():
            return self.config.platforms.promised_rate_mean
        return float(self.platforms.rate[: self.platforms.n][open_].mean())

    def true_risk(self, fake_visibility: float = 1.0) -> np.ndarray:
        """Each platform's annual expected loss on claims: fake loans plus credit losses.

        ``(fake_visibility * fake_loans + sum(loan * pd * (1 - recovery))) / products``, capped
        at 1. With ``fake_visibility = 1`` it is what a fully informed investor would expect to
        lose in a year; investors' signal sees only the visible share of a Ponzi book's fake
        loans (``investors.fake_loan_visibility``, raised by disclosure).
        """
        plats, book = self.platforms, self.loans
        n = plats.n
        # A pass over the whole block of rows (see LoanBook.repaying): masked rows add zero.
        rows = slice(0, book.n)
        weighted = book.principal[rows] * book.pd[rows]  # = true_pd[borrower] (see LoanBook.pd)
        weighted[~book.repaying()] = 0.0
        expected = sum_by(book.platform[rows], weighted, n)
        expected *= 1.0 - self.config.borrowers.default_recovery
        return np.minimum((fake_visibility * plats.fake_loans[:n] + expected)
                          / np.maximum(plats.products[:n], 1.0), 1.0)

    def _update_signals(self) -> None:
        """Persistent (AR(1)) noise in investors' signal of true risk; disclosure scales it."""
        plats = self.platforms
        n = plats.n
        rho = np.exp(-1.0 / SIGNAL_PERSISTENCE_DAYS)
        shock = self.rng.standard_normal(n)
        plats.signal_noise[:n] = (rho * plats.signal_noise[:n]
                                  + np.sqrt(1 - rho**2) * self.signal_noise_scale * shock)

    def _context(self) -> StepContext:
        ic = self.config.investors
        plats = self.platforms
        n = plats.n
        # Noise is not clipped at zero: clipping would bias every signal upward, most for the
        # safest platforms, so that less noise (disclosure) would make every platform look
        # safer at once. The perceived probability is clipped instead.
        signal = np.minimum(self.true_risk(self.fake_loan_visibility) + plats.signal_noise[:n]
                            + self.signal_extra[:n], 1.0)
        news = ((plats.status[:n] == Status.DISTRESSED).astype(float) + self.news_shock[:n]
                + self.news_parts["information"][:n])
        coverage = np.minimum(self.coverage[:n] + self.guarantee_cover[:n], 1.0)
        return StepContext(
            day=self.day, signal=signal, news=news, rate=plats.rate[:n].copy(),
            coverage=coverage, operating=plats.operating_mask(), open=plats.open_mask(),
            redeemable=plats.operating_mask() & (plats.gate_until[:n] <= self.day),
            sector_multiplier=self.sector_multiplier, prior=ic.prior_failure_prob,
            news_weight=ic.news_weight, delay_fear=ic.delay_fear,
            liquidity_need=ic.liquidity_need_per_year * self.liquidity_multiplier, panic_max=ic.panic_redemption,
            panic_threshold=ic.panic_threshold, loss_given_failure=ic.loss_given_failure,
            outside_rate=self.outside_rate, sensitivity=ic.choice_sensitivity,
            review_days=ic.review_days, min_ticket=MIN_TICKET,
            max_lenders=self.max_lenders,
            apply_per_year=self.config.borrowers.apply_per_year)

    # ------------------------------------------------------------------ borrowers
    def _borrower_phase(self, ctx: StepContext) -> tuple[np.ndarray, np.ndarray]:
        """Which borrowers default today and which apply for a loan."""
        b = self.borrowers
        u_default = self.rng.random(b.count)
        u_apply = self.rng.random(b.count)
        if self.engine == "object":
            defaulted = np.array([a.index for a in self.borrower_agents
                                  if a.defaults_today(ctx, u_default[a.index])], dtype=np.int64)
            applying = np.array([a.index for a in self.borrower_agents
                                 if a.applies_today(ctx, u_apply[a.index])], dtype=np.int64)
        else:
            # Exact thinning: only borrowers whose draw lies under the population-wide bound
            # on the daily default probability need the full rule.
            bound = rules.daily_default_prob(
                b.true_pd.max(initial=0.0),
                ctx.sector_multiplier.max() * (1.0 + b.refinancing_stress.max(initial=0.0)))
            maybe = np.flatnonzero(u_default < bound * (1.0 + 1e-9) + 1e-15)
            multiplier = ctx.sector_multiplier[b.sector[maybe]] * (1.0 + b.refinancing_stress[maybe])
            defaulted = maybe[u_default[maybe] < rules.daily_default_prob(b.true_pd[maybe],
                                                                         multiplier)]
            applying = np.flatnonzero(rules.applies_for_loan(
                u_apply, ctx.apply_per_year, b.n_loans < ctx.max_lenders))
        # Both are sorted and distinct: drop the few defaulted applicants by binary search
        # (the same as np.setdiff1d, without its pass over the applicants per defaulter).
        at = np.searchsorted(applying, defaulted)
        inside = at < len(applying)
        at = at[inside][applying[at[inside]] == defaulted[inside]]
        return defaulted, np.delete(applying, at)

    # ------------------------------------------------------------------ investors
    def _investor_phase(self, ctx: StepContext) -> InvestorDecisions:
        """Draw the day's uniforms once, then let the chosen engine apply the rules."""
        inv, rng = self.investors, self.rng
        if self.engine == "object":
            candidates, maturing = [], []
            for a in self.investor_agents:
                candidates += a.redemption_candidates(ctx)
                maturing += a.maturing_positions(ctx)
            candidates = np.array(candidates, dtype=np.int64)
            maturing = np.array(maturing, dtype=np.int64)
        else:
            # Keys are platform * TOLERANCE_GROUPS + the owner's risk-tolerance group.
            candidates, keys = self.position_index.demand_entries(inv.pos_demand,
                                                                  inv.pos_platform)
            if not ctx.redeemable.all():  # skip the filter in the common all-open case
                open_ = np.repeat(ctx.redeemable, TOLERANCE_GROUPS)[keys]
                candidates, keys = candidates[open_], keys[open_]
            # Whole records, read once: the roll-over rule and the interest use them too.
            maturing, held = self.position_index.maturing_records(ctx.day, inv.positions)
            due = (held["request"] < 0) & ctx.operating[held["platform"]]
            maturing, held = maturing[due], held[due]
        u_redeem = rng.random(len(candidates))
        if self.engine == "object":
            agents = self.investor_agents
            redeem = np.array([s for s, u in zip(candidates, u_redeem, strict=True)
                               if agents[s // inv.slots].redeems_early(ctx, s, u)], dtype=np.int64)
        else:
            redeem = self._redemptions_array(ctx, candidates, keys, u_redeem)
        u_roll = rng.random(len(maturing))
        if self.engine == "object":
            agents = self.investor_agents
            roll = np.array([agents[s // inv.slots].rolls_over(ctx, s, u)
                             for s, u in zip(maturing, u_roll, strict=True)], dtype=bool)
        else:
            roll = self._rollovers_array(ctx, maturing, u_roll, held["platform"])

        u_review = rng.random(inv.count)
        if self.engine == "object":
            tickets = [(a.index, a.ticket(ctx, u_review[a.index])) for a in self.investor_agents]
            choosers = np.array([i for i, t in tickets if t > 0], dtype=np.int64)
            amounts = np.array([t for _, t in tickets if t > 0], dtype=float)
        else:
            choosers, amounts = self._tickets_array(ctx, u_review)
        m = len(choosers)
        considered = self._consideration_sets(rng.random((m, self.config.investors.consideration_set)))
        u_choice, u_demand, u_term = rng.random(m), rng.random(m), rng.random(m)
        if considered is None:
            choice = np.full(m, -1)
        elif self.engine == "object":
            choice = np.array([self.investor_agents[i].choose_platform(ctx, considered[j], u_choice[j])
                               for j, i in enumerate(choosers)], dtype=np.int64)
        else:
            choice = self._choices_array(ctx, choosers, considered, u_choice)
        panicked = redeem[ctx.news[inv.pos_platform[redeem]] > 0]
        return InvestorDecisions(redeem, maturing, None if self.engine == "object" else held, roll,
                                 choosers, amounts, choice, u_demand, u_term, panicked)

    def _redemptions_array(self, ctx: StepContext, cand: np.ndarray, keys: np.ndarray,
                           u: np.ndarray) -> np.ndarray:
        """Array form of :meth:`Investor.redeems_early`, evaluated only where it can matter.

        The rule is ``u < prob(position)``. Per platform and risk-tolerance group (see
        :func:`tolerance_group`), ``prob`` has a cheap upper bound: every investor term at its
        largest and the tolerance at the group's lower edge (``prob`` falls with tolerance).
        Positions whose ``u`` lies above their bound cannot redeem and are skipped; the rest get
        the full rule. The decisions are exactly those of the rule applied everywhere, at a
        fraction of the cost in calm times.

        Args:
            ctx: today's context.
            cand: sorted candidate positions.
            keys: ``platform * TOLERANCE_GROUPS + group`` of each (see :class:`PositionIndex`).
            u: their uniform draws.
        """
        inv = self.investors
        # Investors whose fear exceeds FEAR_CAP are few; their positions get the full rule,
        # so the bound for everyone else can use the cap instead of the largest fear.
        fearful = inv.fearful(FEAR_CAP)
        fp_bound = np.minimum(
            np.maximum(ctx.prior, ctx.signal) + ctx.news_weight * np.maximum(ctx.news, 0.0)
            + FEAR_CAP + ctx.delay_fear * self.platforms.delay_seen[: self.platforms.n], 1.0)
        lowest_tolerance = np.arange(TOLERANCE_GROUPS) / TOLERANCE_GROUPS
        bound = rules.early_redemption_prob(
            rules.expected_loss(fp_bound, ctx.loss_given_failure, 0.0)[:, None],
            lowest_tolerance, ctx.liquidity_need, ctx.panic_max, ctx.panic_threshold)
        bound = (bound * (1.0 + 1e-9) + 1e-12).ravel()  # by key; never below the rule
        # One pass: the bound table is small (it stays in cache), and a scalar test against
        # its largest entry passes a quarter of the candidates when one platform looks risky.
        keep = np.flatnonzero(u < np.take(bound, keys))
        if len(fearful):
            chosen = np.zeros(len(cand), dtype=bool)
            chosen[keep] = True
            if len(fearful) * inv.slots * 16 < len(cand):  # few: look their slots up
                slots = (fearful[:, None] * inv.slots + np.arange(inv.slots)).ravel()
                slots = slots.astype(cand.dtype)  # same dtype: no conversion of cand
                at = np.searchsorted(cand, slots)  # cand is sorted: equal entries are candidates
                inside = at < len(cand)
                chosen[at[inside][cand[at[inside]] == slots[inside]]] = True
            else:  # many (after a wave of delays): flag their candidates in one pass
                is_fearful = np.zeros(inv.count, dtype=bool)
                is_fearful[fearful] = True
                chosen |= np.take(is_fearful, cand // inv.slots)
            keep = np.flatnonzero(chosen)
        cand, p, u = cand[keep], keys[keep] // TOLERANCE_GROUPS, u[keep]
        literacy, tolerance, attention, fear = inv.traits(cand // inv.slots)
        fp = rules.perceived_failure_prob(
            literacy, ctx.signal[p], ctx.prior, attention, ctx.news[p],
            ctx.news_weight, fear, inv.pos_delayed[cand], ctx.delay_fear)
        loss = rules.expected_loss(fp, ctx.loss_given_failure, ctx.coverage[p])
        prob = rules.early_redemption_prob(loss, tolerance, ctx.liquidity_need,
                                           ctx.panic_max, ctx.panic_threshold)
        return cand[u < prob]

    def _rollovers_array(self, ctx: StepContext, maturing: np.ndarray, u: np.ndarray,
                         p: np.ndarray) -> np.ndarray:
        """Array form of :meth:`Investor.rolls_over`; ``p`` is each position's platform."""
        inv = self.investors
        literacy, tolerance, attention, fear = inv.traits(maturing // inv.slots)
        fp = rules.perceived_failure_prob(
            literacy, ctx.signal[p], ctx.prior, attention, ctx.news[p],
            ctx.news_weight, fear, inv.pos_delayed[maturing], ctx.delay_fear)
        y = rules.risk_adjusted_yield(ctx.rate[p], fp, ctx.loss_given_failure, ctx.coverage[p],
                                      tolerance)
        return ctx.open[p] & (u < rules.rollover_prob(y, ctx.outside_rate, ctx.sensitivity))

    def _tickets_array(self, ctx: StepContext, u_review: np.ndarray):
        """Array form of :meth:`Investor.ticket`: who opens a position today, and how much."""
        inv = self.investors
        k = inv.slots
        # Most investors hold a position in every slot and so cannot open one: only those with
        # a free slot (free_slots, then the positions themselves) are looked at, and they are
        # kept as a list, so that the review draws are read at them alone.
        rev = inv.with_free_slots()
        if 4 * len(rev) < inv.count:
            rev = rev[rules.reviews_today(np.take(u_review, rev), ctx.review_days)]
        else:  # many have a free slot: test the draws in order, then the slots
            rev = np.flatnonzero(rules.reviews_today(u_review, ctx.review_days))
            rev = rev[np.take(inv.free_slots, rev) > 0]
        # Whole position records (np.take would copy a field view in full first).
        held = np.take(inv.positions.reshape(-1, k), rev, axis=0)
        platform = held["platform"]
        empty = np.zeros(len(rev), dtype=np.int64)
        for j in range(k):  # by column: numpy reduces a short last axis slowly
            empty += platform[:, j] == NO_PLATFORM
        can = empty > 0
        rev, empty, held = rev[can], empty[can], held[can]
        cash = np.take(inv.cash, rev)
        funded = cash >= ctx.min_ticket  # cheap pre-filter: the ticket is at most cash
        rev, empty, cash, principal = rev[funded], empty[funded], cash[funded], held[funded]
        principal = principal["principal"]
        invested = np.zeros(len(rev))
        for j in range(k):  # column by column: the same summation order as the object form
            invested = invested + principal[:, j]
        amount = rules.ticket_size(cash, cash + invested, np.take(inv.target_share, rev),
                                   invested, empty)
        ok = amount >= ctx.min_ticket
        return rev[ok], amount[ok]

    def _consideration_sets(self, u: np.ndarray) -> np.ndarray | None:
        """Platforms each chooser compares, drawn with replacement in proportion to visibility."""
        plats = self.platforms
        weight = np.where(plats.open_mask(), plats.visibility[: plats.n], 0.0)
        total = weight.sum()
        if total <= 0:
            return None
        cum = np.cumsum(weight)
        return np.minimum(bucketed_searchsorted(cum, u * total, total), plats.n - 1)

    def _choices_array(self, ctx: StepContext, choosers: np.ndarray, considered: np.ndarray,
                       u: np.ndarray) -> np.ndarray:
        """Array form of :meth:`Investor.choose_platform`."""
        inv = self.investors
        literacy, tolerance, attention, fear = (t[:, None] for t in inv.traits(choosers))
        fp = rules.perceived_failure_prob(
            literacy, ctx.signal[considered], ctx.prior, attention,
            ctx.news[considered], ctx.news_weight, fear, False, ctx.delay_fear)
        utilities = np.empty((len(choosers), considered.shape[1] + 1))
        utilities[:, 0] = ctx.outside_rate
        utilities[:, 1:] = rules.risk_adjusted_yield(
            ctx.rate[considered], fp, ctx.loss_given_failure, ctx.coverage[considered],
            tolerance)
        pick = rules.choose_option(utilities, u, ctx.sensitivity)
        rows = np.arange(len(choosers))
        return np.where(pick == 0, -1, considered[rows, np.maximum(pick - 1, 0)])

    def _apply_investor_decisions(self, d: InvestorDecisions) -> None:
        """Book the day's investor decisions: interest, roll-overs, requests, new positions."""
        inv, rng = self.investors, self.rng
        menu = self.product_terms
        held = None
        if d.maturing_held is not None:  # records read today: only the redeemed are read here
            held = np.concatenate([np.take(inv.positions, d.redeem), d.maturing_held])
        touched = np.concatenate([d.redeem, d.maturing])
        principal, platform = market.capitalise_interest(self, touched, held)
        rolled = d.maturing[d.roll]
        if len(rolled):
            terms = menu[rng.integers(0, len(menu), len(rolled))]
            where = (inv.pos_platform[rolled] if d.maturing_held is None
                     else d.maturing_held["platform"][d.roll])
            inv.pos_rate[rolled] = self.platforms.rate[where]
            inv.pos_maturity[rolled] = self.day + terms
            self.position_index.add(rolled, inv.pos_maturity[rolled],
                                    np.zeros(len(rolled), dtype=bool))
        # Requests in random order. Permuting their indices draws the same numbers as
        # permuting the positions, and the amounts and platforms come along without reading
        # the scattered positions again.
        asked = np.flatnonzero(np.concatenate([np.ones(len(d.redeem), dtype=bool), ~d.roll]))
        order = asked[rng.permutation(len(asked))]
        requests, amount, where = touched[order], principal[order], platform[order]
        inv.pos_request[requests] = self.day
        # A requested position is no longer a candidate for early redemption; clearing the flag
        # lets the daily candidate scan read one array instead of two.
        inv.pos_demand[requests] = False
        self.queue = np.concatenate([self.queue, requests])
        self.flows_today["requests"] += float(amount.sum())
        self.requests_today[:] = 0.0
        n = self.platforms.n
        self.requests_today[:n] = sum_by(where, amount, n)
        chosen = d.choice >= 0
        where = d.choice[chosen]
        demand = d.u_demand[chosen] < self.platforms.demand_share[where]
        terms = menu[(d.u_term[chosen] * len(menu)).astype(int)]
        market.open_positions(self, d.choosers[chosen], where, d.amounts[chosen], demand, terms)
        self.channels.on_panic_redemptions(d.panicked // inv.slots, inv.pos_platform[d.panicked])

    # ------------------------------------------------------------------ outputs
    def log_event(self, kind: str, platform: int, **details) -> None:
        """Record an event (entry, distress, failure, exit, ...) for the events log."""
        name = self.platform_agents[platform].name if 0 <= platform < len(self.platform_agents) else ""
        self.events.append({"day": self.day, "event": kind, "platform": platform, "name": name,
                            **details})

    def investor(self, index: int) -> Investor:
        """The Mesa agent of investor ``index`` (made on demand in large populations)."""
        if self.investor_agents:
            return self.investor_agents[index]
        return Investor(self, index)

    def timeseries(self) -> pd.DataFrame:
        """Daily market series, one row per day from day 0."""
        return self.recorder.timeseries()

    def platform_table(self) -> pd.DataFrame:
        """One row per platform ever created: type, status, balance sheet, failure cause."""
        return metrics.platform_table(self)

    def platform_daily(self) -> pd.DataFrame:
        """Per-platform daily panel: status, claims, cash, rate, backlog."""
        return self.recorder.platform_daily()

    def cascade_table(self) -> pd.DataFrame:
        """Failures in order, with the channel that carried the stress and the parent failure."""
        return metrics.cascade_table(self)

    def events_table(self) -> pd.DataFrame:
        """Events log: day, event, platform, cause and details."""
        return metrics.events_table(self)

    def summary(self) -> dict:
        """End-of-run outcomes (MODEL.md, "Outcomes every run reports")."""
        return metrics.summarize(self)

    def run(self, days: int | None = None, progress=None) -> None:
        """Step ``days`` days (default ``config.run.days``); ``progress(i)`` is called per day."""
        for _ in range(self.config.run.days if days is None else days):
            self.step()
            if progress is not None:
                progress(1)


__all__ = ["NEVER", "P2PModel", "StepContext"]
