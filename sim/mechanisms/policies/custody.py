"""Bank custody of investor money [S1 §3(2), S2]."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from sim.mechanisms.policies.base import Policy, PolicyConfig
from sim.schema import Share


class CustodyConfig(PolicyConfig):
    """Bank custody / segregation of investor money [S1 §3(2), S2]."""

    share: Share = Field(1.0, description="Share of platforms whose funds are held at a bank.")


class Custody(Policy):
    """Bank custody of investor money [S1 §3(2), S2].

    A platform under custody holds no pool of its own: an absconding owner finds nothing to take,
    a Ponzi owner cannot divert cash into fake loans, and without a pool it cannot offer products
    redeemable on demand (no maturity transformation beyond matched terms). Each platform comes
    under custody with probability ``share``.
    """

    name = "custody"
    config_model = CustodyConfig

    def on_platforms_created(self, idx: np.ndarray) -> None:
        """Draw which new platforms are under custody; they sell no demand products."""
        plats = self.model.platforms
        under = self.model.rng.random(len(idx)) < self.cfg.share
        plats.custody[idx] = under
        plats.demand_share[idx] = np.where(under, 0.0, plats.demand_share[idx])
