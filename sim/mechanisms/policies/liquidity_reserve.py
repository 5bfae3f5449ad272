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

    def __init__(self, model, config: LiquidityReserveConfig) -> None:
        super().__init__(model, config)
        self._before: dict[int, float] = {}

    def on_platforms_created(self, idx: np.ndarray) -> None:
        """Raise new platforms' cash buffer target to the reserve ratio."""
        plats = self.model.platforms
        self._before.update(zip(idx.tolist(), plats.buffer_target[idx].tolist(), strict=True))
        plats.buffer_target[idx] = np.maximum(plats.buffer_target[idx], self.cfg.ratio)

    def finish(self) -> None:
        """Platforms go back to their own buffer targets."""
        plats = self.model.platforms
        for i, target in self._before.items():
            plats.buffer_target[i] = target
