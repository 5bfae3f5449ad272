"""Investor protection fund [S0 §V.A]: a levy, cover per claim, a payout delay, a backstop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import numpy as np
from pydantic import Field

from sim.market.ledger import INVESTOR_CASH, OUTSIDE, PLATFORM_CASH, Account, Flow
from sim.market.rules import DAYS_PER_YEAR
from sim.mechanisms.policies.base import Policy, PolicyConfig
from sim.schema import DAYS_MAX, Money, Rate, Share
from sim.vocabulary import EventKind, Outcome, Unit

FUND = "protection_fund"


class ProtectionFundConfig(PolicyConfig):
    """Investor protection fund [S0 §V.A]: levy, cover, payout delay, optional backstop."""

    levy_rate: Rate = Field(0.002, description="Levy on product balances, annual share.")
    coverage_share: Share = Field(
        0.9, description="Share of a claim covered (1 - co-insurance share).")
    coverage_cap: Money = Field(1e5, description="Most paid per position, yuan.")
    payout_delay_days: Annotated[int, Field(ge=0, le=DAYS_MAX)] = Field(
        30, description="Days from a failure to the payout.")
    public_backstop: bool = Field(
        False, description="The government tops the fund up when it cannot pay in full.")
    initial_fund: Share = Field(
        0.0, description="Money the fund starts with, as a share of investor claims on its "
        "first day (a public endowment).")
    reserve_target: Share = Field(
        0.02, description="Fund size, as a share of investor claims, at which investors fully "
        "trust it again after a shortfall.")


@dataclass
class PendingPayout:
    """Compensation owed to a failed platform's investors, due on ``day``."""

    day: int
    platform: int
    slots: np.ndarray
    covered: np.ndarray  # yuan owed per position


class ProtectionFund(Policy):
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

    name = "protection_fund"
    config_model = ProtectionFundConfig
    outcomes = (
        Outcome("protection_levies", "protection fund levies", Unit.YUAN, when_off=0.0),
        Outcome("protection_payouts", "protection fund payouts", Unit.YUAN, when_off=0.0),
        Outcome("protection_fund_dry_day", "day the protection fund ran dry", Unit.DAY),
        Outcome("protection_credibility_end", "protection fund credibility at end",
                Unit.SHARE),
    )
    accounts = (Account(FUND, description="the investor protection fund"),)
    flows = (
        Flow("levies", PLATFORM_CASH, FUND, description="platforms' levies into the fund"),
        Flow("fund_inflows", OUTSIDE, FUND, per_platform=False,
             description="initial endowment and public backstop top-ups"),
        Flow("claims_protected", FUND, INVESTOR_CASH, claims=-1,
             description="claims paid off by the fund"),
    )

    def __init__(self, model, config: ProtectionFundConfig) -> None:
        super().__init__(model, config)
        self.pending: list[PendingPayout] = []
        self.credibility = 1.0
        self.dry_day: int | None = None
        self.paid_out = 0.0  # yuan paid to investors since day 0
        self.endowed = False

    def start_of_day(self) -> None:
        """Collect the levy, pay what is due, update credibility and the cover counted on."""
        model, cfg = self.model, self.cfg
        plats = model.platforms
        n = plats.n
        if not self.endowed:  # the endowment is sized on the market the fund starts in
            self.endowed = True
            model.ledger.transfer("fund_inflows", cfg.initial_fund * float(plats.products[:n].sum()))
        levy = np.where(plats.operating_mask(),
                        cfg.levy_rate * plats.products[:n] / DAYS_PER_YEAR, 0.0)
        levy = np.minimum(levy, plats.cash[:n])
        model.ledger.transfer("levies", levy)
        due = [p for p in self.pending if p.day <= model.day]
        self.pending = [p for p in self.pending if p.day > model.day]
        for payout in due:
            self._pay(payout)
        if not cfg.public_backstop and self.credibility < 1.0:
            # Confidence returns as the fund refills toward its reserve target.
            target = max(cfg.reserve_target * float(plats.products[:n].sum()), 1.0)
            self.credibility = min(1.0, max(self.credibility,
                                            model.ledger.balance(FUND) / target))
        model.conditions.coverage[:n] += cfg.coverage_share * self.credibility

    def on_failure(self, platform: int) -> None:
        """Work out what the fund owes this platform's investors and schedule the payout."""
        inv = self.model.investors
        slots = self.model.holdings.at(platform)
        if len(slots) == 0:
            return
        covered = np.minimum(self.cfg.coverage_share * inv.pos_principal[slots],
                             self.cfg.coverage_cap)
        self.pending.append(PendingPayout(self.model.day + self.cfg.payout_delay_days, platform,
                                          slots, covered))

    def _pay(self, payout: PendingPayout) -> None:
        model, cfg = self.model, self.cfg
        inv, ledger = model.investors, model.ledger
        slots = payout.slots[inv.pos_platform[payout.slots] == payout.platform]
        owed = np.minimum(payout.covered[np.isin(payout.slots, slots)], inv.pos_principal[slots])
        total = float(owed.sum())
        if total <= 0:
            return
        if cfg.public_backstop and ledger.balance(FUND) < total:
            top_up = total - ledger.balance(FUND)
            ledger.transfer("fund_inflows", top_up)
            model.log_event(EventKind.BACKSTOP, payout.platform, amount=top_up)
        share = min(1.0, ledger.balance(FUND) / total)
        paid = ledger.settle_claims("claims_protected", payout.platform, slots, owed * share)
        self.paid_out += paid
        model.log_event(EventKind.PROTECTION_PAYOUT, payout.platform, paid=paid, owed=total,
                        share_paid=share)
        if share < 1.0:
            self.credibility = min(self.credibility, share)
            if self.dry_day is None:
                self.dry_day = model.day
                model.log_event(EventKind.FUND_DEPLETED, payout.platform, owed=total, paid=paid)

    def cover_due(self, n: int) -> np.ndarray:
        """Payouts scheduled but not yet made, yuan per platform."""
        due = np.zeros(n)
        for payout in self.pending:
            due[payout.platform] += float(payout.covered.sum())
        return due

    def cover_paid(self) -> float:
        """Paid to investors since day 0, yuan."""
        return self.paid_out

    def measure(self) -> dict:
        """Levies, payouts, the day the fund ran dry and the credibility left at the end."""
        return {"protection_levies": self.model.ledger.total("levies"),
                "protection_payouts": self.paid_out,
                "protection_fund_dry_day": self.dry_day,
                "protection_credibility_end": self.credibility}
