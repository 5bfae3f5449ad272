"""Liquidity reserve ratio [S2 流动性管理: 资金储备]."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from sim.mechanisms.policies.base import Policy, PolicyConfig
from sim.schema import Share


class LiquidityReserveConfig(PolicyConfig):
    """Minimum cash against product liabilities [S2 流动性管理: 资金储备]."""

    ratio: Share = Field(0.2, description="Cash a platform must hold, share of its claims.")


class LiquidityReserve(Policy):
    """A platform must keep ``ratio`` of its claims in cash: it lends only above that.

    The cash buffer target becomes ``max(buffer_target, ratio)``.
    """

    name = "liquidity_reserve"
    config_model = LiquidityReserveConfig

    def on_platforms_created(self, idx: np.ndarray) -> None:
        """Raise new platforms' cash buffer target to the reserve ratio."""
        plats = self.model.platforms
        plats.buffer_target[idx] = np.maximum(plats.buffer_target[idx], self.cfg.ratio)
