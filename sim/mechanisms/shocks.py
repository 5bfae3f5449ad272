"""Scheduled shocks (MODEL.md, "Shocks"): one class per type, registered by its type name.

A scenario's ``[[shocks]]`` tables name a ``type``; the type list of the schema is read from the
registry here. Every day :class:`ShockSchedule` puts the market conditions that shocks write back
at their calm values, then lets each active shock apply itself, so a shock acts exactly from
``start`` to ``start + duration - 1``. Each shock logs ``shock_start`` on its first day and
``shock_end`` on its last.

A new shock type is one :class:`Shock` subclass here (with its tests); its ``size`` is described
by ``size_meaning`` and bounded by ``max_size``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.market import lifecycle
from sim.schema import ScenarioError
from sim.vocabulary import EventKind, FailureCause

if TYPE_CHECKING:
    from sim.market.conditions import MarketConditions
    from sim.model import P2PModel

REGULATORY_WARNING_NEWS = 0.5  # news intensity of being named non-compliant
LARGEST = "largest"  # the target name of the largest open platform (by claims)

_REGISTRY: dict[str, type[Shock]] = {}


def platform_index(model: P2PModel, name: str | None) -> int:
    """Index of a platform by name, or of the largest open platform for ``None``/'largest'."""
    if name is None or name == LARGEST:
        plats = model.platforms
        claims = np.where(plats.operating_mask(), plats.products[: plats.n], -1.0)
        return int(np.argmax(claims))
    for agent in model.platform_agents:
        if agent.name == name:
            return agent.index
    known = [a.name for a in model.platform_agents[:12]]
    raise ScenarioError(f"field 'shocks.platform' = {name!r} names no platform; use a custom "
                        f"platform name, an id such as {known[0]}, or '{LARGEST}' "
                        f"(known: {', '.join(known)}, ...)")


class Shock:
    """One scheduled shock of a scenario.

    Subclasses set ``kind`` (the scenario's ``type``), describe ``size`` in ``size_meaning``,
    bound it with ``max_size``, and implement :meth:`apply`. Defining a subclass registers it.

    Args:
        number: the shock's position in the scenario's ``[[shocks]]`` list.
        config: its table (``type``, ``start``, ``duration``, ``size``, ``platform``, ``sector``).
    """

    kind: ClassVar[str]
    size_meaning: ClassVar[str] = ""
    max_size: ClassVar[float | None] = None

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.kind] = cls

    def __init__(self, number: int, config) -> None:
        self.number = number
        self.cfg = config
        self.target: int | None = None  # the platform it hit directly, once known

    @classmethod
    def size_error(cls, size: float) -> str | None:
        """Why ``size`` is not allowed for this type, or ``None`` if it is."""
        if cls.max_size is not None and size > cls.max_size:
            return f"a {cls.kind} shock's size ({cls.size_meaning}) is at most {cls.max_size:g}"
        return None

    def check_target(self, model: P2PModel) -> None:
        """Raise :class:`~sim.schema.ScenarioError` on an unknown platform or sector."""
        if self.cfg.platform not in (None, LARGEST):
            platform_index(model, self.cfg.platform)
        sectors = model.config.borrowers.sectors
        if self.cfg.sector is not None and self.cfg.sector >= sectors:
            raise ScenarioError(f"field 'shocks.sector' = {self.cfg.sector} is invalid: the "
                                f"scenario has {sectors} sectors (0 to {sectors - 1})")

    @property
    def end(self) -> int:
        """The first day after the shock."""
        return self.cfg.start + self.cfg.duration

    def admits(self, registered_capital: np.ndarray) -> np.ndarray:
        """Which would-be entrants with this registered capital (real yuan) the shock lets in."""
        return np.ones(len(registered_capital), dtype=bool)

    def active(self, day: int) -> bool:
        """Whether the shock acts on ``day``."""
        return self.cfg.start <= day < self.end

    def apply(self, model: P2PModel, conditions: MarketConditions, first: bool,
              last: bool) -> None:
        """Act on one of the shock's days (``first`` and ``last`` say which)."""
        raise NotImplementedError


class CreditShock(Shock):
    """Borrowers' default hazard multiplied by ``1 + size``, in all sectors or in ``sector``."""

    kind = "credit"
    size_meaning = "hazard multiple minus one"
    max_size = 100.0

    def apply(self, model, conditions, first, last) -> None:
        """Multiply the hazard of the sectors hit."""
        sectors = slice(None) if self.cfg.sector is None else self.cfg.sector
        conditions.sector_multiplier[sectors] *= 1.0 + self.cfg.size


class FundingShock(Shock):
    """The outside rate rises by ``size`` (stock boom, money-market funds) [S2, S3]."""

    kind = "funding"
    size_meaning = "annual rate rise"
    max_size = 1.0

    def apply(self, model, conditions, first, last) -> None:
        """Raise the outside rate."""
        conditions.outside_rate += self.cfg.size


class LiquidityShock(Shock):
    """Investors' ordinary redemption need multiplied by ``1 + size``.

    The Diamond-Dybvig impatient types: investors need cash now, so they redeem more and, while
    the shock lasts, aim to hold ``1 / (1 + size)`` of their usual P2P share (the cash stays outside P2P
    until the shock ends).
    """

    kind = "liquidity"
    size_meaning = "multiple of the redemption need minus one"
    max_size = 100.0

    def apply(self, model, conditions, first, last) -> None:
        """Scale the liquidity need."""
        conditions.liquidity_multiplier *= 1.0 + self.cfg.size


class FraudShock(Shock):
    """The named platform, or the largest, absconds on ``start`` [S3]."""

    kind = "fraud"

    def apply(self, model, conditions, first, last) -> None:
        """On the first day, the target's owner runs off with the cash."""
        if not first:
            return
        self.target = platform_index(model, self.cfg.platform)
        if model.platforms.operating_mask()[self.target]:  # a failed platform cannot abscond
            lifecycle.force_abscond(model, self.target, cause=FailureCause.ABSCONDING)


class RumourShock(Shock):
    """Public bad news of intensity ``size`` at ``platform`` or everywhere.

    Fundamentals do not change [S0 §IV.A, S3]. Investors who can check the news against a
    platform's disclosed books give it less weight (``conditions.hearsay_weight``, set by
    :class:`~sim.mechanisms.policies.disclosure.Disclosure`; 1 without disclosure).
    """

    kind = "rumour"
    size_meaning = "news intensity, 1 = as strong as public distress"
    max_size = 100.0

    def apply(self, model, conditions, first, last) -> None:
        """Add the news where it lands, at the weight investors give unverified news."""
        if self.cfg.platform is None:
            where = slice(0, model.platforms.capacity)
        else:
            where = np.array([platform_index(model, self.cfg.platform)])
        conditions.news[where] += self.cfg.size * conditions.hearsay_weight


class DeadlineShock(Shock):
    """Platforms with registered capital below ``size`` real yuan must exit within ``duration`` days.

    They stop new business on ``start`` and are closed at the end of day
    ``start + duration - 1`` (the deadline). Being named non-compliant is public news (a
    regulatory warning, :data:`REGULATORY_WARNING_NEWS`) while the deadline runs [S0 §II].
    """

    kind = "deadline"
    size_meaning = "minimum registered capital, real yuan"

    def __init__(self, number: int, config) -> None:
        super().__init__(number, config)
        self.noncompliant = np.empty(0, dtype=np.int64)

    def admits(self, registered_capital: np.ndarray) -> np.ndarray:
        """While the deadline runs, nobody below the threshold may enter."""
        return registered_capital >= self.cfg.size

    def apply(self, model, conditions, first, last) -> None:
        """Name the non-compliant, warn the public while the deadline runs, close at the end."""
        plats = model.platforms
        n = plats.n
        if first:
            self.noncompliant = np.flatnonzero(plats.operating_mask()
                                               & (plats.registered_capital[:n] < self.cfg.size))
            for i in self.noncompliant:
                lifecycle.stop_new_business(model, int(i), FailureCause.REGULATORY_CLOSURE,
                                            EventKind.DEADLINE_NOTICE,
                                            cause=FailureCause.REGULATORY_CLOSURE,
                                            deadline_day=self.end - 1)
        named = self.noncompliant
        still = named[plats.operating_mask()[named]] if len(named) else named
        conditions.news[still] += REGULATORY_WARNING_NEWS
        if last:
            for i in still:
                lifecycle.close_by_order(model, int(i), FailureCause.REGULATORY_CLOSURE)


class OutageShock(Shock):
    """``platform`` (or the largest) can neither take nor pay money for ``duration`` days.

    A technical outage or cyber incident [S0 §IV.D, S1, S2].
    """

    kind = "outage"

    def apply(self, model, conditions, first, last) -> None:
        """Take the target offline (chosen on the first day)."""
        if self.target is None:
            self.target = platform_index(model, self.cfg.platform)
        conditions.outage[self.target] = True


def shock_types() -> dict[str, type[Shock]]:
    """Type name -> class of every registered shock, in definition order."""
    return dict(_REGISTRY)


class ShockSchedule:
    """The shocks of one scenario, applied at the start of each day.

    Args:
        configs: the scenario's ``[[shocks]]`` tables.
    """

    def __init__(self, configs) -> None:
        self.shocks = [_REGISTRY[cfg.type](number, cfg) for number, cfg in enumerate(configs)]

    def check_targets(self, model: P2PModel) -> None:
        """Fail early, with a user-facing message, on an unknown platform or sector."""
        for shock in self.shocks:
            shock.check_target(model)

    def add(self, config, model: P2PModel | None = None) -> Shock:
        """Schedule one more shock on a running model (the teaching app's "shock now").

        The shock is numbered after the scenario's own, so a model that gets it on day ``d``
        with ``start = d + 1`` runs exactly like one whose scenario listed it last from day 0:
        no shock draws random numbers, and the schedule is read afresh every day.

        Args:
            config: a validated ``[[shocks]]`` table (:class:`sim.config.ShockConfig`); a
                ``start`` on or before today never fires.
            model: if given, its platform or sector target is checked first.

        Returns:
            The scheduled shock.

        Raises:
            ScenarioError: the target names no platform or sector of ``model``.
        """
        shock = _REGISTRY[config.type](len(self.shocks), config)
        if model is not None:
            shock.check_target(model)
        self.shocks.append(shock)
        return shock

    def apply(self, model: P2PModel) -> None:
        """Calm conditions, then every shock active today, logging its first and last day."""
        conditions = model.conditions
        conditions.calm()
        for shock in self.shocks:
            if not shock.active(model.day):
                continue
            cfg = shock.cfg
            first, last = model.day == cfg.start, model.day == shock.end - 1
            shock.apply(model, conditions, first, last)
            if first:
                target = shock.target
                model.log_event(EventKind.SHOCK_START, -1 if target is None else target,
                                cause=cfg.type, shock=shock.number, size=cfg.size,
                                duration=cfg.duration,
                                target=cfg.platform or ("market" if target is None else LARGEST),
                                sector=cfg.sector)
            if last:
                model.log_event(EventKind.SHOCK_END, -1, cause=cfg.type, shock=shock.number)

    def admits(self, registered_capital: np.ndarray, day: int) -> np.ndarray:
        """Entrants every shock active on ``day`` lets in (see :meth:`Shock.admits`)."""
        admitted = np.ones(len(registered_capital), dtype=bool)
        for shock in self.shocks:
            if shock.active(day):
                admitted &= shock.admits(registered_capital)
        return admitted

    def hit_directly(self, platform: int) -> bool:
        """Whether a fraud or outage shock has targeted ``platform``."""
        return any(s.target == platform for s in self.shocks if s.target is not None)
