"""The shipped scenarios: found by name from any folder, in a source checkout or an installed copy.

The scenario files live in the project's top-level ``scenarios/`` folder (the design card's
place for them). ``sim/scenarios`` is a link to it, and ``pyproject.toml`` ships its files as
package data, so a plain ``pip install .`` copies them into the installed package. Everything
that needs a shipped file asks here (:func:`folder`, :func:`resolve`), never a path relative to
the current folder, so ``p2psim run`` with no argument and ``p2psim bench`` work anywhere.
"""

from __future__ import annotations

from pathlib import Path

DEFAULT = "baseline"
_PACKAGE = Path(__file__).resolve().parent


def folder() -> Path:
    """The folder of the shipped scenarios (``baseline.toml``, ``sweeps/``, ``data/``).

    Returns:
        The installed package data, or the checkout's top-level ``scenarios/`` folder.
    """
    for candidate in (_PACKAGE / "scenarios", _PACKAGE.parent / "scenarios"):
        if (candidate / f"{DEFAULT}.toml").is_file():
            return candidate
    return _PACKAGE / "scenarios"  # missing: callers report the file they could not find


def names() -> list[str]:
    """The shipped scenarios' names (file stems), sorted."""
    return sorted(p.stem for p in folder().glob("*.toml"))


def resolve(name: str = DEFAULT) -> Path:
    """The file of a shipped scenario, by name (``stress_2018``) or file name.

    Args:
        name: a shipped scenario's name, with or without ``.toml``.

    Returns:
        Its path (it may not exist; loading it then says so).
    """
    return folder() / (name if name.endswith(".toml") else f"{name}.toml")


def data_file(name: str) -> Path:
    """A shipped data file (``scenarios/data/<name>``), e.g. the history targets."""
    return folder() / "data" / name


def sweep_file(name: str) -> Path:
    """A shipped sweep file (``scenarios/sweeps/<name>.toml``)."""
    return folder() / "sweeps" / (name if name.endswith(".toml") else f"{name}.toml")


def policy_file(name: str) -> Path:
    """A shipped policy-set file (``scenarios/policies/<name>.toml``), e.g. ``directions``."""
    return folder() / "policies" / (name if name.endswith(".toml") else f"{name}.toml")
