"""The array engine: every investor and borrower rule applied to the whole population at once.

Each method is the array form of one rule of :mod:`sim.market.rules`, evaluated over numpy arrays
(MODEL.md, "Scale"); its object form, one Mesa agent at a time, is the method of the same name in
:mod:`sim.market.agents` (:class:`~sim.market.agents.ObjectEngine`), which is the executable
specification. :mod:`sim.market.decisions` draws the day's random numbers once and hands them to
either engine, so both decide exactly the same; the tests check they do.

To stay fast at 10^6 investors the array forms read as little as they can: per-platform and
per-risk-tolerance-group bounds skip the early-redemption rule where it cannot fire, investors
with no free slot are never read when tickets are drawn, and consideration sets are looked up in
a bucket table. Each shortcut gives exactly the decisions of the rule applied everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.market import rules
from sim.market.state import NO_PLATFORM

if TYPE_CHECKING:
    from sim.market.rules import StepContext
    from sim.model import P2PModel

FEAR_CAP = 0.02  # fear above which an investor's positions skip the redemption bound
# Investors are grouped by risk tolerance (16 equal bins of [0, 1]; a power of two, so the bin
# edges are exact) for a per-group bound on the early-redemption probability.
TOLERANCE_GROUPS = 16


@dataclass
class Candidates:
    """Positions that may be decided on today.

    Attributes:
        demand: demand positions that could be redeemed early (sorted).
        keys: ``platform * TOLERANCE_GROUPS + group`` of each (array engine only).
        maturing: term positions maturing today at a platform still paying (sorted).
        held: their position records as read today (array engine only).
    """

    demand: np.ndarray
    maturing: np.ndarray
    keys: np.ndarray | None = None
    held: np.ndarray | None = None


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


class ArrayEngine:
    """The rules over the whole population (``run.engine = "array"``).

    Args:
        model: the model whose arrays it reads.
    """

    name = "array"

    def __init__(self, model: P2PModel) -> None:
        self.model = model

    def redemption_candidates(self, ctx: StepContext) -> Candidates:
        """Demand positions open to early redemption and term positions maturing today.

        Read from the position index (:class:`~sim.market.indexes.PositionIndex`), equal to a
        scan of every position.
        """
        inv = self.model.investors
        index = self.model.position_index
        # Keys are platform * TOLERANCE_GROUPS + the owner's risk-tolerance group.
        candidates, keys = index.demand_entries(inv.pos_demand, inv.pos_platform)
        if not ctx.redeemable.all():  # skip the filter in the common all-open case
            open_ = np.repeat(ctx.redeemable, TOLERANCE_GROUPS)[keys]
            candidates, keys = candidates[open_], keys[open_]
        # Whole records, read once: the roll-over rule and the interest use them too.
        maturing, held = index.maturing_records(ctx.day, inv.positions)
        due = (held["request"] < 0) & ctx.operating[held["platform"]]
        return Candidates(candidates, maturing[due], keys, held[due])

    def redeemers(self, ctx: StepContext, cand: Candidates, u: np.ndarray) -> np.ndarray:
        """Array form of :meth:`Investor.redeems_early` over ``cand.demand``."""
        return self._redemptions(ctx, cand.demand, cand.keys, u)

    def rollovers(self, ctx: StepContext, cand: Candidates, u: np.ndarray) -> np.ndarray:
        """Array form of :meth:`Investor.rolls_over` over ``cand.maturing``."""
        return self._rollovers(ctx, cand.maturing, u, cand.held["platform"])

    def _redemptions(self, ctx: StepContext, cand: np.ndarray, keys: np.ndarray,
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
        inv = self.model.investors
        # Investors whose fear exceeds FEAR_CAP are few in calm times; the bound for everyone
        # else can use the cap instead of the largest fear. The fearful get a second bound, at
        # the largest fear of anyone (in a stressed market most investors are fearful, and
        # most of their positions still lie far above it).
        if inv.mostly_fearful(FEAR_CAP):
            # Most investors are fearful (a stressed market): one pass with the bound at the
            # largest fear, which holds for everyone, instead of finding the fearful first.
            high = self._redemption_bound(ctx, max(inv.max_fear(), FEAR_CAP))
            keep = np.flatnonzero(u < np.take(high, keys))
            return self._redemption_rule(ctx, cand[keep], keys[keep], u[keep])
        fearful = inv.fearful(FEAR_CAP)
        bound = self._redemption_bound(ctx, FEAR_CAP)
        # One pass: the bound table is small (it stays in cache).
        keep = np.flatnonzero(u < np.take(bound, keys))
        if len(fearful):
            chosen = np.zeros(len(cand), dtype=bool)
            chosen[keep] = True
            if len(fearful) * inv.slots * 16 < len(cand):  # few: look their slots up
                slots = (fearful[:, None] * inv.slots + np.arange(inv.slots)).ravel()
                slots = slots.astype(cand.dtype)  # same dtype: no conversion of cand
                at = np.searchsorted(cand, slots)  # cand is sorted: equal entries are candidates
                inside = at < len(cand)
                at = at[inside][cand[at[inside]] == slots[inside]]
            else:  # many (after a wave of delays): flag their candidates in one pass
                is_fearful = np.zeros(inv.count, dtype=bool)
                is_fearful[fearful] = True
                at = np.flatnonzero(np.take(is_fearful, cand // inv.slots))
            high = self._redemption_bound(ctx, max(inv.max_fear(), FEAR_CAP))
            chosen[at[np.take(u, at) < np.take(high, np.take(keys, at))]] = True
            keep = np.flatnonzero(chosen)
        return self._redemption_rule(ctx, cand[keep], keys[keep], u[keep])

    def _redemption_rule(self, ctx: StepContext, cand: np.ndarray, keys: np.ndarray,
                         u: np.ndarray) -> np.ndarray:
        """The full early-redemption rule at positions ``cand``: those that redeem."""
        inv = self.model.investors
        p = keys // TOLERANCE_GROUPS
        literacy, tolerance, attention, fear = inv.traits(cand // inv.slots)
        fp = rules.perceived_failure_prob(
            literacy, ctx.signal[p], ctx.prior, attention, ctx.news[p],
            ctx.news_weight, fear, inv.pos_delayed[cand], ctx.delay_fear)
        loss = rules.expected_loss(fp, ctx.loss_given_failure, ctx.coverage[p])
        prob = rules.early_redemption_prob(loss, tolerance, ctx.liquidity_need,
                                           ctx.panic_max, ctx.panic_threshold)
        return cand[u < prob]

    def _redemption_bound(self, ctx: StepContext, fear: float) -> np.ndarray:
        """Upper bound on the early-redemption probability by key, for fear up to ``fear``.

        Per platform and risk-tolerance group: every perceived-risk term at its largest, the
        tolerance at the group's lower edge (the probability falls with tolerance), slightly
        widened so that rounding never puts it below the rule.
        """
        plats = self.model.platforms
        fp_bound = np.minimum(
            np.maximum(ctx.prior, ctx.signal) + ctx.news_weight * np.maximum(ctx.news, 0.0)
            + fear + ctx.delay_fear * plats.delay_seen[: plats.n], 1.0)
        lowest_tolerance = np.arange(TOLERANCE_GROUPS) / TOLERANCE_GROUPS
        bound = rules.early_redemption_prob(
            rules.expected_loss(fp_bound, ctx.loss_given_failure, 0.0)[:, None],
            lowest_tolerance, ctx.liquidity_need, ctx.panic_max, ctx.panic_threshold)
        return (bound * (1.0 + 1e-9) + 1e-12).ravel()

    def _rollovers(self, ctx: StepContext, maturing: np.ndarray, u: np.ndarray,
                         p: np.ndarray) -> np.ndarray:
        """Array form of :meth:`Investor.rolls_over`; ``p`` is each position's platform."""
        inv = self.model.investors
        literacy, tolerance, attention, fear = inv.traits(maturing // inv.slots)
        fp = rules.perceived_failure_prob(
            literacy, ctx.signal[p], ctx.prior, attention, ctx.news[p],
            ctx.news_weight, fear, inv.pos_delayed[maturing], ctx.delay_fear)
        y = rules.risk_adjusted_yield(ctx.rate[p], fp, ctx.loss_given_failure, ctx.coverage[p],
                                      tolerance)
        return ctx.open[p] & (u < rules.rollover_prob(y, ctx.outside_rate, ctx.sensitivity,
                                                      ctx.appetite))

    def tickets(self, ctx: StepContext, u_review: np.ndarray):
        """Array form of :meth:`Investor.ticket`: who opens a position today, and how much."""
        inv = self.model.investors
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
        target = np.take(inv.target_share, rev) * np.take(inv.participating, rev) * ctx.appetite
        amount = rules.ticket_size(cash, cash + invested, target,
                                   invested, empty)
        ok = amount >= ctx.min_ticket
        return rev[ok], amount[ok]

    def choices(self, ctx: StepContext, choosers: np.ndarray, considered: np.ndarray,
                       u: np.ndarray) -> np.ndarray:
        """Array form of :meth:`Investor.choose_platform`."""
        inv = self.model.investors
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

    def borrowers(self, ctx: StepContext, u_default: np.ndarray,
                  u_apply: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Array form of :meth:`Borrower.defaults_today` and :meth:`Borrower.applies_today`.

        Returns:
            The borrowers who default and those who apply, both sorted.
        """
        b = self.model.borrowers
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
        return defaulted, applying
