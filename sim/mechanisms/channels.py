"""The six contagion channels of MODEL.md, each switchable in ``[channels]``.

Channels carry stress from one platform to others through the market conditions
(:class:`~sim.market.conditions.MarketConditions`) and investors' fear:

* information: failure news to similar platforms (``conditions.information_news``);
* herding: neighbours' distress raises an investor's fear (``investors.fear_parts["herding"]``);
* shared investors: a delay or loss raises its investor's fear everywhere
  (``investors.fear_parts["shared_investors"]``);
* common borrowers: a lender's failure raises its borrowers' hazard at other lenders
  (``borrowers.refinancing_stress``);
* fire sales: price impact on the debt-transfer market, and the discount read as a risk signal
  (``conditions.price_signal``);
* shared guarantors: a guarantor paying for one failure can fail, and its other platforms lose
  their cover (``conditions.guarantee_cover``).

Each channel also adds to the per-platform stress record (``conditions.stress``) used to
attribute every failure to the channel that contributed most in the days before it (a simple
attribution, :meth:`Channels.attribute`). The weights that put each channel's stress on one
scale are the ``*_WEIGHT`` constants below: each converts the channel's own measure into
perceived expected loss (share of a claim), the unit of the investor-level channels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx
import numpy as np

from sim.market import lifecycle
from sim.market.ledger import INVESTOR_CASH, OUTSIDE, Account, Flow
from sim.vocabulary import Carrier, Channel, EventKind

if TYPE_CHECKING:
    from sim.model import P2PModel

CHANNELS = tuple(c.value for c in Channel)
# Below this much stress (about 2% of perceived expected loss) a failure is not put down to any
# channel: background noise such as ordinary debt-transfer sales is not contagion.
ATTRIBUTION_FLOOR = 0.02
NETWORKX_LIMIT = 200_000  # above this, the same Watts-Strogatz algorithm runs in numpy
# Attribution weights: the daily stress each unit of a channel's own measure adds to the record.
# They are judgment calls that put the measures on one rough scale (perceived expected loss, a
# share of a claim); they decide only which channel a failure is put down to, never what happens.
NEWS_STRESS_WEIGHT = 0.1  # per unit of news intensity (1 = public distress), per day
OUTAGE_STRESS = 0.2  # per day a platform cannot pay: like two units of news
PRICE_SIGNAL_WEIGHT = 0.5  # per unit of the fire-sale risk signal (annual failure probability)
LOST_COVER_WEIGHT = 0.1  # per unit of guarantee cover lost, per day: like one unit of news
# Investors' fear is an annual failure probability; times the default loss_given_failure (0.7)
# it is the expected loss they perceive.
FEAR_WEIGHT = 0.7
GUARANTORS = "guarantors"


def watts_strogatz_csr(n: int, k: int, p: float, rng: np.random.Generator):
    """Small-world network (Watts and Strogatz 1998) as CSR arrays ``(indptr, indices)``.

    Up to ``NETWORKX_LIMIT`` nodes it is built by networkx (``watts_strogatz_graph``); larger
    networks use the same algorithm in numpy: a ring lattice of degree ``k`` whose edges are each
    rewired to a uniform random node with probability ``p``.
    """
    k = max(2, k - k % 2)
    index = np.int32 if n < np.iinfo(np.int32).max else np.int64  # investor numbers: 4 bytes
    if n <= k:
        return np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=index)
    if n <= NETWORKX_LIMIT:
        graph = nx.watts_strogatz_graph(n, k, p, seed=int(rng.integers(2**31)))
        edges = np.array(graph.edges(), dtype=np.int64).reshape(-1, 2)
        source, target = edges[:, 0], edges[:, 1]
    else:
        source = np.repeat(np.arange(n, dtype=index), k // 2)
        target = source + np.tile(np.arange(1, k // 2 + 1, dtype=index), n)
        target[target >= n] -= n  # (source + step) % n without a wider temporary
        rewire = rng.random(len(target)) < p
        target[rewire] = rng.integers(0, n, int(rewire.sum()))
        keep = source != target
        source, target = source[keep], target[keep]
    # Both directions of every edge, sorted by (node, neighbour), as one int64 key per entry
    # (node * n + neighbour): one array sorted in place instead of pairs and their lexsort,
    # which at 10^6 investors took about 300 MB more at the model's build.
    m = len(source)
    key = np.empty(2 * m, dtype=np.int64)
    np.multiply(source, n, out=key[:m], dtype=np.int64)
    key[:m] += target
    np.multiply(target, n, out=key[m:], dtype=np.int64)
    key[m:] += source
    del source, target
    key.sort()
    counts = np.bincount(key // n, minlength=n)
    # Offsets in 4 bytes when the entries allow (4 bytes per investor less at 10^6).
    indptr = np.zeros(n + 1, dtype=np.int32 if 2 * m < np.iinfo(np.int32).max else np.int64)
    np.cumsum(counts, out=indptr[1:])
    return indptr, (key % n).astype(index)


def peer_similarity(rate: np.ndarray, business_model: np.ndarray, failed_rate: float,
                    failed_model: int, rate_scale: float, other_model_weight: float) -> np.ndarray:
    """How much a failure's news applies to each platform, in [0, 1].

    ``exp(-((rate - failed_rate) / rate_scale)^2 / 2) * (1 if the same business model else
    other_model_weight)``: investors read a failure as news about platforms like it, those with
    the same business model and in the same rate class (a Gaussian kernel of width
    ``rate_scale`` in the promised rate). A fraud raised rates at unrelated platforms without
    ending their inflows, while peers lost volume (Cheng, Leite and Caldieraro 2020), so news
    is strongly peer-specific.
    """
    kernel = np.exp(-0.5 * ((rate - failed_rate) / rate_scale) ** 2)
    return kernel * np.where(business_model == failed_model, 1.0, other_model_weight)


class Channels:
    """State and daily updates of the contagion channels of one model.

    Attributes:
        accounts: the guarantors' money, kept in the ledger.
        flows: guarantors' capital and the claims they pay off.
    """

    accounts = (Account(GUARANTORS, description="third-party guarantors' cash"),)
    flows = (Flow("guarantor_capital", OUTSIDE, GUARANTORS, per_platform=False,
                  description="guarantors' own capital"),
             Flow("claims_guaranteed", GUARANTORS, INVESTOR_CASH, claims=-1,
                  description="claims paid off by a guarantor"))

    def __init__(self, model: P2PModel) -> None:
        self.model = model
        cfg = model.config.channels
        self.cfg = cfg
        capacity = model.platforms.capacity
        self.stress = model.conditions.stress
        if cfg.herding.enabled:
            self.indptr, self.indices = watts_strogatz_csr(
                model.investors.count, cfg.herding.neighbours, cfg.herding.rewiring,
                model.mechanism_rng("network"))
            self.degree = np.diff(self.indptr).astype(np.int32)  # at most n - 1
        self.guarantor = np.full(capacity, -1, dtype=np.int64)
        g = cfg.shared_guarantors
        self.guarantees = g.enabled or g.present
        if self.guarantees:
            self.guarantor_cash = np.zeros(g.guarantors)  # paid in when platforms exist
            self.guarantor_solvent = np.ones(g.guarantors, dtype=bool)
        self.pending_guarantees: list[tuple[int, int, np.ndarray, np.ndarray]] = []

    # ------------------------------------------------------------------ platforms entering
    def on_platforms_created(self, idx: np.ndarray) -> None:
        """New platforms get a guarantor with probability ``share_guaranteed``.

        On day 0 each guarantor pays in capital of ``capital`` times the claims its platforms
        can expect (:func:`~sim.market.lifecycle.expected_claims`), so guarantors are as thin
        relative to their book at any sample size.
        """
        g = self.cfg.shared_guarantors
        if not self.guarantees or len(idx) == 0:
            return
        model = self.model
        rng = model.mechanism_rng("guarantors")
        has = rng.random(len(idx)) < g.share_guaranteed
        who = rng.integers(0, g.guarantors, len(idx))
        self.guarantor[idx] = np.where(has, who, -1)
        if model.day == 0:
            expected = lifecycle.expected_claims(model, model.platforms.visibility[idx])
            capital = g.capital * np.bincount(who[has], weights=expected[has],
                                              minlength=g.guarantors)
            self.guarantor_cash += capital
            model.ledger.transfer("guarantor_capital", float(capital.sum()))
        self.update_coverage()

    def update_coverage(self) -> None:
        """Investors count on a solvent guarantor's cover; a failed guarantor's cover is gone."""
        g = self.cfg.shared_guarantors
        if not self.guarantees:
            return
        n = self.model.platforms.n
        gid = self.guarantor[:n]
        covered = (gid >= 0) & self.guarantor_solvent[np.maximum(gid, 0)]
        lost = (gid >= 0) & ~covered
        self.model.conditions.guarantee_cover[:n] = np.where(covered, g.cover, 0.0)
        self.stress[Carrier.SHARED_GUARANTORS][:n] += np.where(lost, g.cover * LOST_COVER_WEIGHT,
                                                                0.0)

    # ------------------------------------------------------------------ daily
    def start_of_day(self) -> None:
        """Decay memories, pay guarantees due, set today's information news and price signal."""
        model = self.model
        conditions = model.conditions
        n = model.platforms.n
        self.stress.decay()
        if self.pending_guarantees:
            self._pay_guarantees()
        borrowers = model.borrowers
        if self.cfg.common_borrowers.enabled and borrowers.count:
            borrowers.refinancing_stress *= np.exp(-1.0 / self.cfg.common_borrowers.decay_days)
        conditions.information_news[:] = 0.0
        if self.cfg.information.enabled and model.failures:
            info = self.cfg.information
            rate = model.platforms.rate[:n]
            business_model = model.platforms.business_model[:n]
            news = np.zeros(n)
            for f in model.failures:
                age = model.day - f["day"]
                if age > 5 * info.memory_days:
                    continue
                similarity = peer_similarity(rate, business_model, f["rate"],
                                             f["business_model"], info.rate_scale,
                                             info.other_model_weight)
                similarity[f["platform"]] = 0.0
                news += info.strength * np.exp(-age / info.memory_days) * similarity
            conditions.information_news[:n] = conditions.hearsay_weight * news
        self.stress[Carrier.INFORMATION][:n] += (conditions.information_news[:n]
                                                 * NEWS_STRESS_WEIGHT)
        self.stress[Carrier.SHOCK][:n] += (conditions.news[:n] * NEWS_STRESS_WEIGHT
                                           + conditions.outage[:n] * OUTAGE_STRESS)
        conditions.price_signal[:n] = 0.0
        if self.cfg.fire_sales.enabled:
            plats = model.platforms
            discount = model.transfer_market.discount
            excess = max(0.0, discount - model.config.market.transfer_discount)
            ratio = plats.loans[:n] / np.maximum(plats.products[:n], 1.0)
            conditions.price_signal[:n] = self.cfg.fire_sales.signal_weight * excess * ratio
            self.stress[Carrier.FIRE_SALES][:n] += (conditions.price_signal[:n]
                                                    * PRICE_SIGNAL_WEIGHT)

    def on_delays(self, owners: np.ndarray, platforms: np.ndarray) -> None:
        """Investors paid late: shared-investor fear, and herding among their neighbours."""
        self._fear_from_distress(owners, platforms)

    def on_losses(self, owners: np.ndarray, platforms: np.ndarray) -> None:
        """Investors whose claims were written off (or who lost to absconding)."""
        self._fear_from_distress(owners, platforms)

    def on_panic_redemptions(self, owners: np.ndarray, platforms: np.ndarray) -> None:
        """Early redemptions from platforms under news are visible to neighbours (herding)."""
        if self.cfg.herding.enabled and len(owners):
            owners, first = np.unique(owners, return_index=True)
            self._herd(owners, platforms[first])

    def _fear_from_distress(self, owners: np.ndarray, platforms: np.ndarray) -> None:
        if len(owners) == 0:
            return
        owners, first = np.unique(owners, return_index=True)
        sources = platforms[first]
        inv = self.model.investors
        if self.cfg.shared_investors.enabled:
            add = self.cfg.shared_investors.strength
            # Fear is a level, not a count: a second delay the same month does not double it.
            bump = np.maximum(add - inv.part_of("shared_investors", owners), 0.0)
            inv.add_fear("shared_investors", owners, bump)
            inv.fear_source["shared_investors"][owners] = sources
        if self.cfg.herding.enabled:
            self._herd(owners, sources)

    def _herd(self, active: np.ndarray, sources: np.ndarray) -> None:
        """Each active investor's neighbours gain ``strength * (1 - literacy) / degree`` fear."""
        inv = self.model.investors
        starts, ends = self.indptr[active], self.indptr[active + 1]
        counts = ends - starts
        if counts.sum() == 0:
            return
        offsets = np.repeat(starts - np.cumsum(np.r_[0, counts[:-1]]), counts)
        neighbours = self.indices[np.arange(counts.sum()) + offsets]
        inv.fear_source["herding"][neighbours] = np.repeat(sources, counts)
        add = (self.cfg.herding.strength * (1.0 - inv.literacy[neighbours])
               / np.maximum(self.degree[neighbours], 1))
        if 16 * len(neighbours) < inv.count:  # few: sort them
            touched, where = np.unique(neighbours, return_inverse=True)
            gained = np.bincount(where, weights=add, minlength=len(touched))
        else:  # many (a wave of panic): one count over every investor beats the sort; each
            # investor's sum adds the same terms in the same order, so it is the same number
            total = np.bincount(neighbours, weights=add, minlength=inv.count)
            seen = np.zeros(inv.count, dtype=bool)  # a flag per investor: 1 byte, not 8
            seen[neighbours] = True
            touched = np.flatnonzero(seen)
            gained = total[touched]
        before = inv.part_of("herding", touched)
        after = np.minimum(before + gained, self.cfg.herding.strength)
        inv.add_fear("herding", touched, after - before)

    def on_failure(self, platform: int) -> None:
        """A platform failed: stop its borrowers' refinancing; call on its guarantor.

        The guarantor owes ``cover`` of each claim as it stands at the failure and pays
        ``payout_delay_days`` later, as far as its cash then goes (:meth:`_pay_guarantees`).
        """
        model = self.model
        if self.cfg.common_borrowers.enabled:
            book = model.loans
            live = book.live()
            mine = live[(book.platform[live] == platform) & ~book.fake[live]]
            model.borrowers.refinancing_stress[book.borrower[mine]] += (
                self.cfg.common_borrowers.strength)
        g = self.cfg.shared_guarantors
        gid = int(self.guarantor[platform]) if self.guarantees else -1
        if gid < 0 or not self.guarantor_solvent[gid]:
            return
        slots = model.holdings.at(platform).copy()
        owed = g.cover * model.investors.pos_principal[slots]
        self.pending_guarantees.append((model.day + g.payout_delay_days, platform, slots, owed))

    def cover_due(self, n: int) -> np.ndarray:
        """Guarantee payments owed but not yet made, yuan per platform."""
        due = np.zeros(n)
        for _, platform, _, owed in self.pending_guarantees:
            due[platform] += float(owed.sum())
        return due

    def _pay_guarantees(self) -> None:
        """Make the guarantee payments due today."""
        day = self.model.day
        due = [p for p in self.pending_guarantees if p[0] <= day]
        self.pending_guarantees = [p for p in self.pending_guarantees if p[0] > day]
        for _, platform, slots, owed in due:
            self._call_guarantee(platform, slots, owed)

    def _call_guarantee(self, platform: int, slots: np.ndarray, owed: np.ndarray) -> float:
        """The guarantor pays what it owes on claims still held, as far as its cash goes.

        Never more than what is still owed on each claim. Payment extinguishes that part of the
        claims (the guarantor does not pursue the estate, a simplification). A guarantor whose
        cash runs out fails, and every platform it guaranteed loses its cover.
        """
        g = self.cfg.shared_guarantors
        gid = int(self.guarantor[platform])
        if not self.guarantor_solvent[gid]:
            return 0.0
        model = self.model
        inv, plats = model.investors, model.platforms
        held = inv.pos_platform[slots] == platform
        slots = slots[held]
        owed = np.minimum(owed[held], inv.pos_principal[slots])
        total = float(owed.sum())
        if total <= 0:
            return 0.0
        paid_share = min(1.0, self.guarantor_cash[gid] / total)
        paid = model.ledger.settle_claims("claims_guaranteed", platform, slots, owed * paid_share)
        self.guarantor_cash[gid] -= paid
        model.log_event(EventKind.GUARANTEE_PAID, platform, guarantor=gid, paid=paid)
        exhausted = paid_share < 1.0 or self.guarantor_cash[gid] <= 1e-6
        if exhausted and g.enabled:  # the contagion: its failure strips every platform's cover
            self.guarantor_solvent[gid] = False
            model.log_event(EventKind.GUARANTOR_FAILURE, platform, guarantor=gid,
                            platforms_left_uncovered=int(
                                ((self.guarantor[: plats.n] == gid)
                                 & plats.operating_mask()).sum()))
            self.update_coverage()
        return paid

    def common_borrower_losses(self, platforms: np.ndarray, principal: np.ndarray,
                               stress: np.ndarray) -> None:
        """Record the part of default losses due to lost refinancing (hazard ``1 + stress``)."""
        if self.cfg.common_borrowers.enabled and len(platforms):
            share = stress / (1.0 + stress)
            n = self.model.platforms.n
            products = np.maximum(self.model.platforms.products[:n], 1.0)
            extra = np.bincount(platforms, weights=principal * share, minlength=n)[:n]
            self.stress[Carrier.COMMON_BORROWERS][:n] += extra / products

    # ------------------------------------------------------------------ attribution
    def attribute(self, platform: int) -> tuple[str, dict]:
        """The channel that contributed most stress to ``platform`` in the days before now.

        Investor-level channels (herding, shared investors) count the mean fear of the
        platform's holders; the others read the per-platform stress record. Returns the
        dominant channel ("shock" for a direct shock, "none" if nothing external stressed it)
        and every channel's contribution.
        """
        model = self.model
        inv = model.investors
        contributions = self.stress.at(platform)
        slots = model.holdings.at(platform)
        if len(slots):
            owners = slots // inv.slots
            for part in (Channel.HERDING, Channel.SHARED_INVESTORS):
                # Fear this platform's own distress raised is not contagion from elsewhere.
                outside = inv.fear_source[part][owners] != platform
                fear = np.where(outside, inv.part_of(part, owners), 0.0)
                contributions[part] += float(fear.mean()) * FEAR_WEIGHT
        best = max(contributions, key=contributions.get)
        if contributions[best] < ATTRIBUTION_FLOOR:
            best = Carrier.NONE
        return Carrier(best), contributions



__all__ = ["CHANNELS", "Channels", "watts_strogatz_csr"]
