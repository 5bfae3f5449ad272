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


class Policies:
    """The active policies of a model, called at their hooks in a fixed order."""

    def __init__(self, model: P2PModel) -> None:
        cfg = model.config.policies
        self.protection_fund = (ProtectionFund(model, cfg.protection_fund)
                                if cfg.protection_fund.enabled else None)

    @property
    def active(self) -> list:
        return [p for p in (self.protection_fund,) if p is not None]

    def start_of_day(self) -> None:
        for policy in self.active:
            policy.start_of_day()

    def on_failure(self, platform: int) -> None:
        for policy in self.active:
            policy.on_failure(platform)

    def outcomes(self) -> dict:
        fund = self.protection_fund
        return {
            "protection_fund_dry_day": None if fund is None else fund.dry_day,
            "protection_credibility_end": None if fund is None else fund.credibility,
        }
