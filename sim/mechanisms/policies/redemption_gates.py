"""Redemption gates: suspension of convertibility under a run (Diamond and Dybvig 1983)."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from sim.mechanisms.policies.base import Policy, PolicyConfig
from sim.schema import Days, Share
from sim.vocabulary import EventKind


class RedemptionGateConfig(PolicyConfig):
    """Suspension of early redemptions under a run (Diamond and Dybvig 1983)."""

    trigger: Share = Field(
        0.05, description="A day's requests above this share of claims close the gate.")
    days: Days = Field(30, description="Days the gate stays closed.")


class RedemptionGates(Policy):
    """Suspension of convertibility: a run closes the gate on early redemptions for a while.

    When a day's requests at a platform exceed ``trigger`` of its claims, early redemptions of
    demand products are refused for ``days`` (Diamond and Dybvig 1983). Maturing term products
    are still paid.
    """

    name = "redemption_gates"
    config_model = RedemptionGateConfig

    def end_of_day(self) -> None:
        """Close the gate where today's requests crossed the trigger."""
        model = self.model
        plats = model.platforms
        n = plats.n
        heavy = model.requests_today[:n] > self.cfg.trigger * np.maximum(plats.products[:n], 1.0)
        closing = heavy & (plats.gate_until[:n] <= model.day) & plats.operating_mask()
        for i in np.flatnonzero(closing):
            model.log_event(EventKind.GATE_CLOSED, int(i), until=model.day + self.cfg.days)
        plats.gate_until[:n] = np.where(closing, model.day + self.cfg.days, plats.gate_until[:n])
