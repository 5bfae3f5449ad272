"""The base of every scenario table, the typed fields with their units, and the user-facing error.

Every table of a scenario file is a :class:`Section`: unknown keys are errors, and assignments
are validated like the file. The field types say what is allowed: a :data:`Share` is a fraction
in [0, 1], a :data:`Rate` an annual rate (0.10 = 10% a year), :data:`Money` yuan, :data:`Days` a
number of days (one step is one day), :data:`Count` a number of agents.

Mechanisms (shocks, policies) define their own tables from these, so this module sits below
them; :mod:`sim.config` assembles the whole scenario.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Rate = Annotated[float, Field(ge=0.0, le=1.0)]
Money = Annotated[float, Field(ge=0.0)]
Days = Annotated[int, Field(ge=1)]
Count = Annotated[int, Field(ge=0)]


class Section(BaseModel):
    """Base for every scenario table: unknown keys are errors, values are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ScenarioError(Exception):
    """A scenario that cannot be used; the message is meant for the user, as is."""
