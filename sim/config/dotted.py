"""Dotted keys into a scenario's JSON data: ``investors.count``, ``shocks.0.size``, policies.

One place turns a flat name into a field of the scenario, for everything that sets fields by
name: sweep factors (:mod:`sim.experiments.sweep`), Mesa's flat model parameters
(:class:`sim.model.P2PModel`, ``mesa.batch_run``) and the EMA workbench adapter. The rule:

* a key is a path of table names and list indexes joined by ``.``, e.g.
  ``platforms.cash_buffer_target``, ``shocks.0.size`` (the first ``[[shocks]]`` table) or
  ``policies.protection_fund.coverage_share``;
* ``__`` may stand for ``.`` (:func:`normalise_key`), because a Python keyword argument cannot
  hold a dot: ``investors__count=300`` is ``investors.count = 300``;
* a list index must name an existing entry (a sweep varies a shock the scenario has; it does not
  invent one); a missing table on the way is created, so a policy table the file leaves out can
  be set; the value is validated with the whole scenario afterwards, so a wrong key or value is
  reported like a mistake in the file.

The setter works on plain data (``Scenario.model_dump(mode="json")``), never on the validated
object, so the result goes through the same validation as a scenario file. It is kept apart from
``--set`` parsing (:func:`sim.config.loading.apply_overrides`) so the two can share it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.schema import ScenarioError

SEPARATOR = "."
KWARG_SEPARATOR = "__"


def normalise_key(key: str) -> str:
    """``key`` with ``__`` read as ``.`` (``shocks__0__size`` -> ``shocks.0.size``).

    Args:
        key: a dotted key or a keyword-argument name.

    Returns:
        The dotted key.
    """
    return key.replace(KWARG_SEPARATOR, SEPARATOR)


def key_parts(key: str) -> list[str]:
    """The path of a key: table names and list indexes, as text.

    Args:
        key: ``a.b.0.c`` or ``a__b__0__c``.

    Returns:
        ``["a", "b", "0", "c"]``.

    Raises:
        ScenarioError: an empty key or an empty part (``a..b``).
    """
    parts = normalise_key(key.strip()).split(SEPARATOR)
    if not key.strip() or any(not p for p in parts):
        raise ScenarioError(f"'{key}': not a dotted key such as investors.count or shocks.0.size")
    return parts


def _index(key: str, part: str, items: list) -> int:
    if not part.lstrip("-").isdigit():
        raise ScenarioError(f"'{key}': '{part}' names a list, so the next part must be an index "
                            f"(0 to {len(items) - 1})")
    i = int(part)
    if not 0 <= i < len(items):
        raise ScenarioError(f"'{key}': index {i} is out of range; the scenario has "
                            f"{len(items)} entr{'y' if len(items) == 1 else 'ies'} there")
    return i


def get_dotted(data: Mapping, key: str) -> Any:
    """The value at ``key`` in scenario data.

    Args:
        data: scenario data (nested dicts and lists).
        key: a dotted key.

    Returns:
        The value.

    Raises:
        ScenarioError: the path does not exist.
    """
    node: Any = data
    for part in key_parts(key):
        if isinstance(node, list):
            node = node[_index(key, part, node)]
        elif isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            raise ScenarioError(f"'{key}': no field '{part}' there")
    return node


def set_dotted(data: dict, key: str, value: Any) -> dict:
    """Set ``key`` to ``value`` in scenario data, in place (validate the data afterwards).

    Args:
        data: scenario data (nested dicts and lists), e.g. ``scenario.model_dump(mode="json")``.
        key: a dotted key (``__`` allowed for ``.``); list entries by index.
        value: plain data (a number, a string, a bool, a list or a table).

    Returns:
        ``data``.

    Raises:
        ScenarioError: an index out of range, an index where a table is, or a field where a
            value (not a table) is.
    """
    parts = key_parts(key)
    node: Any = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, list):
            i = _index(key, part, node)
            if last:
                node[i] = value
            else:
                node = node[i]
            continue
        if not isinstance(node, dict):
            where = SEPARATOR.join(parts[:depth])
            raise ScenarioError(f"'{key}': '{where}' is a value, not a table")
        if last:
            node[part] = value
        elif part not in node and parts[depth + 1].isdigit():
            # An index into a list the scenario does not have: creating a table named "0"
            # would only give a confusing type error later.
            where = SEPARATOR.join(parts[: depth + 1])
            raise ScenarioError(f"'{key}': the scenario has no entries in '{where}', so index "
                                f"{parts[depth + 1]} is out of range")
        else:
            node = node.setdefault(part, {})
    return data


def apply_dotted(data: dict, values: Mapping[str, Any]) -> dict:
    """Set every ``key -> value`` of ``values`` in scenario data, in order (see :func:`set_dotted`).

    Args:
        data: scenario data, changed in place.
        values: dotted keys (or ``__`` names) to values.

    Returns:
        ``data``.
    """
    for key, value in values.items():
        set_dotted(data, key, value)
    return data
