"""Where the app's scenario comes from: a lesson, a shipped scenario, or pasted or uploaded TOML.

The page never opens a path it is given: it offers the lessons, the shipped scenarios by name
(the ``.toml`` files of the project's ``scenarios/`` folder, listed when the app starts), and
TOML text that a teacher pastes or uploads. Every text is read and validated like a scenario
file (:func:`scenario_from_text`), and a mistake gets the one-line message ``p2psim run`` prints.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from sim import shipped
from sim.app.lessons import LESSONS, Lesson
from sim.config import Scenario, ScenarioError, validate_scenario

SCENARIOS_DIR = shipped.folder()  # installed package data or the checkout's scenarios/
MAX_TEXT_CHARS = 200_000  # a scenario file is a few kB; anything bigger is not one
NO_COMPARISON = "none"


@dataclass(frozen=True)
class Source:
    """A scenario the app can open, with what the page says about it.

    Attributes:
        label: shown in the page ("Lesson: ...", "Scenario: ...", "Uploaded: ...").
        name: the name error messages use for the text (a file name, ``pasted text``).
        toml: the scenario as TOML text.
        compare_with: the policy the page runs side by side at first (``"none"``: no twin).
        summary: one sentence on what it shows.
        steps: what to do (lessons).
        look_for: what to see (lessons).
    """

    label: str
    name: str
    toml: str
    compare_with: str = NO_COMPARISON
    summary: str = ""
    steps: tuple[str, ...] = field(default_factory=tuple)
    look_for: tuple[str, ...] = field(default_factory=tuple)


def scenario_from_text(text: str, source: str) -> Scenario:
    """Read and validate a scenario given as TOML text, with the messages of a scenario file.

    Args:
        text: the TOML text.
        source: what to call it in messages (a file name, ``pasted text``).

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: empty, too long, not TOML, or not a valid scenario; the message names
            ``source`` and the field, like :func:`sim.config.load_scenario`'s.
    """
    text = text.removeprefix("\ufeff")  # a byte-order mark, as a file's reader skips it
    if not text.strip():
        raise ScenarioError(f"{source}: the file is empty; a scenario needs at least a name")
    if len(text) > MAX_TEXT_CHARS:
        raise ScenarioError(f"{source}: {len(text):,} characters is too long for a scenario "
                            f"(at most {MAX_TEXT_CHARS:,})")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"{source}: not valid TOML ({err})") from None
    if not data:
        raise ScenarioError(f"{source}: the text has no settings (only comments or blank lines); "
                            "a scenario needs at least a name")
    return validate_scenario(data, source=source)


def text_of_upload(content: bytes, name: str) -> str:
    """An uploaded file's bytes as text.

    Raises:
        ScenarioError: not UTF-8 text (the message of a binary scenario file).
    """
    if len(content) > MAX_TEXT_CHARS * 4:
        raise ScenarioError(f"{name}: {len(content):,} bytes is too long for a scenario")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"{name}: not a text file; expected a TOML scenario") from None


def lesson_source(item: Lesson) -> Source:
    """A lesson as a source."""
    return Source(label=f"Lesson: {item.title}", name=f"lesson '{item.key}'", toml=item.toml,
                  compare_with=item.compare_with, summary=item.summary, steps=item.steps,
                  look_for=item.look_for)


def lesson_sources() -> list[Source]:
    """Every lesson, in teaching order."""
    return [lesson_source(item) for item in LESSONS]


def shipped_scenarios(folder: Path = SCENARIOS_DIR) -> dict[str, Path]:
    """Name -> file of every shipped scenario, read once when the app starts.

    Empty when the package runs without its project folder (an installed wheel).
    """
    if not folder.is_dir():
        return {}
    return {path.stem: path for path in sorted(folder.glob("*.toml"))}


def _opening_comment(text: str) -> str:
    """The comment a shipped scenario opens with (what it demonstrates), as one paragraph."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    return " ".join(" ".join(lines).split())


def shipped_source(name: str, scenarios: dict[str, Path]) -> Source:
    """The shipped scenario called ``name`` (a key of :func:`shipped_scenarios`, never a path).

    Raises:
        ScenarioError: no shipped scenario has that name.
    """
    path = scenarios.get(name)
    if path is None:
        raise ScenarioError(f"no shipped scenario called {name!r}; choose one of: "
                            f"{', '.join(scenarios) or '(none found)'}")
    text = path.read_text(encoding="utf-8")
    return Source(label=f"Scenario: {name}", name=path.name, toml=text,
                  summary=_opening_comment(text))


def text_source(text: str, name: str) -> Source:
    """Pasted or uploaded TOML as a source, validated first.

    Raises:
        ScenarioError: the text is not a valid scenario (see :func:`scenario_from_text`).
    """
    scenario = scenario_from_text(text, name)
    return Source(label=f"{name}: {scenario.name}", name=name, toml=text,
                  summary=scenario.description)
