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


def hearsay_weight(noise_reduction: float, literacy: float) -> float:
    """Weight investors give news about a platform that its disclosed books could check.

    Two kinds of news say something about a platform without coming from its books: failures at
    similar platforms (the information channel) and rumours (news without a change in
    fundamentals, ``RumourShock``). An investor judging the platform combines such news with
    what it sees of the platform itself (the signal). By Bayes' rule each source is weighted by
    its precision, so the news gets ``tau_n / (tau_n + tau_s)``. Taking the two as equally
    precise before disclosure (weight 1/2), and disclosure as cutting the signal's sd by
    ``noise_reduction`` (precision ``/ (1 - r)^2``), the weight falls to
    ``(1 - r)^2 / ((1 - r)^2 + 1)``, a share ``2 (1 - r)^2 / (1 + (1 - r)^2)`` of what it was.
    Only investors who read the signal (financial literacy ``L``, as in
    ``rules.perceived_failure_prob``) discount the news, so the weight of the news a platform's
    investors act on is ``(1 - L) + L * 2 (1 - r)^2 / (1 + (1 - r)^2)``. This is the channel by
    which transparency damps information contagion and rumour-driven runs: investors who can
    tell a platform's own soundness read less into its peers' failures and into unverified bad
    news (Chen 1999; Acharya and Yorulmazer 2008; a rumour is a public signal of low precision
    once private information is precise, Morris and Shin 2002).

    Args:
        noise_reduction: share by which disclosure cuts the signal's sd, ``r`` in [0, 1].
        literacy: investors' mean financial literacy, ``L`` in [0, 1].

    Returns:
        The weight, 1 without disclosure (``r = 0``) and ``1 - L`` when the signal is exact.
    """
    kept = (1.0 - noise_reduction) ** 2
    return (1.0 - literacy) + literacy * 2.0 * kept / (1.0 + kept)


class Disclosure(Policy):
    """Disclosure regime [S0 §V.D, S2]: investors see more of a platform's true risk.

    * Noise: the signal's noise falls, ``sd *= 1 - noise_reduction``.
    * Hidden books: audited loan-level disclosure brings fake (self-dealing) loans into view,
      ``visibility += visibility_gain * (1 - visibility)``, so a Ponzi book looks as risky as
      it is to investors who read the signal (the literate; see ``rules.perceived_failure_prob``).
    * Hearsay: investors who can read a platform's own books weigh failure news about its
      peers and rumours about it less (:func:`hearsay_weight`), so the information channel
      and rumours carry less fear. Distress made public and regulatory warnings are facts
      about the platform itself and keep their full weight.
    """

    name = "disclosure"
    config_model = DisclosureConfig

    def configure(self) -> None:
        """Cut the signal noise and raise the visibility of fake loans."""
        conditions = self.model.conditions
        self._before = (conditions.signal_noise, conditions.fake_loan_visibility,
                        conditions.hearsay_weight)
        conditions.signal_noise *= 1.0 - self.cfg.noise_reduction
        conditions.fake_loan_visibility += (self.cfg.visibility_gain
                                            * (1.0 - conditions.fake_loan_visibility))

    def on_investors_created(self) -> None:
        """Discount hearsay by the investors' mean literacy when the regime begins."""
        model = self.model
        literacy = model.investors.trait_means()[0] if model.investors.count else 0.0
        model.conditions.hearsay_weight = (
            self._before[2] * hearsay_weight(self.cfg.noise_reduction, literacy))

    def finish(self) -> None:
        """Back to the noise, visibility and hearsay weight before the regime."""
        conditions = self.model.conditions
        (conditions.signal_noise, conditions.fake_loan_visibility,
         conditions.hearsay_weight) = self._before
