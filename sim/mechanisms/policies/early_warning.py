"""Early-warning supervision [S4; S0 §V.D: the "three more" platforms]."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from sim.market import lifecycle
from sim.market.arraytools import sum_by
from sim.market.ledger import OUTSIDE, PLATFORM_CASH, Flow
from sim.mechanisms.policies.base import Policy, PolicyConfig
from sim.schema import Count, Days, Share
from sim.vocabulary import (
    DISORDERLY_CAUSES,
    EventKind,
    FailureCause,
    Outcome,
    Owner,
    Status,
    Unit,
)

INDICATORS = ("rate_premium", "growth", "maturity_gap", "illiquidity", "complaints")


class EarlyWarningConfig(PolicyConfig):
    """Early-warning supervision [S4; S0 §V.D]: risk index, inspections, escalating actions."""

    review_days: Days = Field(30, description="Days between supervisory reviews.")
    flag_threshold: Annotated[float, Field(ge=-100.0, le=100.0)] = Field(
        1.0, description="Risk index (in standard deviations across operating platforms) above "
        "which a platform is flagged.")
    detection_error: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        0.5, description="Standard deviation of the noise on the risk index, in index units.")
    inspections_per_review: Count = Field(
        5, description="On-site inspections the supervisor can make at each review.")
    fraud_detection: Share = Field(
        0.7, description="Chance an inspection uncovers a fraudulent owner's intent.")
    min_liquidity: Share = Field(
        0.02, description="Cash below this share of claims, with payments late, is a finding.")
    recapitalisation_limit: Annotated[float, Field(ge=0.0, le=1000.0)] = Field(
        1.0, description="Most an honest owner pays in when ordered, as a multiple of its "
        "registered capital.")
    horizon_days: Days = Field(
        180, description="A failure within this many days of a flag counts as foreseen.")

class EarlyWarning(Policy):
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

    name = "early_warning"
    config_model = EarlyWarningConfig
    outcomes = (
        Outcome("ew_flags", "early warning: flags raised", Unit.COUNT),
        Outcome("ew_inspections", "early warning: inspections", Unit.COUNT),
        Outcome("ew_hits", "early warning: inspections with a finding", Unit.COUNT),
        Outcome("ew_false_alarms", "early warning: false alarms", Unit.COUNT),
        Outcome("ew_recapitalisations", "early warning: recapitalisation orders", Unit.COUNT),
        Outcome("ew_freezes", "early warning: inflow freezes", Unit.COUNT),
        Outcome("ew_wind_downs", "early warning: orderly wind-downs", Unit.COUNT),
        Outcome("ew_failures_foreseen", "early warning: failures flagged beforehand", Unit.COUNT,
                +1),
        Outcome("ew_failures_missed", "early warning: failures missed", Unit.COUNT, -1),
        Outcome("ew_mean_lead_days", "early warning: mean lead time", Unit.DAY),
    )
    flows = (Flow("capital_ordered", OUTSIDE, PLATFORM_CASH,
                  description="an owner pays in capital on a supervisor's order"),)

    def __init__(self, model, config: EarlyWarningConfig) -> None:
        super().__init__(model, config)
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
        remaining = np.where(inv.pos_maturity[held] >= inv.never - 1, 0,
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
        """On review days: score, flag and inspect the riskiest platforms it can afford to."""
        model, cfg = self.model, self.cfg
        if (model.day - cfg.start) % cfg.review_days:
            return
        plats = model.platforms
        operating = np.flatnonzero(plats.operating_mask())
        if len(operating) < 2:
            return
        index = (self.risk_index(operating)
                 + cfg.detection_error * model.mechanism_rng(self.name).standard_normal(len(operating)))
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
        fraud_found = bool(dishonest and model.mechanism_rng(self.name).random() < cfg.fraud_detection)
        findings = [name for name, found in (("fraud", fraud_found),
                                             ("insolvent", true_equity < 0),
                                             ("illiquid", illiquid)) if found]
        record = {"day": model.day, "platform": i, "index": index, "findings": findings,
                  "hit": bool(findings), "action": "none"}
        self.inspections.append(record)
        if not findings:
            model.log_event(EventKind.INSPECTION, i, index=index, findings="none")
            return
        self.stage[i] = 3 if fraud_found else self.stage[i] + 1
        if self.stage[i] == 1:
            record["action"] = "recapitalise"
            gap = max(-true_equity, 0.0) + max(cfg.min_liquidity * claims + plats.backlog[i]
                                               - plats.cash[i], 0.0)
            paid = 0.0 if dishonest else min(gap, cfg.recapitalisation_limit * plats.capital[i])
            plats.capital[i] += paid
            model.ledger.transfer("capital_ordered", paid, i)
            model.log_event(EventKind.RECAPITALISATION_ORDER, i, index=index, findings=",".join(findings),
                            gap=gap, paid=paid)
        elif self.stage[i] == 2:
            record["action"] = "freeze"
            lifecycle.stop_new_business(model, i, FailureCause.SUPERVISORY_WINDDOWN,
                                        EventKind.INFLOW_FREEZE,
                                             index=index, findings=",".join(findings))
        else:
            record["action"] = "wind_down"
            lifecycle.start_resolution(model, i, Status.CLOSED, FailureCause.SUPERVISORY_WINDDOWN,
                                            findings=",".join(findings))

    def measure(self) -> dict:
        """Hits, false alarms, interventions, and how well flags foresaw failures."""
        model, cfg = self.model, self.cfg
        actions = [r["action"] for r in self.inspections]
        foreseen, leads = 0, []
        disorderly = [f for f in model.failures if f["cause"] in DISORDERLY_CAUSES]
        for f in disorderly:
            before = [d for d in self.flag_days.get(f["platform"], [])
                      if f["day"] - cfg.horizon_days <= d <= f["day"]]
            if before:
                foreseen += 1
                leads.append(f["day"] - min(before))
        wound = [f for f in model.failures if f["cause"] == FailureCause.SUPERVISORY_WINDDOWN]
        wound += [e for e in model.events if e["event"] == EventKind.EXIT
                  and e.get("cause") == FailureCause.SUPERVISORY_WINDDOWN]
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


