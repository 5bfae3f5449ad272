"""Regulatory policies: small objects attached to the model, each switched on in ``[policies]``.

Each policy acts through hooks the model calls: ``start_of_day`` (before investors decide) and
``on_failure`` (when a platform fails or absconds). Money a policy moves is booked in the ledger
like every other flow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim import rules

if TYPE_CHECKING:
    from sim.config import ProtectionFundConfig
    from sim.model import P2PModel


@dataclass
class PendingPayout:
    """Compensation owed to a failed platform's investors, due on ``day``."""

    day: int
    platform: int
    slots: np.ndarray
    covered: np.ndarray  # yuan owed per position


class ProtectionFund:
    """Investor protection fund [S0 §V.A].

    * Levy: every operating platform pays ``levy_rate * claims / 365`` a day into the fund.
    * Cover: when a platform fails, each claim is covered for ``min(coverage_share * claim,
      coverage_cap)``, paid ``payout_delay_days`` later, and never more than is still owed.
    * Shortfall: a fund without enough cash pays pro rata; with ``public_backstop`` the
      government tops it up first (booked as an inflow from outside).
    * Belief: investors count on ``coverage_share * credibility`` of their claims
      (``rules.expected_loss``). Credibility is 1 with a backstop; without one it drops to the
      share actually paid at the last shortfall and recovers as the fund refills, so depletion
      is noticed and the cover stops calming runs (Diamond and Dybvig 1983).
    """

    def __init__(self, model: P2PModel, cfg: ProtectionFundConfig) -> None:
        self.model = model
        self.cfg = cfg
        self.pending: list[PendingPayout] = []
        self.credibility = 1.0
        self.dry_day: int | None = None
        model.ledger.fund_cash += cfg.initial_fund
        model.ledger.protection_inflows += cfg.initial_fund

    def start_of_day(self) -> None:
        model, cfg = self.model, self.cfg
        plats = model.platforms
        n = plats.n
        levy = np.where(plats.operating_mask(),
                        cfg.levy_rate * plats.products[:n] / rules.DAYS_PER_YEAR, 0.0)
        levy = np.minimum(levy, plats.cash[:n])
        plats.cash[:n] -= levy
        model.ledger.book("levies", np.arange(n), levy)
        model.ledger.fund_cash += float(levy.sum())
        due = [p for p in self.pending if p.day <= model.day]
        self.pending = [p for p in self.pending if p.day > model.day]
        for payout in due:
            self._pay(payout)
        if not cfg.public_backstop and self.credibility < 1.0:
            # Confidence returns as the fund refills toward its reserve target.
            target = max(cfg.reserve_target, 1.0)
            self.credibility = min(1.0, max(self.credibility, model.ledger.fund_cash / target))
        model.coverage[:n] = cfg.coverage_share * self.credibility

    def on_failure(self, platform: int) -> None:
        """Work out what the fund owes this platform's investors and schedule the payout."""
        inv = self.model.investors
        slots = np.flatnonzero(inv.pos_platform == platform)
        if len(slots) == 0:
            return
        covered = np.minimum(self.cfg.coverage_share * inv.pos_principal[slots],
                             self.cfg.coverage_cap)
        self.pending.append(PendingPayout(self.model.day + self.cfg.payout_delay_days, platform,
                                          slots, covered))

    def _pay(self, payout: PendingPayout) -> None:
        model, cfg = self.model, self.cfg
        inv, plats, ledger = model.investors, model.platforms, model.ledger
        slots = payout.slots[inv.pos_platform[payout.slots] == payout.platform]
        owed = np.minimum(payout.covered[np.isin(payout.slots, slots)], inv.pos_principal[slots])
        total = float(owed.sum())
        if total <= 0:
            return
        if cfg.public_backstop and ledger.fund_cash < total:
            top_up = total - ledger.fund_cash
            ledger.fund_cash += top_up
            ledger.protection_inflows += top_up
            model.log_event("backstop", payout.platform, amount=top_up)
        share = min(1.0, ledger.fund_cash / total)
        pay = owed * share
        paid = float(pay.sum())
        inv.pos_principal[slots] -= pay
        np.add.at(inv.cash, slots // inv.slots, pay)
        plats.products[payout.platform] -= paid
        ledger.fund_cash -= paid
        ledger.protection_payouts += paid
        ledger.book_total("claims_protected", payout.platform, paid)
        model.flows_today["protection_payouts"] += paid
        model.log_event("protection_payout", payout.platform, paid=paid, owed=total,
                        share_paid=share)
        if share < 1.0:
            self.credibility = min(self.credibility, share)
            if self.dry_day is None:
                self.dry_day = model.day
                model.log_event("fund_depleted", payout.platform, owed=total, paid=paid)


class Custody:
    """Bank custody of investor money [S1 §3(2), S2].

    A platform under custody holds no pool of its own: an absconding owner finds nothing to take,
    a Ponzi owner cannot divert cash into fake loans, and without a pool it cannot offer products
    redeemable on demand (no maturity transformation beyond matched terms).
    """

    def __init__(self, model: P2PModel, cfg) -> None:
        self.model, self.cfg = model, cfg

    def on_platforms_created(self, idx: np.ndarray) -> None:
        plats = self.model.platforms
        under = self.model.rng.random(len(idx)) < self.cfg.share
        plats.custody[idx] = under
        plats.demand_share[idx] = np.where(under, 0.0, plats.demand_share[idx])


class LiquidityReserve:
    """A platform must keep ``ratio`` of its claims in cash: it lends only above that."""

    def __init__(self, model: P2PModel, cfg) -> None:
        self.model, self.cfg = model, cfg

    def on_platforms_created(self, idx: np.ndarray) -> None:
        plats = self.model.platforms
        plats.buffer_target[idx] = np.maximum(plats.buffer_target[idx], self.cfg.ratio)


class RedemptionGates:
    """Suspension of convertibility: a run closes the gate on early redemptions for a while.

    When a day's requests at a platform exceed ``trigger`` of its claims, early redemptions of
    demand products are refused for ``days`` (Diamond and Dybvig 1983). Maturing term products
    are still paid.
    """

    def __init__(self, model: P2PModel, cfg) -> None:
        self.model, self.cfg = model, cfg

    def end_of_day(self) -> None:
        model = self.model
        plats = model.platforms
        n = plats.n
        heavy = model.requests_today[:n] > self.cfg.trigger * np.maximum(plats.products[:n], 1.0)
        closing = heavy & (plats.gate_until[:n] <= model.day) & plats.operating_mask()
        for i in np.flatnonzero(closing):
            model.log_event("gate_closed", int(i), until=model.day + self.cfg.days)
        plats.gate_until[:n] = np.where(closing, model.day + self.cfg.days, plats.gate_until[:n])


class EntryThreshold:
    """Minimum registered capital [S0 §V.B, S1 §3(1)].

    Entrants below ``min_capital`` are refused. Incumbents below it have ``grace_days``: honest
    owners pay in the missing capital; fraud-prone owners, who would rather not, stop new
    business and are closed at the end of the grace period.
    """

    def __init__(self, model: P2PModel, cfg) -> None:
        self.model, self.cfg = model, cfg
        self.noncompliant: np.ndarray | None = None

    def admits(self, capital: np.ndarray) -> np.ndarray:
        return capital >= self.cfg.min_capital

    def start_of_day(self) -> None:
        from sim import platforms as platform_rules
        from sim.state import Owner, Status

        model = self.model
        plats = model.platforms
        n = plats.n
        if model.day == 1:
            below = np.flatnonzero(plats.operating_mask() & (plats.capital[:n] < self.cfg.min_capital))
            honest = below[plats.owner[below] == Owner.HONEST]
            top_up = self.cfg.min_capital - plats.capital[honest]
            plats.capital[honest] += top_up
            plats.cash[honest] += top_up
            model.ledger.book("capital_in", honest, top_up)
            self.noncompliant = below[plats.owner[below] != Owner.HONEST]
            for i in self.noncompliant:
                plats.winding_down[i] = True
                model.exit_reason[int(i)] = "regulatory_closure"
                model.log_event("deadline_notice", int(i), cause="regulatory_closure",
                                deadline_day=self.cfg.grace_days)
        if model.day == self.cfg.grace_days and self.noncompliant is not None:
            for i in self.noncompliant[plats.operating_mask()[self.noncompliant]]:
                if plats.products[i] <= 1e-6 and plats.backlog[i] <= 1e-6:
                    platform_rules.finish_exit(model, int(i))
                else:
                    platform_rules.start_resolution(model, int(i), Status.CLOSED,
                                                    "regulatory_closure")


class Disclosure:
    """Disclosure regime [S0 §V.D, S2]: investors' signal of true risk is less noisy."""

    def __init__(self, model: P2PModel, cfg) -> None:
        self.model, self.cfg = model, cfg

    def configure(self) -> None:
        self.model.signal_noise_scale *= 1.0 - self.cfg.noise_reduction


class Education:
    """Investor education [S0 §V.D]: literacy rises, so less yield-chasing and herding.

    ``literacy += literacy_gain * (1 - literacy)``: literate investors weigh the signal of true
    risk (``rules.perceived_failure_prob``) and are less moved by neighbours (herding).
    """

    def __init__(self, model: P2PModel, cfg) -> None:
        self.model, self.cfg = model, cfg

    def on_investors_created(self) -> None:
        inv = self.model.investors
        inv.literacy += self.cfg.literacy_gain * (1.0 - inv.literacy)


class CreditInformation:
    """Credit information system [S1 §3(2)]: smaller inflated reports, better screening."""

    def __init__(self, model: P2PModel, cfg) -> None:
        self.model, self.cfg = model, cfg

    def configure(self) -> None:
        self.model.misreport_strength *= 1.0 - self.cfg.misreport_cut

    def on_platforms_created(self, idx: np.ndarray) -> None:
        plats = self.model.platforms
        plats.screening[idx] += self.cfg.screening_gain * (1.0 - plats.screening[idx])


class BorrowingCaps:
    """Borrowing caps (2016 Interim Measures): a loan size cap per platform and fewer lenders."""

    def __init__(self, model: P2PModel, cfg) -> None:
        self.model, self.cfg = model, cfg

    def configure(self) -> None:
        self.model.loan_size_cap = self.cfg.per_platform
        self.model.max_lenders = min(self.model.max_lenders, self.cfg.max_lenders)


class MaturityLimit:
    """Maturity matching: no product shorter than ``min_term_days``, none redeemable on demand."""

    def __init__(self, model: P2PModel, cfg) -> None:
        self.model, self.cfg = model, cfg

    def configure(self) -> None:
        terms = self.model.product_terms
        allowed = terms[terms >= self.cfg.min_term_days]
        self.model.product_terms = allowed if len(allowed) else np.array([self.cfg.min_term_days])

    def on_platforms_created(self, idx: np.ndarray) -> None:
        self.model.platforms.demand_share[idx] = 0.0


class Policies:
    """The active policies of a model, called at their hooks in a fixed order."""

    def __init__(self, model: P2PModel) -> None:
        cfg = model.config.policies
        self.protection_fund = (ProtectionFund(model, cfg.protection_fund)
                                if cfg.protection_fund.enabled else None)
        self.custody = Custody(model, cfg.custody) if cfg.custody.enabled else None
        self.liquidity_reserve = (LiquidityReserve(model, cfg.liquidity_reserve)
                                  if cfg.liquidity_reserve.enabled else None)
        self.redemption_gates = (RedemptionGates(model, cfg.redemption_gates)
                                 if cfg.redemption_gates.enabled else None)
        self.entry_threshold = (EntryThreshold(model, cfg.entry_threshold)
                                if cfg.entry_threshold.enabled else None)
        simple = {"disclosure": Disclosure, "education": Education,
                  "credit_information": CreditInformation, "borrowing_caps": BorrowingCaps,
                  "maturity_limit": MaturityLimit}
        self.simple = [cls(model, getattr(cfg, name)) for name, cls in simple.items()
                       if getattr(cfg, name).enabled]

    @property
    def active(self) -> list:
        return [p for p in (self.protection_fund, self.custody, self.liquidity_reserve,
                            self.redemption_gates, self.entry_threshold, *self.simple)
                if p is not None]

    def configure(self) -> None:
        """Tighten the market rules before the population is drawn."""
        self._call("configure")

    def on_investors_created(self) -> None:
        self._call("on_investors_created")

    def _call(self, hook: str, *args) -> None:
        for policy in self.active:
            method = getattr(policy, hook, None)
            if method is not None:
                method(*args)

    def start_of_day(self) -> None:
        self._call("start_of_day")

    def end_of_day(self) -> None:
        self._call("end_of_day")

    def on_failure(self, platform: int) -> None:
        self._call("on_failure", platform)

    def on_platforms_created(self, idx: np.ndarray) -> None:
        self._call("on_platforms_created", idx)

    def admits(self, capital: np.ndarray) -> np.ndarray:
        """Which would-be entrants with this registered capital may enter."""
        if self.entry_threshold is None:
            return np.ones(len(capital), dtype=bool)
        return self.entry_threshold.admits(capital)

    def outcomes(self) -> dict:
        fund = self.protection_fund
        return {
            "protection_fund_dry_day": None if fund is None else fund.dry_day,
            "protection_credibility_end": None if fund is None else fund.credibility,
        }
