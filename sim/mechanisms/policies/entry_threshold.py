"""Entry threshold: minimum registered capital [S0 §V.B, S1 §3(1)]."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from sim.market import lifecycle
from sim.mechanisms.policies.base import Policy, PolicyConfig
from sim.schema import Days, Money
from sim.vocabulary import EventKind, FailureCause, Owner


class EntryThresholdConfig(PolicyConfig):
    """Minimum registered capital for entrants; incumbents must comply in a grace period."""

    min_capital: Money = Field(5e6, description="Minimum registered capital, yuan.")
    grace_days: Days = Field(180, description="Days incumbents have to comply or exit.")


class EntryThreshold(Policy):
    """Minimum registered capital [S0 §V.B, S1 §3(1)].

    Entrants below ``min_capital`` are refused. Incumbents below it have ``grace_days``: honest
    owners pay in the missing capital; fraud-prone owners, who would rather not, stop new
    business and are closed at the end of the grace period.
    """

    name = "entry_threshold"
    config_model = EntryThresholdConfig

    def __init__(self, model, config: EntryThresholdConfig) -> None:
        super().__init__(model, config)
        self.noncompliant: np.ndarray | None = None

    def admits(self, capital: np.ndarray) -> np.ndarray:
        """Entrants with at least ``min_capital`` yuan."""
        return capital >= self.cfg.min_capital

    def start_of_day(self) -> None:
        """Day 1: incumbents comply or are given notice; at the deadline the rest close."""
        model = self.model
        plats = model.platforms
        n = plats.n
        if model.day == 1:
            below = np.flatnonzero(plats.operating_mask()
                                   & (plats.capital[:n] < self.cfg.min_capital))
            honest = below[plats.owner[below] == Owner.HONEST]
            top_up = self.cfg.min_capital - plats.capital[honest]
            plats.capital[honest] += top_up
            model.ledger.transfer("capital_in", top_up, honest)
            self.noncompliant = below[plats.owner[below] != Owner.HONEST]
            for i in self.noncompliant:
                lifecycle.stop_new_business(model, int(i), FailureCause.REGULATORY_CLOSURE,
                                            EventKind.DEADLINE_NOTICE,
                                            cause=FailureCause.REGULATORY_CLOSURE,
                                            deadline_day=self.cfg.grace_days)
        if model.day == self.cfg.grace_days and self.noncompliant is not None:
            for i in self.noncompliant[plats.operating_mask()[self.noncompliant]]:
                lifecycle.close_by_order(model, int(i), FailureCause.REGULATORY_CLOSURE)
