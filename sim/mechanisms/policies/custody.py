"""Bank custody of investor money [S1 §3(2), S2]."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from sim.mechanisms.policies.base import Policy, PolicyConfig
from sim.schema import Share


class CustodyConfig(PolicyConfig):
    """Bank custody / segregation of investor money [S1 §3(2), S2]."""

    share: Share = Field(1.0, description="Share of platforms whose funds are held at a bank.")
    phase_in_days: Annotated[int, Field(ge=0, le=10_000)] = Field(
        0, description="Days over which the share under custody rises linearly from 0 to "
        "share (0: at once). Custody spread from about 5% of platforms in early 2017 to about "
        "68% by late 2018.")


class Custody(Policy):
    """Bank custody of investor money [S1 §3(2), S2].

    A platform under custody holds no pool of its own: an absconding owner finds nothing to take,
    a Ponzi owner cannot divert cash into fake loans, and without a pool it cannot offer products
    redeemable on demand (no maturity transformation beyond matched terms).

    Each platform draws a uniform ``u`` when the policy first meets it; it is under custody once
    ``u < share * min(1, (day - start + 1) / phase_in_days)``, so the share under custody rises
    linearly over the phase-in and each platform, once in, stays in.
    """

    name = "custody"
    config_model = CustodyConfig

    def __init__(self, model, config: CustodyConfig) -> None:
        super().__init__(model, config)
        self.draw = np.ones(model.platforms.capacity)  # 1: never under custody

    def _share_now(self) -> float:
        if self.cfg.phase_in_days <= 0:
            return self.cfg.share
        progress = (self.model.day - self.cfg.start + 1) / self.cfg.phase_in_days
        return self.cfg.share * min(1.0, max(progress, 0.0))

    def _apply(self, idx: np.ndarray) -> None:
        plats = self.model.platforms
        under = self.draw[idx] < self._share_now()
        newly = idx[under & ~plats.custody[idx]]
        plats.custody[newly] = True
        plats.demand_share[newly] = 0.0

    def on_platforms_created(self, idx: np.ndarray) -> None:
        """Draw each new platform's place in the phase-in; those within it come under custody."""
        self.draw[idx] = self.model.mechanism_rng(self.name).random(len(idx))
        self._apply(idx)

    def start_of_day(self) -> None:
        """During the phase-in, more platforms come under custody each day."""
        if self.cfg.phase_in_days > 0:
            self._apply(np.flatnonzero(self.model.platforms.operating_mask()))
