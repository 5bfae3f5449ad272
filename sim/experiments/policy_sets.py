"""Policy sets: the levers a comparison pulls, parsed from ``--policies``.

A set is a name and a ``[policies]`` section. Sets come from names (:func:`parse_policy_names`:
policy names from :class:`~sim.config.PoliciesConfig`, ``all-single``, ``package`` and ``a+b``
combinations) or from a TOML file of ``[[set]]`` tables (:func:`load_policy_file`). The baseline
``none`` is always first and switches every policy off.

Replication ``r`` of every set runs with seed ``base + r`` (:func:`replication_seeds`), so the
sets face the same random draws (common random numbers).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sim import shipped
from sim.config import Scenario, ScenarioError, validate_scenario
from sim.mechanisms.policies import registered_policies

BASELINE = "none"
ALL_SINGLE = "all-single"
PACKAGE = "package"


class PolicySetError(ScenarioError):
    """A bad ``--policies`` argument or policy file; printed as one ``error:`` line."""


@dataclass(frozen=True)
class PolicySet:
    """A named lever setting.

    Attributes:
        name: shown in tables and legends (``none``, ``custody``, ``custody+liquidity_reserve``).
        policies: a ``[policies]`` section as raw data (policy name -> its table).
    """

    name: str
    policies: dict = field(default_factory=dict)

    @property
    def enabled(self) -> list[str]:
        """Names of the policies the set switches on, in the order of its section."""
        return [name for name, table in self.policies.items()
                if isinstance(table, dict) and table.get("enabled")]


def policy_names() -> list[str]:
    """The registered policies, in the order they act.

    Read from the registry (:func:`sim.mechanisms.policies.registered_policies`), so a new
    policy is known here without any change.
    """
    return list(registered_policies())


def _known_names_text() -> str:
    return ", ".join([BASELINE, *policy_names(), ALL_SINGLE, PACKAGE])


def _switched(scenario: Scenario, on: Iterable[str]) -> dict:
    """The scenario's ``[policies]`` section with exactly ``on`` enabled and the rest off.

    Parameters other than ``enabled`` are kept as the scenario sets them (the defaults when it
    has no ``[policies]`` section).
    """
    on = set(on)
    section = scenario.policies.model_dump(mode="json")
    for name in policy_names():
        section[name]["enabled"] = name in on
    return section


def parse_policy_names(text: str, scenario: Scenario | None = None) -> list[PolicySet]:
    """Policy sets from a comma-separated list of names.

    Names: any policy of :func:`policy_names`; ``all-single`` (each policy alone); ``package``
    (every policy on at once); ``a+b`` (those policies together); ``none`` (the baseline, always
    included first anyway). Duplicates are dropped, keeping the first.

    Args:
        text: e.g. ``"custody,liquidity_reserve,custody+liquidity_reserve,package"``.
        scenario: whose policy parameters are used (defaults when ``None``).

    Returns:
        The sets, ``none`` first. Each switches on exactly its policies and switches every other
        policy off, whatever the scenario file enables.

    Raises:
        PolicySetError: an unknown name; the message lists the known names.
    """
    scenario = scenario or Scenario()
    known = policy_names()
    combos: list[tuple[str, ...]] = []
    for item in (part.strip() for part in text.split(",")):
        if not item or item == BASELINE:
            continue
        if item == ALL_SINGLE:
            combos.extend((name,) for name in known)
            continue
        if item == PACKAGE:
            combos.append((PACKAGE,))
            continue
        parts = tuple(p.strip() for p in item.split("+"))
        for part in parts:
            if part not in known:
                raise PolicySetError(
                    f"--policies: unknown policy '{part}'"
                    + (f" in '{item}'" if part != item else "")
                    + f". Known names: {_known_names_text()}; combine policies with '+', "
                    "e.g. custody+liquidity_reserve")
        combos.append(parts)
    sets = [PolicySet(BASELINE, _switched(scenario, ()))]
    seen = {BASELINE}
    for combo in combos:
        name = "+".join(combo)
        if name in seen:
            continue
        seen.add(name)
        on = known if combo == (PACKAGE,) else combo
        sets.append(PolicySet(name, _switched(scenario, on)))
    return sets


def load_policy_file(path: str | Path, scenario: Scenario | None = None) -> list[PolicySet]:
    """Policy sets from a TOML file of ``[[set]]`` tables.

    Each table has a ``name`` and a ``policies`` sub-table shaped like a scenario's
    ``[policies]`` section; it *replaces* the scenario's section (policies it does not mention
    take their defaults, i.e. off). Example::

        [[set]]
        name = "backed fund"
        [set.policies.protection_fund]
        enabled = true
        public_backstop = true

    Args:
        path: the TOML file.
        scenario: validated against (so a bad field is reported as in a scenario file).

    Returns:
        The sets, with ``none`` (every policy off) first.

    Raises:
        PolicySetError: unreadable file, missing or duplicate names, unknown keys in a set.
        ScenarioError: a policy field that does not validate; the message names the field.
    """
    path = Path(path)
    if not path.is_file():
        raise PolicySetError(f"{path}: no such policy file"
                             + (" (it is a folder)" if path.is_dir() else ""))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))  # a BOM is not an error
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise PolicySetError(f"{path}: not a valid TOML policy file ({err})") from None
    extra = sorted(set(data) - {"set"})
    if extra:
        raise PolicySetError(f"{path}: unknown key '{extra[0]}'; a policy file holds [[set]] "
                             "tables, each with a name and a policies table")
    tables = data.get("set")
    if not isinstance(tables, list) or not tables:
        raise PolicySetError(f"{path}: no [[set]] tables; each needs a name and a policies table")
    scenario = scenario or Scenario()
    sets = [PolicySet(BASELINE, _switched(scenario, ()))]
    for i, table in enumerate(tables):
        where = f"{path}: set {i + 1}"
        if not isinstance(table, dict):
            raise PolicySetError(f"{where}: expected a [[set]] table")
        unknown = sorted(set(table) - {"name", "policies"})
        if unknown:
            raise PolicySetError(f"{where}: unknown key '{unknown[0]}'. Allowed here: name, "
                                 "policies")
        name = table.get("name")
        if not isinstance(name, str) or not name.strip():
            raise PolicySetError(f"{where}: needs a name, e.g. name = \"custody\"")
        name = name.strip()
        if any(s.name == name for s in sets):
            raise PolicySetError(f"{where}: the name '{name}' is "
                                 + ("reserved for the baseline" if name == BASELINE
                                    else "used twice"))
        policies = table.get("policies", {})
        if not isinstance(policies, dict):
            raise PolicySetError(f"{where} ('{name}'): policies must be a table")
        policy_set = PolicySet(name, policies)
        scenario_for(scenario, policy_set, source=f"{path}: set '{name}'")  # validate now
        sets.append(policy_set)
    return sets


def policy_sets(spec: str, scenario: Scenario | None = None) -> list[PolicySet]:
    """Policy sets from ``--policies``: a TOML file (ends in ``.toml`` or exists) or names.

    A ``.toml`` name that is no file here is looked up among the shipped policy files
    (``directions.toml``: :func:`sim.shipped.policy_file`).

    Args:
        spec: the ``--policies`` argument.
        scenario: whose policy parameters named sets use, and which file sets validate against.

    Returns:
        The sets, ``none`` first.

    Raises:
        PolicySetError: an unknown name or a bad policy file.
        ScenarioError: a policy field in the file that does not validate.
    """
    if spec.strip().endswith(".toml") or Path(spec).is_file():
        path = Path(spec.strip())
        if not path.exists() and shipped.policy_file(path.name).is_file():
            path = shipped.policy_file(path.name)  # a shipped file by name, from any folder
        return load_policy_file(path, scenario)
    return parse_policy_names(spec, scenario)


def scenario_for(scenario: Scenario, policy_set: PolicySet, seed: int | None = None,
                 source: str = "scenario") -> Scenario:
    """The scenario with its ``[policies]`` section replaced by the set's, validated.

    Args:
        scenario: the scenario as given.
        policy_set: whose ``[policies]`` section replaces the scenario's.
        seed: ``run.seed`` to set, or ``None`` to keep the scenario's.
        source: where the set came from, named in validation errors.

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: the set's policies do not validate; the message names the field.
    """
    data = scenario.model_dump(mode="json")
    data["policies"] = policy_set.policies
    if seed is not None:
        data["run"]["seed"] = seed
    return validate_scenario(data, source=source)


def replication_seeds(base: int, replications: int) -> list[int]:
    """Seeds of the replications: ``base + r`` for ``r`` in ``0 .. replications - 1``.

    Every policy set uses the same list (common random numbers).

    Args:
        base: ``--seed`` or the scenario's ``run.seed``.
        replications: how many.

    Returns:
        The seeds, in replication order.
    """
    return [base + r for r in range(replications)]
