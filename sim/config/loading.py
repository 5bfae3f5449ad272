"""Reading, overriding and validating scenario files, with one clear message per mistake.

Errors are raised as :class:`~sim.schema.ScenarioError`, whose message names the field, the
offending value and what is allowed. The CLI turns it into one line on stderr and exit code 2.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.config.checks import check_scenario
from sim.config.dotted import set_dotted
from sim.config.scenario import scenario_model
from sim.schema import ScenarioError


def _format_validation_error(err: ValidationError, source: str) -> str:
    lines = []
    for item in err.errors():
        field = ".".join(str(p) for p in item["loc"]) or "(top level)"
        value = item.get("input")
        kind = item["type"]
        if kind == "extra_forbidden":
            parent = _section_for(item["loc"][:-1])
            allowed = ", ".join(sorted(parent.model_fields)) if parent else "see the JSON Schema"
            lines.append(f"{source}: unknown key '{field}'. Allowed here: {allowed}")
            continue
        message = item["msg"]
        shown = repr(value) if not isinstance(value, dict) else "a table"
        lines.append(f"{source}: field '{field}' = {shown} is invalid: {message}")
    return "\n".join(lines)


def _section_for(loc: tuple) -> type[BaseModel] | None:
    """The model class at a location path, for listing allowed keys."""
    model: type[BaseModel] = scenario_model()
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        annotation = field.annotation
        inner = getattr(annotation, "__args__", (annotation,))
        found = next((a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if found is None:
            return None
        model = found
    return model


def _parse_override_value(text: str) -> Any:
    """Interpret a --set value as TOML (numbers, booleans, lists, quoted strings) or a bare string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """Apply ``dotted.key=value`` overrides to raw scenario data (validated afterwards).

    Keys follow :mod:`sim.config.dotted`: tables by name, list entries by index
    (``shocks.0.size=2``, ``platforms.custom.1.leverage=20``); an index must name an entry the
    file has. Values are read as TOML (numbers, booleans, lists, quoted strings), else as text.

    Args:
        data: scenario data, changed in place.
        overrides: ``key=value`` strings, in order.

    Returns:
        ``data``.

    Raises:
        ScenarioError: a malformed override or a key that cannot be reached.
    """
    for item in overrides:
        if "=" not in item:
            raise ScenarioError(f"--set '{item}': expected dotted.key=value, e.g. run.days=365")
        key, _, raw = item.partition("=")
        if not key.strip():
            raise ScenarioError(f"--set '{item}': empty key")
        try:
            set_dotted(data, key.strip(), _parse_override_value(raw.strip()))
        except ScenarioError as err:
            raise ScenarioError(f"--set '{item}': {err}") from None
    return data


def read_scenario_data(path: str | Path) -> dict:
    """Read a TOML scenario into a dict, with user-facing errors for unreadable files."""
    path = Path(path)
    if not path.exists():
        raise ScenarioError(f"{path}: no such scenario file")
    if path.is_dir():
        raise ScenarioError(f"{path}: is a directory, expected a .toml scenario file")
    try:
        # utf-8-sig: a byte-order mark (some Windows editors add one) is skipped, not an error.
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not a text file; expected a TOML scenario") from None
    except OSError as err:
        raise ScenarioError(f"{path}: cannot be read ({err.strerror or err})") from None
    if not text.strip():
        raise ScenarioError(f"{path}: the file is empty; a scenario needs at least a name")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"{path}: not valid TOML ({err})") from None
    if not data:  # only comments: as empty, not silently the full baseline
        raise ScenarioError(f"{path}: the file has no settings (only comments or blank lines); "
                            "a scenario needs at least a name")
    return data


def validate_scenario(data: dict, source: str = "scenario"):
    """Validate raw data into a :class:`Scenario`, raising :class:`ScenarioError` on any problem.

    The fields are checked one by one (the schema), then across fields
    (:func:`sim.config.checks.check_scenario`: shock targets, platform names and counts, owner
    shares), so every caller (validate, run, compare, sweep points, the app) refuses the same.
    """
    try:
        scenario = scenario_model().model_validate(data)
    except ValidationError as err:
        raise ScenarioError(_format_validation_error(err, source)) from None
    check_scenario(scenario, source)
    return scenario


def load_scenario(path: str | Path, overrides: list[str] | None = None):
    """Load, override and validate a scenario file.

    Args:
        path: TOML scenario file.
        overrides: ``dotted.key=value`` strings applied before validation.

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: with a message naming the file, field, value and what is allowed.
    """
    data = read_scenario_data(path)
    data = apply_overrides(data, overrides or [])
    return validate_scenario(data, source=str(path))


def json_schema() -> str:
    """The scenario JSON Schema, for editors (``scenarios/scenario.schema.json``)."""
    return json.dumps(scenario_model().model_json_schema(), indent=2, sort_keys=True) + "\n"
