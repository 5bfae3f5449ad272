"""Market conditions: everything shocks, contagion channels and policies set for the market.

The engine's rules read these; the mechanisms write them. Keeping them in one documented object,
instead of loose attributes of the model, shows in one place what a mechanism can change and
who changes what:

* **shocks** reset their part to calm values at the start of every day and then apply what is
  active (:meth:`MarketConditions.calm`): the outside rate, investors' liquidity need,
  borrowers' default hazard by sector, public news (rumours, regulatory warnings) and outages;
* **contagion channels** set failure news (information), the risk read from debt-transfer
  prices (fire sales), a guarantor's cover and whether fire sales move prices;
* **policies** rebuild the protection cover investors count on each day, and tighten the market's
  rules when the model is built (product terms, loan caps, lenders per borrower, credit
  misreporting, signal noise, visibility of fake loans);
* the **stress record** keeps, per platform, the stress each source carried recently, to
  attribute every failure to a channel (:class:`StressRecord`).

Units: rates annual; news in intensity units (1 = as strong as public distress); cover as a share
of a claim; money in yuan.
"""

from __future__ import annotations

import numpy as np

from sim.vocabulary import Carrier, Channel

STRESS_MEMORY_DAYS = 14.0  # how far back "the days before a failure" reach in the attribution


class StressRecord:
    """Recent stress per platform from each source, decaying with :data:`STRESS_MEMORY_DAYS`.

    Sources are every :class:`~sim.vocabulary.Channel`, then ``shock``; when two sources tie in
    :meth:`at`, the one first in this order wins the attribution.
    """

    def __init__(self, capacity: int) -> None:
        self.by_source = {Carrier(c.value): np.zeros(capacity) for c in Channel}
        self.by_source[Carrier.SHOCK] = np.zeros(capacity)
        self.fade = np.exp(-1.0 / STRESS_MEMORY_DAYS)

    def __getitem__(self, source: str) -> np.ndarray:
        """The per-platform record of one source (add to it in place)."""
        return self.by_source[source]

    def decay(self) -> None:
        """One day passes: every record fades by ``exp(-1 / STRESS_MEMORY_DAYS)``."""
        for record in self.by_source.values():
            record *= self.fade

    def at(self, platform: int) -> dict[str, float]:
        """Every source's recent stress at ``platform``, in the order above."""
        return {str(c): float(s[platform]) for c, s in self.by_source.items()}


class MarketConditions:
    """What shocks, channels and policies have set for the market (see the module docstring).

    Args:
        capacity: rows of the platform arrays.
        sectors: borrower sectors.
        outside_rate: the calm outside rate, annual.
        outage: the platforms' outage flags (:attr:`PlatformArrays.outage`), shared, so that a
            platform in an outage is closed to new money.
        product_terms: the term-product menu, days.
        max_lenders: platforms one borrower may borrow from at once.
        misreport_strength: share by which misreporting borrowers understate their default
            probability.
        signal_noise: sd of investors' signal of a platform's true risk.
        fake_loan_visibility: share of fake loans that shows in that signal.
        fire_sale_impact: whether forced sales move debt-transfer prices.
    """

    def __init__(self, capacity: int, sectors: int, outside_rate: float, outage: np.ndarray,
                 product_terms: np.ndarray, max_lenders: int, misreport_strength: float,
                 signal_noise: float, fake_loan_visibility: float,
                 fire_sale_impact: bool) -> None:
        self.calm_outside_rate = outside_rate
        # Shocks (reset every day by calm()).
        self.outside_rate = outside_rate  # the outside option, annual
        self.liquidity_multiplier = 1.0  # scales investors' ordinary redemption need
        self.sector_multiplier = np.ones(sectors)  # borrowers' default hazard by sector
        self.news = np.zeros(capacity)  # rumours and regulatory warnings, per platform
        self.outage = outage  # cannot take or pay money today, per platform
        # Contagion channels.
        self.information_news = np.zeros(capacity)  # failure news reaching similar platforms
        self.price_signal = np.zeros(capacity)  # risk read from debt-transfer prices
        self.guarantee_cover = np.zeros(capacity)  # cover of a solvent guarantor, share
        self.fire_sale_impact = fire_sale_impact
        # Policies: cover investors count on (rebuilt daily), and market rules (set once).
        self.coverage = np.zeros(capacity)
        self.product_terms = np.asarray(product_terms)
        self.max_lenders = max_lenders
        self.loan_size_cap = np.inf  # yuan per loan at one platform
        self.misreport_strength = misreport_strength
        self.signal_noise = signal_noise
        self.fake_loan_visibility = fake_loan_visibility
        # Weight investors give news their platform's books could check: failures of peers, rumours.
        self.hearsay_weight = 1.0  # disclosure lowers it
        # Attribution of failures.
        self.stress = StressRecord(capacity)

    def calm(self) -> None:
        """Every value shocks write back at its calm level (the start of each day)."""
        self.news[:] = 0.0
        self.outage[:] = False
        self.sector_multiplier[:] = 1.0
        self.liquidity_multiplier = 1.0
        self.outside_rate = self.calm_outside_rate
