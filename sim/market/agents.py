"""Mesa agents: platforms, investors and borrowers, and the object engine that steps them.

Each agent is a view onto one row of the population arrays in :mod:`sim.market.state`; reading
an attribute reads the array, so agents and the fast array rules always agree. The investor and
borrower methods are the one-object-per-agent form of the behaviour rules (the executable
specification): :class:`ObjectEngine` runs them, agent by agent, when ``run.engine = "object"``,
and the tests check that they decide exactly what the array forms of :mod:`sim.market.engine`
decide.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.market import rules
from sim.market.engine import Candidates
from sim.market.state import NO_PLATFORM
from sim.vocabulary import Owner, Status

if TYPE_CHECKING:
    from sim.market.rules import StepContext
    from sim.model import P2PModel


class Platform(mesa.Agent):
    """A P2P platform: pooled funds, short products funding long loans [S0 §IV.B, S3].

    Its balance sheet, rates and status live in ``model.platforms`` at row ``index``.
    """

    def __init__(self, model: P2PModel, index: int, name: str) -> None:
        super().__init__(model)
        self.index = index
        self.name = name

    def _get(self, field: str):
        return getattr(self.model.platforms, field)[self.index]

    @property
    def status(self) -> Status:
        """Current status."""
        return Status(int(self._get("status")))

    @property
    def owner(self) -> Owner:
        """Owner type."""
        return Owner(int(self._get("owner")))

    @property
    def cash(self) -> float:
        """Cash, yuan."""
        return float(self._get("cash"))

    @property
    def loans(self) -> float:
        """Real loans outstanding, yuan."""
        return float(self._get("loans"))

    @property
    def products(self) -> float:
        """Investor claims (product liabilities), yuan."""
        return float(self._get("products"))

    @property
    def equity(self) -> float:
        """Book equity: cash + loans + fake loans - claims, yuan."""
        p = self.model.platforms
        i = self.index
        return float(p.cash[i] + p.loans[i] + p.fake_loans[i] - p.products[i])

    @property
    def promised_rate(self) -> float:
        """Promised investor rate, annual."""
        return float(self._get("rate"))

    def __repr__(self) -> str:
        return (f"Platform({self.name!r}, {self.status.name}, {self.owner.name}, "
                f"cash={self.cash:,.0f}, loans={self.loans:,.0f}, products={self.products:,.0f})")


class Investor(mesa.Agent):
    """A retail investor: heavy-tailed wealth, literacy, risk tolerance, attention [S0 §IV.C].

    State lives in ``model.investors`` at row ``index``; positions are slots
    ``index * slots ... index * slots + slots - 1``.
    """

    def __init__(self, model: P2PModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def slot_range(self) -> range:
        """This investor's position slots."""
        k = self.model.investors.slots
        return range(self.index * k, (self.index + 1) * k)

    @property
    def cash(self) -> float:
        """Uninvested cash, yuan."""
        return float(self.model.investors.cash[self.index])

    @property
    def holdings(self) -> dict[int, float]:
        """Claims by platform index, yuan."""
        inv = self.model.investors
        out: dict[int, float] = {}
        for s in self.slot_range:
            p = int(inv.pos_platform[s])
            if p != NO_PLATFORM:
                out[p] = out.get(p, 0.0) + float(inv.pos_principal[s])
        return out

    def _failure_prob(self, ctx: StepContext, platform: int, delayed) -> float:
        inv = self.model.investors
        i = self.index
        return rules.perceived_failure_prob(
            inv.literacy[i], ctx.signal[platform], ctx.prior, inv.attention[i],
            ctx.news[platform], ctx.news_weight, inv.fear_of(i), delayed, ctx.delay_fear)

    def redemption_candidates(self, ctx: StepContext) -> list[int]:
        """Demand positions that could be redeemed today: held, not yet requested, still paying."""
        inv = self.model.investors
        return [s for s in self.slot_range
                if inv.pos_demand[s] and inv.pos_request[s] < 0
                and ctx.redeemable[inv.pos_platform[s]]]

    def redeems_early(self, ctx: StepContext, slot: int, u: float) -> bool:
        """Redeem a demand position early today (``rules.early_redemption_prob``)."""
        inv = self.model.investors
        p = inv.pos_platform[slot]
        fp = self._failure_prob(ctx, p, inv.pos_delayed[slot])
        loss = rules.expected_loss(fp, ctx.loss_given_failure, ctx.coverage[p])
        prob = rules.early_redemption_prob(loss, inv.risk_tolerance[self.index],
                                           ctx.liquidity_need, ctx.panic_max,
                                           ctx.panic_threshold)
        return bool(u < prob)

    def maturing_positions(self, ctx: StepContext) -> list[int]:
        """Term positions that mature today at a platform still paying."""
        inv = self.model.investors
        return [s for s in self.slot_range
                if inv.pos_maturity[s] == ctx.day and inv.pos_request[s] < 0
                and inv.pos_platform[s] != NO_PLATFORM and ctx.operating[inv.pos_platform[s]]]

    def rolls_over(self, ctx: StepContext, slot: int, u: float) -> bool:
        """Roll a maturing product over (binary logit against the outside rate)."""
        inv = self.model.investors
        p = inv.pos_platform[slot]
        if not ctx.open[p]:
            return False
        fp = self._failure_prob(ctx, p, inv.pos_delayed[slot])
        y = rules.risk_adjusted_yield(ctx.rate[p], fp, ctx.loss_given_failure, ctx.coverage[p],
                                      inv.risk_tolerance[self.index])
        return bool(u < rules.rollover_prob(y, ctx.outside_rate, ctx.sensitivity, ctx.appetite))

    def ticket(self, ctx: StepContext, u_review: float) -> float:
        """Money this investor puts into a new position today, or 0 if it does not review."""
        if not rules.reviews_today(u_review, ctx.review_days):
            return 0.0
        inv = self.model.investors
        empty = sum(1 for s in self.slot_range if inv.pos_platform[s] == NO_PLATFORM)
        if empty == 0:
            return 0.0
        invested = np.float64(0.0)
        for s in self.slot_range:
            invested = invested + inv.pos_principal[s]
        cash = inv.cash[self.index]
        # A non-user (not yet adopted, or left after a loss) targets nothing.
        target = inv.target_share[self.index] * inv.participating[self.index] * ctx.appetite
        amount = rules.ticket_size(cash, cash + invested, target, invested,
                                   empty)
        return float(amount) if amount >= ctx.min_ticket else 0.0

    def choose_platform(self, ctx: StepContext, considered: np.ndarray, u: float) -> int:
        """Pick a platform from the consideration set, or -1 for the outside option (logit)."""
        inv = self.model.investors
        utilities = np.empty(len(considered) + 1)
        utilities[0] = ctx.outside_rate
        for j, p in enumerate(considered):
            fp = self._failure_prob(ctx, p, False)
            utilities[j + 1] = rules.risk_adjusted_yield(
                ctx.rate[p], fp, ctx.loss_given_failure, ctx.coverage[p],
                inv.risk_tolerance[self.index])
        pick = rules.choose_option(utilities, u, ctx.sensitivity)
        return -1 if pick == 0 else int(considered[pick - 1])


