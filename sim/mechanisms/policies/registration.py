"""Registration of platforms with their regulator (the 2017-2018 filing, 备案) [S0 §II, S2]."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from sim.market import lifecycle
from sim.mechanisms.policies.base import Policy, PolicyConfig
from sim.schema import Money
from sim.vocabulary import EventKind, FailureCause, Outcome, Unit


class RegistrationConfig(PolicyConfig):
    """Platforms must file with the regulator by a deadline; those that cannot wind down."""

    deadline_days: Annotated[int, Field(ge=1, le=10_000)] = Field(
        365, description="Days from the start (the rules' announcement) to the filing deadline.")
    require_custody: bool = Field(
        True, description="Bank custody of investor money is a condition of filing.")
    min_capital: Money = Field(
        0.0, description="Registered capital a platform needs to file, real yuan.")


class Registration(Policy):
    """Registration (filing, 备案) with the regulator [S0 §II: rectification; S2].

    From ``start`` the rules are known and no new platform may enter without meeting them (an
    entry regime). On the deadline, ``deadline_days`` later, every operating platform that does
    not meet them (no bank custody when ``require_custody``, or registered capital below
    ``min_capital``) stops new business and winds down in order, closed by the regulator once
    its claims are paid (or put into resolution if it cannot pay). Platforms that filed carry
    on.
    """

    name = "registration"
    config_model = RegistrationConfig
    restricts_entry = True
    outcomes = (Outcome("registration_refused", "platforms refused registration", Unit.COUNT),)

    def __init__(self, model, config: RegistrationConfig) -> None:
        super().__init__(model, config)
        self.refused: int | None = None

    def admits(self, capital: np.ndarray) -> np.ndarray:
        """Entrants must meet the capital condition (custody is decided after entry)."""
        return capital >= self.cfg.min_capital

    def start_of_day(self) -> None:
        """On the deadline, platforms that cannot file wind down."""
        model = self.model
        if model.day != self.cfg.start + self.cfg.deadline_days:
            return
        plats = model.platforms
        n = plats.n
        unable = plats.operating_mask() & ~plats.winding_down[:n] & (
            plats.registered_capital[:n] < self.cfg.min_capital)
        if self.cfg.require_custody:
            unable |= plats.operating_mask() & ~plats.winding_down[:n] & ~plats.custody[:n]
        refused = np.flatnonzero(unable)
        self.refused = len(refused)
        for i in refused:
            lifecycle.stop_new_business(model, int(i), FailureCause.REGULATORY_CLOSURE,
                                        EventKind.WIND_DOWN, reason="registration refused")

    def measure(self) -> dict:
        """How many platforms were refused on the deadline."""
        return {"registration_refused": self.refused}
