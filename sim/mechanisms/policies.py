"""Regulatory policies: small objects attached to the model, each switched on in ``[policies]``.

Each policy acts through hooks the model calls: ``start_of_day`` (before investors decide) and
``on_failure`` (when a platform fails or absconds). Money a policy moves is booked in the ledger
like every other flow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.market import lifecycle as platform_rules
from sim.market import rules
from sim.market.state import NEVER, Owner, Status, sum_by

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
        model.coverage[:n] += cfg.coverage_share * self.credibility

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
                platform_rules.stop_new_business(model, int(i), "regulatory_closure",
                                                 "deadline_notice", cause="regulatory_closure",
                                                 deadline_day=self.cfg.grace_days)
        if model.day == self.cfg.grace_days and self.noncompliant is not None:
            for i in self.noncompliant[plats.operating_mask()[self.noncompliant]]:
                platform_rules.close_by_order(model, int(i), "regulatory_closure")


class Disclosure:
    """Disclosure regime [S0 §V.D, S2]: investors see more of a platform's true risk.

    * Noise: the signal's noise falls, ``sd *= 1 - noise_reduction``.
    * Hidden books: audited loan-level disclosure brings fake (self-dealing) loans into view,
      ``visibility += visibility_gain * (1 - visibility)``, so a Ponzi book looks as risky as
      it is to investors who read the signal (the literate; see ``rules.perceived_failure_prob``).
    """

    def __init__(self, model: P2PModel, cfg) -> None:
        self.model, self.cfg = model, cfg

    def configure(self) -> None:
        model = self.model
        model.signal_noise_scale *= 1.0 - self.cfg.noise_reduction
        model.fake_loan_visibility += self.cfg.visibility_gain * (1.0 - model.fake_loan_visibility)


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


class RiskReserve:
    """Platform risk reserve (风险准备金) [S1 §3(2)]: loan losses hit the reserve first.

    * Funding: a borrower pays ``fee_rate * principal`` into the lending platform's reserve when a
      loan is made. The reserve is ring-fenced (held at a bank, ``Ledger.reserve_cash``): it
      cannot pay redemptions, and an absconding owner cannot take it.
    * Cover: when loans default, the reserve pays the platform ``cover_share`` of the net loss
      (principal minus recovery) while it has money, so investors' claims stay backed.
    * Release: at failure what is left goes into the estate for investors; at an orderly exit,
      to the platform before its owner takes the equity.
    * Belief: with ``advertised`` investors count on ``reserve / claims`` of cover
      (``rules.expected_loss``), the implicit guarantee that regulators later banned as moral
      hazard (2016 Interim Measures: platforms may not promise principal protection).
    * Cost: the fee raises the borrowers' cost of credit (reported as ``reserve_fees``).
    """

    OUTCOMES = ("reserve_fees", "reserve_cover", "reserve_released")

    def __init__(self, model: P2PModel, cfg) -> None:
        self.model, self.cfg = model, cfg

    def start_of_day(self) -> None:
        if not self.cfg.advertised:
            return
        model = self.model
        n = model.platforms.n
        reserve = model.ledger.reserve_cash[:n]
        model.coverage[:n] += np.minimum(reserve / np.maximum(model.platforms.products[:n], 1.0),
                                         1.0)

    def on_loans_made(self, lent: np.ndarray) -> None:
        model = self.model
        n = len(lent)
        fees = self.cfg.fee_rate * lent
        model.ledger.reserve_cash[:n] += fees
        model.ledger.book("reserve_fees", np.arange(n), fees)

    def on_loan_losses(self, net_loss: np.ndarray) -> None:
        model = self.model
        n = len(net_loss)
        reserve = model.ledger.reserve_cash[:n]
        cover = np.minimum(reserve, self.cfg.cover_share * np.maximum(net_loss, 0.0))
        cover = np.where(model.platforms.in_resolution[:n], 0.0, cover)
        reserve -= cover
        model.platforms.cash[:n] += cover
        model.ledger.book("reserve_cover", np.arange(n), cover)
        model.flows_today["reserve_cover"] += float(cover.sum())

    def _release(self, platform: int) -> None:
        model = self.model
        left = float(model.ledger.reserve_cash[platform])
        if left <= 0:
            return
        model.ledger.reserve_cash[platform] = 0.0
        model.platforms.cash[platform] += left
        model.ledger.book_total("reserve_released", platform, left)

    def on_failure(self, platform: int) -> None:
        self._release(platform)

    def on_exit(self, platform: int) -> None:
        self._release(platform)

    def outcomes(self) -> dict:
        led = self.model.ledger
        return {"reserve_fees": led.total("reserve_fees"),
                "reserve_cover": led.total("reserve_cover"),
                "reserve_released": led.total("reserve_released")}


INDICATORS = ("rate_premium", "growth", "maturity_gap", "illiquidity", "complaints")


class EarlyWarning:
    """Early-warning supervision [S4; S0 §V.D: the "three more" platforms].

    Every ``review_days`` the supervisor scores each operating platform on observable indicators
    and inspects the riskiest it can afford to:

    * **Risk index.** Indicators: promised-rate premium over the median, inflow growth over the
      funding window, maturity gap (mean remaining loan term minus mean remaining product term,
      days; demand products count as 0), illiquidity (minus cash / claims) and complaints
      (unpaid backlog / claims, plus 1 while payments are late). Each is standardised across
      operating platforms, ``z = (x - mean) / sd``; the index is ``sum(z) / sqrt(5)`` (about
      N(0, 1) when indicators are unrelated) plus detection error ``N(0, detection_error)``.
      Platforms above ``flag_threshold`` are flagged.
    * **Inspection capacity.** At most ``inspections_per_review`` on-site inspections per
      review: platforms already under an order first (follow-up), then flagged platforms in
      order of their index.
    * **Findings.** An inspection sees the truth: true equity (fake loans at zero) below zero,
      cash below ``min_liquidity`` of claims while payments are late, or, with probability
      ``fraud_detection``, a Ponzi or fraudulent owner. No finding is a false alarm.
    * **Escalation.** Fraud found: orderly wind-down at once. Otherwise each inspection with a
      finding raises the platform one step: (1) recapitalisation order (an honest owner pays in
      the gap, at most ``recapitalisation_limit`` times its capital; others ignore it),
      (2) freeze of new inflows (products run off, then the platform closes), (3) orderly
      wind-down: the estate is frozen and paid pro rata, which ends a first-come-first-served
      run and leaves nothing to abscond with.
    * **Record.** Hits (inspections with a finding), false alarms, and for every failure
      whether a flag came in the ``horizon_days`` before it and how long before (lead time).
    """

    OUTCOMES = ("ew_flags", "ew_inspections", "ew_hits", "ew_false_alarms",
                "ew_recapitalisations", "ew_freezes", "ew_wind_downs", "ew_failures_foreseen",
                "ew_failures_missed", "ew_mean_lead_days")

    def __init__(self, model: P2PModel, cfg) -> None:
        self.model, self.cfg = model, cfg
        capacity = model.platforms.capacity
        self.stage = np.zeros(capacity, dtype=np.int8)
        self.flag_days: dict[int, list[int]] = {}
        self.inspections: list[dict] = []

    def risk_index(self, idx: np.ndarray) -> np.ndarray:
        """The noiseless risk index of platforms ``idx`` (all operating), in index units."""
        model = self.model
        plats, inv, book = model.platforms, model.investors, model.loans
        n = plats.n
        claims = np.maximum(plats.products[:n], 1.0)
        live = book.live()
        real = live[~book.fake[live]]
        loan_days = sum_by(book.platform[real], book.principal[real]
                           * np.maximum(book.maturity[real] - model.day, 0), n)
        loan_term = loan_days / np.maximum(plats.loans[:n] + plats.fake_loans[:n], 1.0)
        held = np.flatnonzero(inv.pos_platform >= 0)
        remaining = np.where(inv.pos_maturity[held] >= NEVER - 1, 0,
                             np.maximum(inv.pos_maturity[held] - model.day, 0))
        product_days = sum_by(inv.pos_platform[held], inv.pos_principal[held] * remaining, n)
        product_term = product_days / claims
        indicators = np.stack([
            plats.rate[:n] - np.median(plats.rate[idx]),
            plats.deposits_window[:n].sum(axis=1) / claims,
            loan_term - product_term,
            -plats.cash[:n] / claims,
            plats.backlog[:n] / claims + (plats.delay_days[:n] > 0),
        ])[:, idx]
        sd = indicators.std(axis=1, keepdims=True)
        z = (indicators - indicators.mean(axis=1, keepdims=True)) / np.where(sd > 1e-12, sd, 1.0)
        return z.sum(axis=0) / np.sqrt(len(INDICATORS))

    def end_of_day(self) -> None:
        model, cfg = self.model, self.cfg
        if model.day < cfg.start_day or (model.day - cfg.start_day) % cfg.review_days:
            return
        plats = model.platforms
        operating = np.flatnonzero(plats.operating_mask())
        if len(operating) < 2:
            return
        index = (self.risk_index(operating)
                 + cfg.detection_error * model.rng.standard_normal(len(operating)))
        flagged = operating[index > cfg.flag_threshold]
        for i in flagged:
            self.flag_days.setdefault(int(i), []).append(model.day)
        follow_up = operating[self.stage[operating] > 0]
        new = flagged[self.stage[flagged] == 0]
        new = new[np.argsort(-index[np.searchsorted(operating, new)], kind="stable")]
        for i in np.concatenate([follow_up, new])[: cfg.inspections_per_review]:
            self._inspect(int(i), float(index[np.searchsorted(operating, i)]))

    def _inspect(self, i: int, index: float) -> None:
        model, cfg = self.model, self.cfg
        plats = model.platforms
        claims = max(float(plats.products[i]), 1.0)
        true_equity = float(plats.cash[i] + plats.loans[i] - plats.products[i])
        illiquid = plats.cash[i] < cfg.min_liquidity * claims and plats.delay_days[i] > 0
        dishonest = plats.owner[i] != Owner.HONEST
        fraud_found = bool(dishonest and model.rng.random() < cfg.fraud_detection)
        findings = [name for name, found in (("fraud", fraud_found),
                                             ("insolvent", true_equity < 0),
                                             ("illiquid", illiquid)) if found]
        record = {"day": model.day, "platform": i, "index": index, "findings": findings,
                  "hit": bool(findings), "action": "none"}
        self.inspections.append(record)
        if not findings:
            model.log_event("inspection", i, index=index, findings="none")
            return
        self.stage[i] = 3 if fraud_found else self.stage[i] + 1
        if self.stage[i] == 1:
            record["action"] = "recapitalise"
            gap = max(-true_equity, 0.0) + max(cfg.min_liquidity * claims + plats.backlog[i]
                                               - plats.cash[i], 0.0)
            paid = 0.0 if dishonest else min(gap, cfg.recapitalisation_limit * plats.capital[i])
            plats.cash[i] += paid
            plats.capital[i] += paid
            model.ledger.book_total("capital_ordered", i, paid)
            model.log_event("recapitalisation_order", i, index=index, findings=",".join(findings),
                            gap=gap, paid=paid)
        elif self.stage[i] == 2:
            record["action"] = "freeze"
            platform_rules.stop_new_business(model, i, "supervisory_winddown", "inflow_freeze",
                                             index=index, findings=",".join(findings))
        else:
            record["action"] = "wind_down"
            platform_rules.start_resolution(model, i, Status.CLOSED, "supervisory_winddown",
                                            findings=",".join(findings))

    def outcomes(self) -> dict:
        """Hits, false alarms, interventions, and how well flags foresaw failures."""
        model, cfg = self.model, self.cfg
        actions = [r["action"] for r in self.inspections]
        foreseen, leads = 0, []
        disorderly = [f for f in model.failures if f["cause"] in ("run", "insolvency", "absconding")]
        for f in disorderly:
            before = [d for d in self.flag_days.get(f["platform"], [])
                      if f["day"] - cfg.horizon_days <= d <= f["day"]]
            if before:
                foreseen += 1
                leads.append(f["day"] - min(before))
        wound = [f for f in model.failures if f["cause"] == "supervisory_winddown"]
        wound += [e for e in model.events
                  if e["event"] == "exit" and e.get("cause") == "supervisory_winddown"]
        for f in wound:
            leads.append(f["day"] - min(self.flag_days.get(f["platform"], [f["day"]])))
        hits = sum(r["hit"] for r in self.inspections)
        return {
            "ew_flags": sum(len(v) for v in self.flag_days.values()),
            "ew_inspections": len(self.inspections),
            "ew_hits": hits,
            "ew_false_alarms": len(self.inspections) - hits,
            "ew_recapitalisations": actions.count("recapitalise"),
            "ew_freezes": actions.count("freeze"),
            "ew_wind_downs": len(wound),
            "ew_failures_foreseen": foreseen,
            "ew_failures_missed": len(disorderly) - foreseen,
            "ew_mean_lead_days": float(np.mean(leads)) if leads else None,
        }


class Policies:
    """The active policies of a model, called at their hooks in a fixed order."""

    def __init__(self, model: P2PModel) -> None:
        self.model = model
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
        self.risk_reserve = (RiskReserve(model, cfg.risk_reserve)
                             if cfg.risk_reserve.enabled else None)
        self.early_warning = (EarlyWarning(model, cfg.early_warning)
                              if cfg.early_warning.enabled else None)

    @property
    def active(self) -> list:
        return [p for p in (self.protection_fund, self.custody, self.liquidity_reserve,
                            self.redemption_gates, self.entry_threshold, *self.simple,
                            self.risk_reserve, self.early_warning)
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
        # Cover investors count on is rebuilt each day from the policies that provide it.
        self.model.coverage[:] = 0.0
        self._call("start_of_day")

    def end_of_day(self) -> None:
        self._call("end_of_day")

    def on_failure(self, platform: int) -> None:
        self._call("on_failure", platform)

    def on_exit(self, platform: int) -> None:
        self._call("on_exit", platform)

    def on_loans_made(self, lent: np.ndarray) -> None:
        """``lent``: yuan lent today per platform."""
        self._call("on_loans_made", lent)

    def on_loan_losses(self, net_loss: np.ndarray) -> None:
        """``net_loss``: defaulted principal minus recoveries today, per platform, yuan."""
        self._call("on_loan_losses", net_loss)

    def on_platforms_created(self, idx: np.ndarray) -> None:
        self._call("on_platforms_created", idx)

    def admits(self, capital: np.ndarray) -> np.ndarray:
        """Which would-be entrants with this registered capital may enter."""
        if self.entry_threshold is None:
            return np.ones(len(capital), dtype=bool)
        return self.entry_threshold.admits(capital)

    def outcomes(self) -> dict:
        fund = self.protection_fund
        reserve = (self.risk_reserve.outcomes() if self.risk_reserve
                   else dict.fromkeys(RiskReserve.OUTCOMES, 0.0))
        warning = (self.early_warning.outcomes() if self.early_warning
                   else dict.fromkeys(EarlyWarning.OUTCOMES))
        return {
            "protection_fund_dry_day": None if fund is None else fund.dry_day,
            "protection_credibility_end": None if fund is None else fund.credibility,
            **reserve,
            **warning,
        }