class Borrower(mesa.Agent):
    """A small firm or individual with a thin credit file [S0 §IV.C, S1 §2(2), S3]."""

    def __init__(self, model: P2PModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def true_pd(self) -> float:
        """True annual default probability."""
        return float(self.model.borrowers.true_pd[self.index])

    @property
    def reported_pd(self) -> float:
        """Reported annual default probability (lower if the borrower inflates its quality)."""
        return float(self.model.borrowers.reported_pd[self.index])

    def defaults_today(self, ctx: StepContext, u: float) -> bool:
        """Default with the daily probability implied by the true PD and hazard multipliers."""
        b = self.model.borrowers
        i = self.index
        multiplier = ctx.sector_multiplier[b.sector[i]] * (1.0 + b.refinancing_stress[i])
        return bool(u < rules.daily_default_prob(b.true_pd[i], multiplier))

    def applies_today(self, ctx: StepContext, u: float) -> bool:
        """Apply for a new loan when holding fewer loans than ``max_lenders``."""
        b = self.model.borrowers
        has_capacity = b.n_loans[self.index] < ctx.max_lenders
        return bool(rules.applies_for_loan(u, ctx.apply_per_year, has_capacity))


class ObjectEngine:
    """The rules one Mesa agent at a time (``run.engine = "object"``).

    The executable specification of :class:`~sim.market.engine.ArrayEngine`, with the same
    interface.

    Args:
        model: the model whose agents it steps.
    """

    name = "object"

    def __init__(self, model: P2PModel) -> None:
        self.model = model

    def redemption_candidates(self, ctx: StepContext) -> Candidates:
        """Each investor's demand positions open to redemption and term positions maturing."""
        demand, maturing = [], []
        for agent in self.model.investor_agents:
            demand += agent.redemption_candidates(ctx)
            maturing += agent.maturing_positions(ctx)
        return Candidates(np.array(demand, dtype=np.int64), np.array(maturing, dtype=np.int64))

    def redeemers(self, ctx: StepContext, cand: Candidates, u: np.ndarray) -> np.ndarray:
        """The demand positions whose owners redeem early (:meth:`Investor.redeems_early`)."""
        agents, k = self.model.investor_agents, self.model.investors.slots
        return np.array([s for s, draw in zip(cand.demand, u, strict=True)
                         if agents[s // k].redeems_early(ctx, s, draw)], dtype=np.int64)

    def rollovers(self, ctx: StepContext, cand: Candidates, u: np.ndarray) -> np.ndarray:
        """Whether each maturing position is rolled over (:meth:`Investor.rolls_over`)."""
        agents, k = self.model.investor_agents, self.model.investors.slots
        return np.array([agents[s // k].rolls_over(ctx, s, draw)
                         for s, draw in zip(cand.maturing, u, strict=True)], dtype=bool)

    def tickets(self, ctx: StepContext, u_review: np.ndarray):
        """Investors opening a position today and how much (:meth:`Investor.ticket`)."""
        tickets = [(a.index, a.ticket(ctx, u_review[a.index])) for a in self.model.investor_agents]
        choosers = np.array([i for i, t in tickets if t > 0], dtype=np.int64)
        amounts = np.array([t for _, t in tickets if t > 0], dtype=float)
        return choosers, amounts

    def choices(self, ctx: StepContext, choosers: np.ndarray, considered: np.ndarray,
                u: np.ndarray) -> np.ndarray:
        """The platform each chooser picks (:meth:`Investor.choose_platform`)."""
        agents = self.model.investor_agents
        return np.array([agents[i].choose_platform(ctx, considered[j], u[j])
                         for j, i in enumerate(choosers)], dtype=np.int64)

    def borrowers(self, ctx: StepContext, u_default: np.ndarray,
                  u_apply: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Borrowers who default and who apply (:meth:`Borrower.defaults_today`, ...)."""
        agents = self.model.borrower_agents
        defaulted = np.array([a.index for a in agents if a.defaults_today(ctx, u_default[a.index])],
                             dtype=np.int64)
        applying = np.array([a.index for a in agents if a.applies_today(ctx, u_apply[a.index])],
                            dtype=np.int64)
        return defaulted, applying


__all__ = ["Borrower", "Investor", "ObjectEngine", "Platform"]
