"""Checks of a whole scenario that no single field can make: one path for validate and run.

The schema checks each field alone (type, bounds, unknown keys). These rules look across
fields, and both ``p2psim validate`` and ``p2psim run`` (and compare, sweep, the app) apply them
through :func:`check_scenario`, so validate never says OK to what run refuses.

Errors (the scenario is refused):

* a shock names a platform that does not exist at day 0: not a custom name, not ``largest``
  and not a built-in id ``P0000`` .. ``P<count - 1>``;
* a credit shock's ``sector`` is not one of the scenario's sectors;
* ``platforms.count`` plus the custom platforms exceed ``platforms.max_platforms`` (the model
  would quietly drop the rest);
* two custom platforms share a name, or a custom name looks like a built-in one (``P0001``,
  ``largest``), so a shock or a reader could not tell them apart;
* the owner-type shares ``share_ponzi + share_fraud`` exceed 1 (honest owners are the rest).

Warnings (the scenario runs; the message names the entry): a shock that starts after the last
day, so never fires.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from sim.mechanisms.shocks import LARGEST
from sim.schema import ScenarioError

BUILT_IN_NAME = re.compile(r"^P\d+$")  # the ids of random platforms and entrants: P0000, P0001...


def _builtin_ids(count: int) -> str:
    return "none" if count == 0 else f"P0000 to P{count - 1:04d}"


def _is_builtin(name: str, count: int) -> bool:
    """Whether ``name`` is the id of one of the ``count`` random platforms of day 0."""
    match = BUILT_IN_NAME.match(name)
    return bool(match) and int(name[1:]) < count and name == f"P{int(name[1:]):04d}"


def scenario_warnings(sc: Any) -> list[str]:
    """The warnings of a validated scenario (errors are raised when it is validated).

    Args:
        sc: a :class:`sim.config.Scenario`.

    Returns:
        Messages naming the entry, e.g. a shock that starts after the last day.
    """
    return scenario_problems(sc)[1]


def scenario_problems(sc: Any) -> tuple[list[str], list[str]]:
    """The cross-field errors and warnings of a validated scenario (see the module doc).

    Args:
        sc: a :class:`sim.config.Scenario`.

    Returns:
        ``(errors, warnings)``, each a list of messages naming the field.
    """
    errors: list[str] = []
    warnings: list[str] = []
    pc = sc.platforms
    names = [c.name for c in pc.custom]
    for name, n in Counter(names).items():
        if n > 1:
            errors.append(f"field 'platforms.custom' names '{name}' {n} times; custom platform "
                          "names must be unique")
    for i, name in enumerate(names):
        if name == LARGEST or BUILT_IN_NAME.match(name):
            errors.append(f"field 'platforms.custom.{i}.name' = {name!r} is invalid: it looks "
                          f"like a built-in platform name ('{LARGEST}' or an id such as P0001); "
                          "choose another name")
    total = pc.count + len(pc.custom)
    if total > pc.max_platforms:
        errors.append(f"field 'platforms.count' = {pc.count} (plus {len(pc.custom)} custom) is "
                      f"above 'platforms.max_platforms' = {pc.max_platforms}; raise max_platforms "
                      "or lower count")
    if pc.share_ponzi + pc.share_fraud > 1.0:
        errors.append(f"fields 'platforms.share_ponzi' + 'platforms.share_fraud' = "
                      f"{pc.share_ponzi:g} + {pc.share_fraud:g} exceed 1 (honest owners are the "
                      "rest)")
    known = set(names) | {LARGEST}
    sectors = sc.borrowers.sectors
    for i, shock in enumerate(sc.shocks):
        if shock.platform is not None and not (shock.platform in known
                                               or _is_builtin(shock.platform, pc.count)):
            errors.append(f"field 'shocks.{i}.platform' = {shock.platform!r} names no platform; "
                          f"use a custom name ({', '.join(names) or 'none'}), a built-in id "
                          f"({_builtin_ids(pc.count)}) or '{LARGEST}'")
        if shock.sector is not None and shock.sector >= sectors:
            errors.append(f"field 'shocks.{i}.sector' = {shock.sector} is invalid: the scenario "
                          f"has {sectors} sectors (0 to {sectors - 1})")
        if shock.start > sc.run.days:
            warnings.append(f"shocks.{i} ({shock.type}) starts on day {shock.start}, after the "
                            f"last day ({sc.run.days}): it will not fire")
    return errors, warnings


def check_scenario(sc: Any, source: str = "scenario") -> list[str]:
    """Raise on the cross-field errors of ``sc``; return its warnings.

    Args:
        sc: a validated scenario.
        source: what to call it in messages (the file name).

    Returns:
        The warnings, each naming the entry.

    Raises:
        ScenarioError: every error, one per line, each starting with ``source``.
    """
    errors, warnings = scenario_problems(sc)
    if errors:
        raise ScenarioError("\n".join(f"{source}: {e}" for e in errors))
    return warnings
