"""The base of every scenario table, the typed fields with their units, and the user-facing error.

Every table of a scenario file is a :class:`Section`: unknown keys are errors, assignments are
validated like the file, and no float may be NaN or infinite (``allow_inf_nan=False``): a NaN
compares false with every bound, so it would pass them all and spread through the money.
Every number also has an upper bound, so a typo such as ``1e308`` is refused before any work:
the bounds are far beyond anything plausible, only there to keep the arithmetic finite. The field types say what is allowed: a :data:`Share` is a fraction
in [0, 1], a :data:`Rate` an annual rate (0.10 = 10% a year), :data:`Money` yuan, :data:`Days` a
number of days (one step is one day), :data:`Count` a number of agents.

Mechanisms (shocks, policies) define their own tables from these, so this module sits below
them; :mod:`sim.config` assembles the whole scenario.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# The bounds of the typed fields. Money: 10 trillion yuan, several times the whole sector at its
# 2017 peak (about 1.3 trillion). Days: a century. Count: agents of one kind; the memory estimate
# (sim.config.memory) refuses well before it on most machines.
MONEY_MAX = 1e13
DAYS_MAX = 36_500
COUNT_MAX = 100_000_000
Share = Annotated[float, Field(ge=0.0, le=1.0)]
Rate = Annotated[float, Field(ge=0.0, le=1.0)]
Money = Annotated[float, Field(ge=0.0, le=MONEY_MAX)]
Days = Annotated[int, Field(ge=1, le=DAYS_MAX)]
Count = Annotated[int, Field(ge=0, le=COUNT_MAX)]


class Section(BaseModel):
    """Base for every scenario table: unknown keys are errors, values are checked on assignment.

    Floats must be finite (no NaN, no infinities), in the file, in ``--set`` and on assignment.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class ScenarioError(Exception):
    """A scenario that cannot be used; the message is meant for the user, as is."""
