"""Investor education [S0 §V.D]."""

from __future__ import annotations

from pydantic import Field

from sim.mechanisms.policies.base import Policy, PolicyConfig
from sim.schema import Share


class EducationConfig(PolicyConfig):
    """Investor education [S0 §V.D]: higher literacy, less yield-chasing and herding."""

    literacy_gain: Share = Field(
        0.3, description="Literacy rises by this share of the gap to 1.")


class Education(Policy):
    """Investor education [S0 §V.D]: literacy rises, so less yield-chasing and herding.

    ``literacy += literacy_gain * (1 - literacy)``: literate investors weigh the signal of true
    risk (``rules.perceived_failure_prob``) and are less moved by neighbours (herding).
    """

    name = "education"
    config_model = EducationConfig

    def on_investors_created(self) -> None:
        """Raise every investor's literacy."""
        inv = self.model.investors
        inv.literacy += self.cfg.literacy_gain * (1.0 - inv.literacy)
        inv.note_traits_changed()
