"""Scheduled shocks, applied at the start of the day they are active.

Each shock writes into the model's hook arrays (``news_extra``, ``liquidity_multiplier``) for the
days it lasts and logs ``shock_start`` and ``shock_end`` events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.config import ScenarioError

if TYPE_CHECKING:
    from sim.config import ShockConfig
    from sim.model import P2PModel


def platform_index(model: P2PModel, name: str) -> int:
    """Index of the platform with this name; raises ``ScenarioError`` listing known names."""
    for agent in model.platform_agents:
        if agent.name == name:
            return agent.index
    known = ", ".join(a.name for a in model.platform_agents[:20])
    raise ScenarioError(f"field 'shocks.platform' = {name!r} names no platform; "
                        f"use a custom platform name or an id such as {known.split(', ')[0]} "
                        f"(known: {known}, ...)")


def _targets(model: P2PModel, shock: ShockConfig) -> np.ndarray | slice:
    if shock.platform is None:
        return slice(0, model.platforms.capacity)
    return np.array([platform_index(model, shock.platform)])


def apply_shocks(model: P2PModel) -> None:
    """Reset the shock hooks, then add every shock active today.

    * rumour: ``news_extra[target] += size`` -- investors read it like public distress news
      (MODEL.md Shocks: fear jumps without any change in fundamentals [S0 §IV.A, S3]).
    * liquidity: ordinary redemption need is multiplied by ``1 + size``.
    """
    model.news_extra[:] = 0.0
    model.liquidity_multiplier = 1.0
    for number, shock in enumerate(model.config.shocks):
        end = shock.start + shock.duration
        if not shock.start <= model.day < end:
            continue
        if model.day == shock.start:
            model.log_event("shock_start", -1, cause=shock.type, shock=number, size=shock.size,
                            target=shock.platform or "market", duration=shock.duration)
        if shock.type == "rumour":
            model.news_extra[_targets(model, shock)] += shock.size
        elif shock.type == "liquidity":
            model.liquidity_multiplier *= 1.0 + shock.size
        if model.day == end - 1:
            model.log_event("shock_end", -1, cause=shock.type, shock=number)
