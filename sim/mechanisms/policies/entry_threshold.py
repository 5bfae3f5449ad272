"""Entry threshold: minimum registered capital [S0 §V.B, S1 §3(1)]."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from sim.market import lifecycle
from sim.mechanisms.policies.base import Policy, PolicyConfig
from sim.schema import Days, Money, Share
from sim.vocabulary import EventKind, FailureCause, Owner


class EntryThresholdConfig(PolicyConfig):
    """Minimum registered capital for entrants; incumbents must comply in a grace period."""

    min_capital: Money = Field(
        5e7, description="Minimum registered capital, real yuan (default 50 million, about the "
        "mean registered capital of 2017 entrants).")
    grace_days: Days = Field(180, description="Days incumbents have to comply or exit.")
    comply_share: Share = Field(
        1.0, description="Share of honest owners below the threshold who pay in the missing "
        "capital; the others wind down in order by the deadline.")


class EntryThreshold(Policy):
    """Minimum registered capital [S0 §V.B, S1 §3(1)].

    Entrants whose registered capital (real yuan) is below ``min_capital`` are refused.
    Incumbents below it have ``grace_days`` from the first day the threshold applies (day 1,
    or ``start``): a share ``comply_share`` of honest owners pay in the missing capital (drawn
    on that day); the other honest owners and the fraud-prone ones, who would rather not, stop
    new business and are closed at the end of the grace period. While it acts
    it is an entry regime (registration), which deters entrants beyond those it refuses.
    """

    name = "entry_threshold"
    config_model = EntryThresholdConfig
    restricts_entry = True

    def __init__(self, model, config: EntryThresholdConfig) -> None:
        super().__init__(model, config)
        self.noncompliant: np.ndarray | None = None

    def admits(self, capital: np.ndarray) -> np.ndarray:
        """Entrants with at least ``min_capital`` of registered capital, real yuan."""
        return capital >= self.cfg.min_capital

    def start_of_day(self) -> None:
        """First day: incumbents comply or are given notice; at the deadline the rest close."""
        model = self.model
        plats = model.platforms
        n = plats.n
        first = max(1, self.cfg.start)
        deadline = first + self.cfg.grace_days - 1
        if model.day == first:
            below = np.flatnonzero(plats.operating_mask()
                                   & (plats.registered_capital[:n] < self.cfg.min_capital))
            honest = below[plats.owner[below] == Owner.HONEST]
            honest = honest[model.mechanism_rng(self.name).random(len(honest)) < self.cfg.comply_share]
            missing = self.cfg.min_capital - plats.registered_capital[honest]
            top_up = missing / plats.yuan_scale  # in the sample's yuan
            plats.registered_capital[honest] += missing
            plats.capital[honest] += top_up
            model.ledger.transfer("capital_in", top_up, honest)
            self.noncompliant = np.setdiff1d(below, honest)
            for i in self.noncompliant:
                lifecycle.stop_new_business(model, int(i), FailureCause.REGULATORY_CLOSURE,
                                            EventKind.DEADLINE_NOTICE,
                                            cause=FailureCause.REGULATORY_CLOSURE,
                                            deadline_day=deadline)
        if model.day == deadline and self.noncompliant is not None:
            for i in self.noncompliant[plats.operating_mask()[self.noncompliant]]:
                lifecycle.close_by_order(model, int(i), FailureCause.REGULATORY_CLOSURE)
