"""The contract every regulatory policy follows, and the registry of policies.

A policy is one class: a subclass of :class:`Policy` with a ``name`` (its table under
``[policies]``), a configuration model (a :class:`PolicyConfig`), the outcomes it reports, the
accounts and money flows it needs, and the hooks it acts through. Defining the class registers
it: the scenario schema, the CLI's list of known policies, ``compare``'s outcomes and the
report's labels are all read from the registry. A policy holds its own state and moves money
only through the ledger (:meth:`sim.market.ledger.Ledger.transfer` and
:meth:`~sim.market.ledger.Ledger.settle_claims`).

The model calls the active policies at each hook in registry order (the order the built-in
policies are imported in :mod:`sim.mechanisms.policies`), through :class:`PolicyBook`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, ClassVar

import numpy as np
from pydantic import Field, model_validator

from sim.market.ledger import Account, Flow
from sim.schema import Section
from sim.vocabulary import Outcome, register_outcomes, unregister_outcomes

if TYPE_CHECKING:
    from sim.model import P2PModel


class PolicyConfig(Section):
    """Base of every ``[policies.<name>]`` table: off unless enabled, and dated.

    A policy acts from day ``start`` (0: from the beginning) until the day before ``end`` (none:
    to the end of the run), so a scenario can replay a regulatory calendar (MODEL.md,
    Policies: rules came in steps, from rectification in 2015 to the exit policy of 2019).
    """

    enabled: bool = Field(False, description="Switch the policy on or off.")
    start: Annotated[int, Field(ge=0, le=100_000)] = Field(
        0, description="First day the policy applies (0: from the start of the run).")
    end: Annotated[int, Field(ge=1, le=100_000)] | None = Field(
        None, description="First day it no longer applies (omit: to the end of the run).")

    @model_validator(mode="after")
    def _dates_ordered(self) -> PolicyConfig:
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"end ({self.end}) must come after start ({self.start})")
        return self


_REGISTRY: dict[str, type[Policy]] = {}


class Policy:
    """A regulatory lever, attached to one model while it is switched on.

    Subclasses set the class attributes and override the hooks they need; every hook of the
    base does nothing. Hooks, in the order a run calls them:

    * :meth:`begin` and :meth:`finish`: on the policy's ``start`` day (when it is after day 0)
      and its ``end`` day. By default :meth:`begin` runs the set-up hooks below on the market
      as it stands, and :meth:`finish` does nothing; policies that change market rules restore
      them.
    * :meth:`configure`: before the population is drawn; tighten market rules
      (``model.conditions``), e.g. product terms, loan caps, signal noise.
    * :meth:`on_investors_created`: after investors are drawn; change their traits.
    * :meth:`on_platforms_created`: after platforms are created (at day 0 and on entry);
      change their parameters.
    * :meth:`admits`: which would-be entrants may enter.
    * :meth:`start_of_day`: after shocks and channels, before anyone decides; add the cover
      investors count on to ``model.conditions.coverage``, collect levies.
    * :meth:`on_loans_made` and :meth:`on_loan_losses`: when platforms lend and when loans
      default.
    * :meth:`end_of_day`: after payments and status changes; supervise, gate.
    * :meth:`on_failure` and :meth:`on_exit`: when a platform fails (or absconds) and when it
      leaves in order.
    * :meth:`cover_due` and :meth:`cover_paid`: compensation owed and paid to investors, for
      the loss measures.
    * :meth:`measure`: the policy's outcomes at the end of a run.

    Attributes:
        name: the policy's table under ``[policies]`` and its name in ``compare``.
        config_model: its table's schema (a :class:`PolicyConfig` subclass).
        outcomes: what it reports (keys of :meth:`measure`), with units and labels; their
            ``when_off`` value is reported when the policy is off.
        accounts: money it holds (e.g. a fund), kept in the ledger.
        flows: money flows it books.
        restricts_entry: it is an entry regime (registration): while it acts, entry falls by
            ``platforms.entry_regulation_deterrence``.
    """

    name: ClassVar[str]
    restricts_entry: ClassVar[bool] = False
    config_model: ClassVar[type[PolicyConfig]] = PolicyConfig
    outcomes: ClassVar[tuple[Outcome, ...]] = ()
    accounts: ClassVar[tuple[Account, ...]] = ()
    flows: ClassVar[tuple[Flow, ...]] = ()

    def __init_subclass__(cls, register: bool = True, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if register:
            register_policy(cls)

    def __init__(self, model: P2PModel, config: PolicyConfig) -> None:
        self.model = model
        self.cfg = config

    # ------------------------------------------------------------------ hooks
    def begin(self) -> None:
        """The start day, after day 0: apply the set-up hooks to the market as it stands."""
        self.configure()
        self.on_investors_created()
        plats = self.model.platforms
        self.on_platforms_created(np.flatnonzero(plats.operating_mask()))

    def finish(self) -> None:
        """The end day: the policy stops acting (pending obligations lapse)."""

    def configure(self) -> None:
        """Before the population is drawn: tighten the market's rules."""

    def on_investors_created(self) -> None:
        """After investors are drawn."""

    def on_platforms_created(self, idx: np.ndarray) -> None:
        """After platforms ``idx`` are created and have paid in their capital."""

    def admits(self, capital: np.ndarray) -> np.ndarray:
        """Which would-be entrants with this registered capital (yuan) may enter."""
        return np.ones(len(capital), dtype=bool)

    def start_of_day(self) -> None:
        """After shocks and channels have set the day's conditions, before anyone decides."""

    def on_loans_made(self, lent: np.ndarray) -> None:
        """Platforms lent ``lent`` yuan today (one entry per platform)."""

    def on_loan_losses(self, net_loss: np.ndarray) -> None:
        """Defaulted principal minus recoveries today, yuan per platform."""

    def end_of_day(self) -> None:
        """After payments, lending and status changes."""

    def on_failure(self, platform: int) -> None:
        """``platform`` failed or absconded; its estate is in resolution."""

    def on_exit(self, platform: int) -> None:
        """``platform`` leaves in order, before its owner takes the equity."""

    def cover_due(self, n: int) -> np.ndarray:
        """Compensation scheduled for investors but not yet paid, yuan per platform (``n``)."""
        return np.zeros(n)

    def cover_paid(self) -> float:
        """Compensation paid to investors since day 0, yuan."""
        return 0.0

    def measure(self) -> dict:
        """The policy's outcomes (the keys of :attr:`outcomes`) at the end of a run."""
        return {}


