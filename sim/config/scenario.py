"""The whole scenario: its own tables, the shock list and the policy tables, from the registries.

The ``type`` of a ``[[shocks]]`` table may be any registered shock
(:func:`sim.mechanisms.shocks.shock_types`), and ``[policies]`` has one table per registered
policy (:func:`sim.mechanisms.policies.registered_policies`). :func:`scenario_model` builds the
schema from the registries as they are; :data:`Scenario` is the schema of the built-in shocks and
policies.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, create_model, model_validator

from sim.config.sections import (
    BorrowerConfig,
    ChannelsConfig,
    HistoryConfig,
    InvestorConfig,
    MarketConfig,
    PlatformConfig,
    ResolutionConfig,
    RunConfig,
)
from sim.mechanisms.policies import registered_policies
from sim.mechanisms.shocks import shock_types
from sim.schema import Days, Section


def _first_paragraph(doc: str | None) -> str:
    return " ".join((doc or "").strip().split("\n\n")[0].split())


def _shock_model(shocks: tuple) -> type[Section]:
    kinds = tuple(name for name, _ in shocks)
    meanings = "; ".join(f"{name}: {cls.size_meaning}" for name, cls in shocks
                         if cls.size_meaning)
    described = "\n".join(f"    * ``{name}``: {_first_paragraph(cls.__doc__)}"
                          for name, cls in shocks)

    class ShockConfig(Section):
        type: Literal[kinds] = Field(description="Shock type: " + ", ".join(kinds) + ".")
        start: Days = Field(description="Day the shock fires.")
        duration: Days = Field(1, description="Days it lasts (deadline: days until the deadline).")
        size: Annotated[float, Field(ge=0.0, le=1e15)] = Field(
            1.0, description="Strength; its unit depends on the type (" + meanings + ").")
        platform: str | None = Field(
            None, description="Target platform: a custom name, an id such as P0003, or "
            "'largest'. Omit for the whole market (fraud and outage then hit the largest "
            "platform).")
        sector: Annotated[int, Field(ge=0, le=63)] | None = Field(
            None, description="Credit shocks only: the sector hit (0-based); omit for all "
            "sectors.")

        @model_validator(mode="after")
        def _size_in_range(self) -> ShockConfig:
            problem = dict(shocks)[self.type].size_error(self.size)
            if problem:
                raise ValueError(f"{problem}; got {self.size}")
            return self

    ShockConfig.__doc__ = ("A scheduled shock: it fires on day ``start`` and lasts ``duration`` "
                           "days.\n\n    What each type does:\n\n" + described + "\n")
    return ShockConfig


def _policies_model(policies: tuple) -> type[Section]:
    fields = {name: (cls.config_model, Field(default_factory=cls.config_model))
              for name, cls in policies}
    return create_model("PoliciesConfig", __base__=Section,
                        __doc__="Regulatory policies; each is off unless enabled.", **fields)


@lru_cache(maxsize=8)
def _build(shocks: tuple, policies: tuple) -> tuple[type[Section], type[Section], type[Section]]:
    shock_config = _shock_model(shocks)
    policies_config = _policies_model(policies)
    scenario = create_model(
        "Scenario", __base__=Section, __doc__="A complete scenario file.",
        name=(str, Field("unnamed", description="Scenario name, shown in outputs.")),
        description=(str, Field("", description="What the scenario demonstrates.")),
        run=(RunConfig, Field(default_factory=RunConfig)),
        history=(HistoryConfig | None, Field(None, description="Real dates and sampling ratio, "
                                             "to compare a run with history (optional).")),
        market=(MarketConfig, Field(default_factory=MarketConfig)),
        platforms=(PlatformConfig, Field(default_factory=PlatformConfig)),
        investors=(InvestorConfig, Field(default_factory=InvestorConfig)),
        borrowers=(BorrowerConfig, Field(default_factory=BorrowerConfig)),
        resolution=(ResolutionConfig, Field(default_factory=ResolutionConfig)),
        shocks=(list[shock_config], Field(default_factory=list, description="Scheduled shocks.")),
        channels=(ChannelsConfig, Field(default_factory=ChannelsConfig)),
        policies=(policies_config, Field(default_factory=policies_config)),
    )
    return scenario, shock_config, policies_config


def scenario_model() -> type[Section]:
    """The scenario schema for the shocks and policies registered now."""
    return _build(tuple(shock_types().items()), tuple(registered_policies().items()))[0]


def shock_model() -> type[Section]:
    """The schema of one ``[[shocks]]`` table for the shock types registered now."""
    return _build(tuple(shock_types().items()), tuple(registered_policies().items()))[1]


def policies_model() -> type[Section]:
    """The schema of ``[policies]`` for the policies registered now."""
    return _build(tuple(shock_types().items()), tuple(registered_policies().items()))[2]


Scenario = scenario_model()
ShockConfig = shock_model()
PoliciesConfig = policies_model()
