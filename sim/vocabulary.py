"""The names p2psim uses everywhere.

Statuses, owner types, failure causes, contagion channels, event kinds and the outcomes a run
reports.

Every other module takes these names from here, so a cause, a channel or an outcome is spelled
once. The string enums compare equal to their values (``FailureCause.RUN == "run"``) and are
written to files as those values.

Outcomes form a registry: the outcomes every run reports are listed here
(:data:`CORE_OUTCOMES`); each policy declares its own on its class (see
:class:`sim.mechanisms.policies.base.Policy`), and they are added to the registry when the policy
is defined. The CLI summary, ``compare``, the report and the plots read labels, units and the
better direction from :func:`outcome`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum


class Status(IntEnum):
    """Platform status path: ACTIVE -> DISTRESSED (public) -> FAILED, or one of the other exits."""

    ACTIVE = 0
    DISTRESSED = 1
    FAILED = 2
    ABSCONDED = 3
    EXITED = 4
    CLOSED = 5


OPEN_STATUSES = (Status.ACTIVE, Status.DISTRESSED)


class Owner(IntEnum):
    """Owner types [S0 §IV.A, S3].

    Honest; Ponzi (fake loans, old investors paid from new money); fraudulent (absconds when
    that beats carrying on).
    """

    HONEST = 0
    PONZI = 1
    FRAUD = 2


class FailureCause(StrEnum):
    """Why a platform left the market (MODEL.md, "Outcomes every run reports")."""

    RUN = "run"  # illiquid with positive true equity (Diamond and Dybvig 1983)
    INSOLVENCY = "insolvency"  # true equity (fake loans at zero) negative
    ABSCONDING = "absconding"  # the owner ran off with the cash
    REGULATORY_CLOSURE = "regulatory_closure"  # closed on a regulator's deadline
    SUPERVISORY_WINDDOWN = "supervisory_winddown"  # wound down by early-warning supervision
    ORDERLY_EXIT = "orderly_exit"  # an honest owner with thin equity wound down and left


DISORDERLY_CAUSES = (FailureCause.RUN, FailureCause.INSOLVENCY, FailureCause.ABSCONDING)
# A failure leaves an estate in resolution; an exit leaves the market owing nothing. Closures by
# order can be either, depending on whether the platform still owed its investors.
FAILURE_CAUSES = tuple(c for c in FailureCause if c != FailureCause.ORDERLY_EXIT)
EXIT_CAUSES = (FailureCause.ORDERLY_EXIT, FailureCause.REGULATORY_CLOSURE,
               FailureCause.SUPERVISORY_WINDDOWN)


class Channel(StrEnum):
    """The six contagion channels of MODEL.md, each switchable in ``[channels]``."""

    INFORMATION = "information"
    HERDING = "herding"
    SHARED_INVESTORS = "shared_investors"
    COMMON_BORROWERS = "common_borrowers"
    FIRE_SALES = "fire_sales"
    SHARED_GUARANTORS = "shared_guarantors"


class Carrier(StrEnum):
    """What carried the stress to a failed platform (the failure cascade's ``channel``).

    ``shock``: hit directly by a scheduled shock; one of the :class:`Channel` values:
    contagion; ``own``: its owner's choice with no outside stress; ``none``: no outside stress
    (bad loans or a Ponzi book).
    """

    SHOCK = "shock"
    INFORMATION = "information"
    HERDING = "herding"
    SHARED_INVESTORS = "shared_investors"
    COMMON_BORROWERS = "common_borrowers"
    FIRE_SALES = "fire_sales"
    SHARED_GUARANTORS = "shared_guarantors"
    OWN = "own"
    NONE = "none"


# Sources of stress kept per platform for attribution: a direct shock, then every channel.
STRESS_SOURCES = (Carrier.SHOCK, *(Carrier(c.value) for c in Channel))


class EventKind(StrEnum):
    """Kinds of entries in the events log (``events.csv``)."""

    ENTRY = "entry"
    DISTRESS = "distress"
    RECOVERED = "recovered"
    FAILURE = "failure"
    ABSCONDED = "absconded"
    CLOSURE = "closure"
    EXIT = "exit"
    RESOLVED = "resolved"
    SHOCK_START = "shock_start"
    SHOCK_END = "shock_end"
    DEADLINE_NOTICE = "deadline_notice"
    WIND_DOWN = "wind_down"
    INFLOW_FREEZE = "inflow_freeze"
    RECAPITALISATION_ORDER = "recapitalisation_order"
    INSPECTION = "inspection"
    GATE_CLOSED = "gate_closed"
    BACKSTOP = "backstop"
    PROTECTION_PAYOUT = "protection_payout"
    FUND_DEPLETED = "fund_depleted"
    GUARANTEE_PAID = "guarantee_paid"
    GUARANTOR_FAILURE = "guarantor_failure"


class Unit(StrEnum):
    """Units of outcomes, which set how they are formatted and scaled."""

    COUNT = "count"
    DAY = "day"  # a day number or a number of days
    YUAN = "yuan"
    YUAN_PER_DAY = "yuan/day"
    SHARE = "share"  # a fraction, shown in %
    RATE = "rate"  # an annual rate, shown in % a year
    RATIO = "ratio"  # a multiple, shown as 1.3x


@dataclass(frozen=True)
class Outcome:
    """One end-of-run outcome of ``summary.json``.

    Attributes:
        key: its key in the summary.
        label: a short label for tables and axes.
        unit: how it is measured (:class:`Unit`).
        better: -1 if lower is better, +1 if higher is better, 0 if neither (a cost or a
            timing); ``compare`` colours changes by it.
        when_off: its value when the mechanism that reports it is off (policy outcomes).
    """

    key: str
    label: str
    unit: Unit
    better: int = 0
    when_off: float | None = None


def _failure_outcomes() -> list[Outcome]:
    labels = {FailureCause.RUN: "failures: run", FailureCause.INSOLVENCY: "failures: insolvency",
              FailureCause.ABSCONDING: "failures: owner absconded",
              FailureCause.REGULATORY_CLOSURE: "failures: closed by regulator, owing investors",
              FailureCause.SUPERVISORY_WINDDOWN: "failures: wound down by supervisor, owing"}
    return [Outcome(f"failures_{c}", labels[c], Unit.COUNT, -1) for c in FAILURE_CAUSES]


def _exit_outcomes() -> list[Outcome]:
    labels = {FailureCause.ORDERLY_EXIT: "exits: orderly (thin equity, wound down)",
              FailureCause.REGULATORY_CLOSURE: "exits: closed by regulator, owing nothing",
              FailureCause.SUPERVISORY_WINDDOWN: "exits: wound down by supervisor, owing nothing"}
    return [Outcome(f"exits_{c}", labels[c], Unit.COUNT) for c in EXIT_CAUSES]


_CARRIER_LABELS = {Carrier.SHOCK: "failures hit directly (shock)",
                   Carrier.OWN: "failures by the owner's own choice",
                   Carrier.NONE: "failures with no outside stress"}

CORE_OUTCOMES: tuple[Outcome, ...] = (
    Outcome("days", "days simulated", Unit.DAY),
    Outcome("platforms_ever", "platforms (ever)", Unit.COUNT),
    Outcome("platforms_open_end", "platforms open to new money at end", Unit.COUNT),
    Outcome("platforms_operating_end", "platforms operating at end (still paying investors)",
            Unit.COUNT),
    Outcome("failures", "failures (left an estate owing investors)", Unit.COUNT, -1),
    *_failure_outcomes(),
    Outcome("exits", "exits (left owing investors nothing)", Unit.COUNT),
    *_exit_outcomes(),
    Outcome("failures_disorderly", "disorderly failures (run, insolvency, absconding)",
            Unit.COUNT, -1),
    Outcome("first_failure_day", "first failure (day)", Unit.DAY),
    Outcome("cascade_size", "failures after the first", Unit.COUNT, -1),
    Outcome("investor_losses", "investor losses after cover", Unit.YUAN, -1),
    Outcome("investor_losses_written_off", "investor claims written off so far", Unit.YUAN, -1),
    Outcome("investor_losses_pending", "expected losses of estates still open", Unit.YUAN, -1),
    Outcome("investor_losses_gross", "investor losses before cover", Unit.YUAN, -1),
    Outcome("investor_loss_share", "investor losses, share invested", Unit.SHARE, -1),
    Outcome("investor_recovery_rate", "recovery of claims on failed platforms, after cover",
            Unit.SHARE, +1),
    Outcome("investors_with_loss", "investors who lost money", Unit.COUNT, -1),
    Outcome("investors_with_loss_share", "share of investors who lost money", Unit.SHARE, -1),
    Outcome("guarantee_payouts", "guarantor payouts", Unit.YUAN),
    Outcome("credit_supplied", "credit supplied", Unit.YUAN, +1),
    Outcome("borrower_interest_paid", "borrower interest paid", Unit.YUAN),
    Outcome("loan_defaults", "loan defaults", Unit.YUAN, -1),
    Outcome("stolen", "stolen or diverted", Unit.YUAN, -1),
    Outcome("peak_daily_outflow", "peak daily outflow", Unit.YUAN_PER_DAY, -1),
    Outcome("peak_unpaid_backlog", "peak unpaid backlog", Unit.YUAN, -1),
    Outcome("final_investor_claims", "investor claims at end", Unit.YUAN),
    Outcome("mean_promised_rate_end", "mean promised rate at end", Unit.RATE),
    *(Outcome(f"failure_share_{c}", f"share of failures and exits: {c.replace('_', ' ')}",
              Unit.SHARE)
      for c in FailureCause),
    Outcome("contagion_multiplier", "contagion multiplier", Unit.RATIO, -1),
    Outcome("failures_direct", "failures hit directly by a shock", Unit.COUNT),
    Outcome("failures_by_contagion", "failures carried by contagion", Unit.COUNT, -1),
    Outcome("days_shock_to_peak_outflow", "days from first shock to peak outflow", Unit.DAY),
    *(Outcome(f"failures_via_{c}", _CARRIER_LABELS.get(c, f"failures via {c.replace('_', ' ')}"),
              Unit.COUNT) for c in Carrier),
)

_REGISTRY: dict[str, Outcome] = {o.key: o for o in CORE_OUTCOMES}


def register_outcomes(outcomes: tuple[Outcome, ...] | list[Outcome]) -> None:
    """Add outcomes to the registry (policies call this when they are defined).

    Raises:
        ValueError: a key is already registered with a different definition.
    """
    for item in outcomes:
        known = _REGISTRY.get(item.key)
        if known is not None and known != item:
            raise ValueError(f"outcome {item.key!r} is already registered as {known}")
        _REGISTRY[item.key] = item


def unregister_outcomes(keys) -> None:
    """Remove outcomes from the registry (for tests that define a policy of their own)."""
    for key in keys:
        if key not in {o.key for o in CORE_OUTCOMES}:
            _REGISTRY.pop(key, None)


def outcomes() -> list[Outcome]:
    """Every registered outcome: the core ones in report order, then the policies'."""
    return list(_REGISTRY.values())


def outcome(key: str) -> Outcome:
    """The registered outcome ``key``; an unregistered key gets a plain label and guessed unit.

    The guess keeps a summary value that no registry lists (a new metric not yet declared)
    readable instead of failing.
    """
    found = _REGISTRY.get(key)
    if found is not None:
        return found
    label = key.replace("_", " ")
    if key.endswith("_share"):
        unit = Unit.SHARE
    elif key.endswith("_rate") or "rate_" in key:
        unit = Unit.RATE
    elif "day" in key:
        unit = Unit.DAY
    elif any(w in key for w in ("count", "failures", "hits", "alarms", "inspections")):
        unit = Unit.COUNT
    else:
        unit = Unit.YUAN
    return Outcome(key, label, unit)


# The outcomes ``compare`` prints and the report shows first, in this order. Disorderly
# failures are the failure hazard the policy literature speaks of: ``failures`` also counts
# regulatory closures that leave claims open, which rise when a policy keeps investors from
# running before the regulator's deadline (README, "Policy directions").
HEADLINE_OUTCOMES = ("failures", "failures_disorderly", "investor_losses", "investor_losses_gross",
                     "investors_with_loss", "credit_supplied", "peak_daily_outflow",
                     "contagion_multiplier", "stolen")
