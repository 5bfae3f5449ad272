"""The one scenario builder of the tests, its variants, and state helpers.

:func:`small_scenario` returns a fresh, validated :class:`sim.config.Scenario` small enough to
run in well under a second: 8 platforms, 400 investors, 100 borrowers, 40 days, with
conservation checks on. Every other builder starts from it and changes tables with
:func:`changed`.
"""

from __future__ import annotations

import numpy as np

from sim.config import CustomPlatform, Scenario
from sim.model import P2PModel


def changed(sc: Scenario, **sections) -> Scenario:
    """``sc`` with fields changed in place; ``sections`` map a table to field values.

    Example: ``changed(sc, platforms={"count": 5}, investors={"count": 300})``. Every value is
    validated as it is set.
    """
    for section, values in sections.items():
        target = getattr(sc, section)
        for key, value in values.items():
            setattr(target, key, value)
    return sc


def small_scenario(**sections) -> Scenario:
    """A small market; ``sections`` map a scenario table to field overrides (see :func:`changed`).

    Balance sheets are drawn relative to the investor base, so they need no scaling here.
    """
    sc = Scenario()
    sc.name = "test"
    sc.run.days = 40
    sc.run.check_invariants = True
    sc.platforms.count = 8
    sc.investors.count = 400
    sc.borrowers.count = 100
    return changed(sc, **sections)


def calm_scenario(**sections) -> Scenario:
    """A small market with honest owners only and no entry: nothing fails by itself."""
    platforms = {"share_ponzi": 0.0, "share_fraud": 0.0, "entry_per_year": 0.0}
    platforms.update(sections.pop("platforms", {}))
    return small_scenario(platforms=platforms, **sections)


def run_scenario(**sections) -> Scenario:
    """A market prone to runs: mostly on-demand products, thin buffers, high liquidity needs."""
    platforms = {"demand_share": 0.8, "cash_buffer_target": 0.01, "entry_per_year": 0.0}
    platforms.update(sections.pop("platforms", {}))
    investors = {"liquidity_need_per_year": 12.0}
    investors.update(sections.pop("investors", {}))
    return small_scenario(platforms=platforms, investors=investors, **sections)


def with_custom(sc: Scenario, *platforms: CustomPlatform) -> Scenario:
    """Add named platforms (they come after the random ones, in the order given)."""
    sc.platforms.custom = [*sc.platforms.custom, *platforms]
    return sc


def model_of(sc: Scenario, days: int = 0, **kwargs) -> P2PModel:
    """Build a model of ``sc`` and step it ``days`` days."""
    model = P2PModel(sc, **kwargs)
    model.run(days)
    return model


def index_of(model: P2PModel, name: str) -> int:
    """Row of the platform called ``name``."""
    return next(a.index for a in model.platform_agents if a.name == name)


def held_slots(model: P2PModel, platform: int) -> np.ndarray:
    """Position slots held at ``platform``."""
    return np.flatnonzero(model.investors.pos_platform == platform)


def set_cash(model: P2PModel, platform: int, amount: float) -> None:
    """Set a platform's cash and book the change as paid-in (or withdrawn) capital.

    The ledger stays balanced, so a test can still run ``model.ledger.check`` afterwards.
    """
    delta = amount - float(model.platforms.cash[platform])
    model.platforms.cash[platform] = amount
    model.ledger.book_total("capital_in", platform, delta)


def live_real_loans(model: P2PModel, platform: int | None = None) -> np.ndarray:
    """Rows of live, real (not fake) loans, optionally of one platform."""
    book = model.loans
    live = book.live()
    live = live[~book.fake[live]]
    if platform is not None:
        live = live[book.platform[live] == platform]
    return live
