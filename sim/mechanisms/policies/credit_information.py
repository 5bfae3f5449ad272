"""Credit information system [S1 §3(2)]."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from sim.mechanisms.policies.base import Policy, PolicyConfig
from sim.schema import Share


class CreditInformationConfig(PolicyConfig):
    """Credit information system [S1 §3(2)]: less misreporting, better screening."""

    misreport_cut: Share = Field(0.7, description="Share by which inflated reports shrink.")
    screening_gain: Share = Field(
        0.3, description="Screening quality rises by this share of the gap to 1.")


class CreditInformation(Policy):
    """Credit information system [S1 §3(2)]: smaller inflated reports, better screening.

    ``misreport_strength *= 1 - misreport_cut``; ``screening += screening_gain * (1 -
    screening)`` for every platform.
    """

    name = "credit_information"
    config_model = CreditInformationConfig

    def configure(self) -> None:
        """Shrink how far misreporting borrowers can inflate their credit quality."""
        self._before = self.model.conditions.misreport_strength
        self.model.conditions.misreport_strength *= 1.0 - self.cfg.misreport_cut

    def finish(self) -> None:
        """Misreporting returns (screening skills already gained stay)."""
        self.model.conditions.misreport_strength = self._before

    def on_platforms_created(self, idx: np.ndarray) -> None:
        """New platforms screen better."""
        plats = self.model.platforms
        plats.screening[idx] += self.cfg.screening_gain * (1.0 - plats.screening[idx])
