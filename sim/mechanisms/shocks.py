"""Scheduled shocks, applied at the start of each day they are active.

Every day the shock hooks are reset to calm values and each active shock writes into them, so a
shock acts exactly from ``start`` to ``start + duration - 1``. Each shock logs ``shock_start`` on
its first day and ``shock_end`` on its last. Shock types are described in
:class:`sim.config.ShockConfig` (MODEL.md, "Shocks").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.config import ScenarioError

if TYPE_CHECKING:
    from sim.config import ShockConfig
    from sim.model import P2PModel

REGULATORY_WARNING_NEWS = 0.5  # news intensity of being named non-compliant


def platform_index(model: P2PModel, name: str | None) -> int:
    """Index of a platform by name, or of the largest open platform for ``None``/'largest'."""
    if name is None or name == "largest":
        plats = model.platforms
        claims = np.where(plats.operating_mask(), plats.products[: plats.n], -1.0)
        return int(np.argmax(claims))
    for agent in model.platform_agents:
        if agent.name == name:
            return agent.index
    known = [a.name for a in model.platform_agents[:12]]
    raise ScenarioError(f"field 'shocks.platform' = {name!r} names no platform; use a custom "
                        f"platform name, an id such as {known[0]}, or 'largest' "
                        f"(known: {', '.join(known)}, ...)")


def check_targets(model: P2PModel) -> None:
    """Fail early, with a user-facing message, on a shock naming an unknown platform or sector."""
    sectors = model.config.borrowers.sectors
    for shock in model.config.shocks:
        if shock.platform not in (None, "largest"):
            platform_index(model, shock.platform)
        if shock.sector is not None and shock.sector >= sectors:
            raise ScenarioError(f"field 'shocks.sector' = {shock.sector} is invalid: the scenario "
                                f"has {sectors} sectors (0 to {sectors - 1})")


def _targets(model: P2PModel, shock: ShockConfig) -> np.ndarray | slice:
    if shock.platform is None:
        return slice(0, model.platforms.capacity)
    return np.array([platform_index(model, shock.platform)])


def reset_hooks(model: P2PModel) -> None:
    """Calm values of everything shocks write to."""
    model.news_shock[:] = 0.0
    model.outage[:] = False
    model.sector_multiplier[:] = 1.0
    model.liquidity_multiplier = 1.0
    model.outside_rate = model.config.market.outside_rate


def apply_shocks(model: P2PModel) -> None:
    """Reset the hooks, then apply every shock active today (see :class:`ShockConfig`)."""
    reset_hooks(model)
    for number, shock in enumerate(model.config.shocks):
        end = shock.start + shock.duration
        if not shock.start <= model.day < end:
            continue
        first = model.day == shock.start
        if shock.type == "credit":
            sectors = slice(None) if shock.sector is None else shock.sector
            model.sector_multiplier[sectors] *= 1.0 + shock.size
        elif shock.type == "funding":
            model.outside_rate += shock.size
        elif shock.type == "liquidity":
            model.liquidity_multiplier *= 1.0 + shock.size
        elif shock.type == "rumour":
            model.news_shock[_targets(model, shock)] += shock.size
        elif shock.type == "outage":
            target = model.shock_targets.setdefault(number, platform_index(model, shock.platform))
            model.outage[target] = True
        elif shock.type == "fraud" and first:
            target = platform_index(model, shock.platform)
            model.shock_targets[number] = target
            from sim.market import lifecycle as platforms

            if model.platforms.operating_mask()[target]:  # a failed platform cannot abscond again
                platforms.force_abscond(model, target, cause="absconding")
        elif shock.type == "deadline":
            _deadline(model, number, shock, first, last=model.day == end - 1)
        if first:
            target = model.shock_targets.get(number)
            model.log_event("shock_start", -1 if target is None else target, cause=shock.type,
                            shock=number, size=shock.size, duration=shock.duration,
                            target=shock.platform or ("market" if target is None else "largest"),
                            sector=shock.sector)
        if model.day == end - 1:
            model.log_event("shock_end", -1, cause=shock.type, shock=number)


def _deadline(model: P2PModel, number: int, shock: ShockConfig, first: bool, last: bool) -> None:
    """Non-compliant platforms stop new business at once and are closed on the deadline.

    Being named non-compliant is public news (a regulatory warning) while the deadline runs.
    """
    from sim.market import lifecycle as platforms

    plats = model.platforms
    n = plats.n
    if first:
        noncompliant = np.flatnonzero(plats.operating_mask() & (plats.capital[:n] < shock.size))
        model.noncompliant[number] = noncompliant
        for i in noncompliant:
            platforms.stop_new_business(model, int(i), "regulatory_closure", "deadline_notice",
                                        cause="regulatory_closure",
                                        deadline_day=shock.start + shock.duration - 1)
    named = model.noncompliant.get(number, np.empty(0, dtype=np.int64))
    still = named[plats.operating_mask()[named]] if len(named) else named
    model.news_shock[still] += REGULATORY_WARNING_NEWS
    if last:
        for i in still:
            platforms.close_by_order(model, int(i), "regulatory_closure")
