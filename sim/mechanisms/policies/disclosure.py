"""Disclosure regime [S0 §V.D, S2]."""

from __future__ import annotations

from pydantic import Field

from sim.mechanisms.policies.base import Policy, PolicyConfig
from sim.schema import Share


class DisclosureConfig(PolicyConfig):
    """Disclosure regime [S0 §V.D, S2]: less noise in investors' signal of true risk."""

    noise_reduction: Share = Field(0.8, description="Share by which signal noise falls.")
    visibility_gain: Share = Field(
        0.8, description="Share of the hidden fake loans that disclosure brings into view.")


class Disclosure(Policy):
    """Disclosure regime [S0 §V.D, S2]: investors see more of a platform's true risk.

    * Noise: the signal's noise falls, ``sd *= 1 - noise_reduction``.
    * Hidden books: audited loan-level disclosure brings fake (self-dealing) loans into view,
      ``visibility += visibility_gain * (1 - visibility)``, so a Ponzi book looks as risky as
      it is to investors who read the signal (the literate; see ``rules.perceived_failure_prob``).
    """

    name = "disclosure"
    config_model = DisclosureConfig

    def configure(self) -> None:
        """Cut the signal noise and raise the visibility of fake loans."""
        conditions = self.model.conditions
        self._before = (conditions.signal_noise, conditions.fake_loan_visibility)
        conditions.signal_noise *= 1.0 - self.cfg.noise_reduction
        conditions.fake_loan_visibility += (self.cfg.visibility_gain
                                            * (1.0 - conditions.fake_loan_visibility))

    def finish(self) -> None:
        """Back to the noise and visibility before the regime."""
        conditions = self.model.conditions
        conditions.signal_noise, conditions.fake_loan_visibility = self._before