def register_policy(cls: type[Policy]) -> None:
    """Add a policy class to the registry (defining a subclass does this).

    Raises:
        ValueError: another class already has the name.
    """
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"{cls.__name__} needs a class attribute name, a valid identifier")
    known = _REGISTRY.get(name)
    if known is not None and known is not cls:
        raise ValueError(f"policy {name!r} is already registered by {known.__name__}")
    _REGISTRY[name] = cls
    register_outcomes(cls.outcomes)


def unregister_policy(name: str) -> None:
    """Remove a policy from the registry (for tests that define a policy of their own)."""
    cls = _REGISTRY.pop(name, None)
    if cls is not None:
        unregister_outcomes(o.key for o in cls.outcomes)


def registered_policies() -> dict[str, type[Policy]]:
    """Name -> class of every registered policy, in the order they act."""
    return dict(_REGISTRY)


def declared_accounts() -> list[Account]:
    """The accounts every registered policy needs."""
    return [a for cls in _REGISTRY.values() for a in cls.accounts]


def declared_flows() -> list[Flow]:
    """The money flows every registered policy books."""
    return [f for cls in _REGISTRY.values() for f in cls.flows]


class PolicyBook:
    """The policies switched on in one model, called at each hook in registry order.

    Args:
        model: the model they act on.
        config: the scenario's ``[policies]`` section.
    """

    def __init__(self, model: P2PModel, config) -> None:
        self.model = model
        self.enabled: list[Policy] = [cls(model, getattr(config, name))
                                      for name, cls in registered_policies().items()
                                      if getattr(config, name).enabled]
        self._by_name = {p.name: p for p in self.enabled}
        # Acting today, in registry order: those that start on day 0 until the calendar moves.
        self.active: list[Policy] = [p for p in self.enabled if p.cfg.start == 0]

    def get(self, name: str) -> Policy | None:
        """The enabled policy called ``name`` (acting or not yet), or ``None`` if it is off."""
        return self._by_name.get(name)

    def calendar(self) -> None:
        """Start and end policies whose day it is (called at the start of each day)."""
        day = self.model.day
        changed = False
        for policy in self.enabled:
            if policy.cfg.end == day and policy in self.active:
                policy.finish()
                changed = True
            elif policy.cfg.start == day and day > 0:
                policy.begin()
                changed = True
        if changed:
            self.active = [p for p in self.enabled
                           if p.cfg.start <= day and (p.cfg.end is None or day < p.cfg.end)]

    def restricts_entry(self) -> bool:
        """Whether an entry regime (registration) is acting today."""
        return any(p.restricts_entry for p in self.active)

    def _call(self, hook: str, *args) -> None:
        for policy in self.active:
            getattr(policy, hook)(*args)

    def configure(self) -> None:
        """See :meth:`Policy.configure`."""
        self._call("configure")

    def on_investors_created(self) -> None:
        """See :meth:`Policy.on_investors_created`."""
        self._call("on_investors_created")

    def on_platforms_created(self, idx: np.ndarray) -> None:
        """See :meth:`Policy.on_platforms_created`."""
        self._call("on_platforms_created", idx)

    def admits(self, capital: np.ndarray) -> np.ndarray:
        """Entrants every active policy admits (see :meth:`Policy.admits`)."""
        admitted = np.ones(len(capital), dtype=bool)
        for policy in self.active:
            admitted &= policy.admits(capital)
        return admitted

    def start_of_day(self) -> None:
        """Move the calendar, rebuild the cover investors count on, then each start_of_day."""
        self.calendar()
        self.model.conditions.coverage[:] = 0.0
        self._call("start_of_day")

    def on_loans_made(self, lent: np.ndarray) -> None:
        """See :meth:`Policy.on_loans_made`."""
        self._call("on_loans_made", lent)

    def on_loan_losses(self, net_loss: np.ndarray) -> None:
        """See :meth:`Policy.on_loan_losses`."""
        self._call("on_loan_losses", net_loss)

    def end_of_day(self) -> None:
        """See :meth:`Policy.end_of_day`."""
        self._call("end_of_day")

    def on_failure(self, platform: int) -> None:
        """See :meth:`Policy.on_failure`."""
        self._call("on_failure", platform)

    def on_exit(self, platform: int) -> None:
        """See :meth:`Policy.on_exit`."""
        self._call("on_exit", platform)

    def cover_due(self, n: int) -> np.ndarray:
        """Compensation owed but unpaid, yuan per platform, summed over the active policies."""
        due = np.zeros(n)
        for policy in self.enabled:
            due += policy.cover_due(n)
        return due

    def cover_paid(self) -> float:
        """Compensation paid to investors since day 0, yuan, summed over the active policies."""
        return sum((p.cover_paid() for p in self.enabled), 0.0)

    def outcomes(self) -> dict:
        """Every registered policy's outcomes: measured if on, their ``when_off`` value if off."""
        out = {}
        for name, cls in registered_policies().items():
            policy = self._by_name.get(name)
            if policy is None:
                out.update({o.key: o.when_off for o in cls.outcomes})
            else:
                out.update(policy.measure())
        return out
