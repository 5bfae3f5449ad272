"""TOML text from plain data: the scenario as run and the policy sets of a comparison.

Python's ``tomllib`` only reads TOML, so this small writer covers what a scenario dump holds:
booleans, numbers, strings, lists, tables and arrays of tables. ``None`` values are left out,
which reads back as the field's default. The text is returned, not written
(:mod:`sim.outputs.results` writes files).
"""

from __future__ import annotations

import json

from sim.experiments.compare import Comparison
from sim.experiments.policy_sets import scenario_for


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _is_table_list(value) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _toml_table(lines: list[str], table: dict, path: tuple[str, ...]) -> None:
    # TOML wants a table's plain keys before its sub-tables, whatever the dict order.
    for key, value in table.items():
        if value is not None and not isinstance(value, dict) and not _is_table_list(value):
            lines.append(f"{key} = {_toml_value(value)}")
    for key, value in table.items():
        if isinstance(value, dict):
            lines += ["", f"[{'.'.join((*path, key))}]"]
            _toml_table(lines, value, (*path, key))
        elif _is_table_list(value):
            for item in value:
                lines += ["", f"[[{'.'.join((*path, key))}]]"]
                _toml_table(lines, item, (*path, key))


def to_toml(data: dict) -> str:
    """Plain data (a scenario dump) as TOML text.

    Args:
        data: nested dicts and lists of booleans, numbers and strings; ``None`` values are left
            out (their default).

    Returns:
        The TOML text, ending in a newline.

    Raises:
        TypeError: a value TOML cannot hold.
    """
    lines: list[str] = []
    _toml_table(lines, data, ())
    return "\n".join(lines).lstrip("\n") + "\n"


def scenario_toml(comp: Comparison) -> str:
    """The scenario as run for the baseline (seed = first replication seed, every policy off).

    Args:
        comp: the comparison.

    Returns:
        A scenario file that ``p2psim run`` reproduces replication 0 of ``none`` from.
    """
    sc = scenario_for(comp.scenario, comp.sets[0], seed=comp.seeds[0])
    return to_toml(sc.model_dump(mode="json"))


def policy_sets_toml(comp: Comparison) -> str:
    """The non-baseline sets as a ``--policies`` file (feed it back to reproduce the sets).

    Args:
        comp: the comparison.

    Returns:
        ``[[set]]`` tables, one per set after ``none``, under a one-line comment.
    """
    sets = [{"name": s.name, "policies": s.policies} for s in comp.sets[1:]]
    head = "# Policy sets of this comparison; usable as `p2psim compare ... --policies FILE`.\n"
    return head + (to_toml({"set": sets}) if sets else "")
