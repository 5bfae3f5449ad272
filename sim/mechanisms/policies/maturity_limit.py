"""Maturity matching limit (MODEL.md, Policies)."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from sim.mechanisms.policies.base import Policy, PolicyConfig
from sim.schema import Days


class MaturityLimitConfig(PolicyConfig):
    """Maturity matching: products no shorter than ``min_term_days`` and none on demand."""

    min_term_days: Days = Field(180, description="Shortest product a platform may sell, days.")


class MaturityLimit(Policy):
    """Maturity matching: no product shorter than ``min_term_days``, none redeemable on demand."""

    name = "maturity_limit"
    config_model = MaturityLimitConfig

    def configure(self) -> None:
        """Drop product terms below the minimum (keep the minimum if none is left)."""
        conditions = self.model.conditions
        terms = conditions.product_terms
        self._before = terms
        allowed = terms[terms >= self.cfg.min_term_days]
        conditions.product_terms = (allowed if len(allowed)
                                    else np.array([self.cfg.min_term_days]))

    def on_platforms_created(self, idx: np.ndarray) -> None:
        """New platforms sell no demand products."""
        self.model.platforms.demand_share[idx] = 0.0

    def finish(self) -> None:
        """Short terms are allowed again (demand products stay gone)."""
        self.model.conditions.product_terms = self._before
