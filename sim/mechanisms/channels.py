"""The six contagion channels of MODEL.md, each switchable in ``[channels]``.

Channels carry stress from one platform to others through the model's hooks:

* information: failure news to similar platforms (``news_parts["information"]``);
* herding: neighbours' distress raises an investor's fear (``investors.fear_parts["herding"]``);
* shared investors: a delay or loss raises its investor's fear everywhere
  (``investors.fear_parts["shared_investors"]``);
* common borrowers: a lender's failure raises its borrowers' hazard at other lenders
  (``borrowers.refinancing_stress``);
* fire sales: price impact on the debt-transfer market, and the discount read as a risk signal;
* shared guarantors: a guarantor paying for one failure can fail, and its other platforms lose
  their cover (``model.coverage``).

Each channel also adds to a per-platform stress record (``Channels.stress``) used to attribute
every failure to the channel that contributed most in the days before it (a simple attribution).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx
import numpy as np

from sim.market.state import NO_PLATFORM

if TYPE_CHECKING:
    from sim.model import P2PModel

CHANNELS = ("information", "herding", "shared_investors", "common_borrowers", "fire_sales",
            "shared_guarantors")
STRESS_MEMORY_DAYS = 14.0  # how far back "the days before a failure" reach in the attribution
# Below this much stress (about 2% of perceived expected loss) a failure is not put down to any
# channel: background noise such as ordinary debt-transfer sales is not contagion.
ATTRIBUTION_FLOOR = 0.02
NETWORKX_LIMIT = 200_000  # above this, the same Watts-Strogatz algorithm runs in numpy


def watts_strogatz_csr(n: int, k: int, p: float, rng: np.random.Generator):
    """Small-world network (Watts and Strogatz 1998) as CSR arrays ``(indptr, indices)``.

    Up to ``NETWORKX_LIMIT`` nodes it is built by networkx (``watts_strogatz_graph``); larger
    networks use the same algorithm in numpy: a ring lattice of degree ``k`` whose edges are each
    rewired to a uniform random node with probability ``p``.
    """
    k = max(2, k - k % 2)
    if n <= k:
        return np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if n <= NETWORKX_LIMIT:
        graph = nx.watts_strogatz_graph(n, k, p, seed=int(rng.integers(2**31)))
        edges = np.array(graph.edges(), dtype=np.int64).reshape(-1, 2)
    else:
        source = np.repeat(np.arange(n), k // 2)
        target = (source + np.tile(np.arange(1, k // 2 + 1), n)) % n
        rewire = rng.random(len(target)) < p
        target[rewire] = rng.integers(0, n, int(rewire.sum()))
        keep = source != target
        edges = np.stack([source[keep], target[keep]], axis=1)
    both = np.concatenate([edges, edges[:, ::-1]])
    order = np.lexsort((both[:, 1], both[:, 0]))
    both = both[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, both[:, 0] + 1, 1)
    return np.cumsum(indptr), both[:, 1].copy()


class Channels:
    """State and daily updates of the contagion channels of one model."""

    def __init__(self, model: P2PModel) -> None:
        self.model = model
        cfg = model.config.channels
        self.cfg = cfg
        capacity = model.platforms.capacity
        self.stress = {c: np.zeros(capacity) for c in (*CHANNELS, "shock")}
        self.decay = np.exp(-1.0 / STRESS_MEMORY_DAYS)
        model.fire_sale_impact_on = cfg.fire_sales.enabled
        if cfg.herding.enabled:
            self.indptr, self.indices = watts_strogatz_csr(
                model.investors.count, cfg.herding.neighbours, cfg.herding.rewiring, model.rng)
            self.degree = np.diff(self.indptr)
        self.guarantor = np.full(capacity, -1, dtype=np.int64)
        g = cfg.shared_guarantors
        self.guarantees = g.enabled or g.present
        if self.guarantees:
            self.guarantor_cash = np.full(g.guarantors, g.capital)
            self.guarantor_solvent = np.ones(g.guarantors, dtype=bool)
            model.ledger.guarantor_capital_in += g.capital * g.guarantors
            model.ledger.guarantor_cash += g.capital * g.guarantors

    # ------------------------------------------------------------------ platforms entering
    def on_platforms_created(self, idx: np.ndarray) -> None:
        """New platforms get a guarantor with probability ``share_guaranteed``."""
        g = self.cfg.shared_guarantors
        if not self.guarantees or len(idx) == 0:
            return
        rng = self.model.rng
        has = rng.random(len(idx)) < g.share_guaranteed
        who = rng.integers(0, g.guarantors, len(idx))
        self.guarantor[idx] = np.where(has, who, -1)
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
        self.model.guarantee_cover[:n] = np.where(covered, g.cover, 0.0)
        self.stress["shared_guarantors"][:n] += np.where(lost, g.cover * 0.1, 0.0)

    # ------------------------------------------------------------------ daily
    def start_of_day(self) -> None:
        """Decay memories, then set today's information news and fire-sale signal."""
        model = self.model
        n = model.platforms.n
        for s in self.stress.values():
            s *= self.decay
        borrowers = model.borrowers
        if self.cfg.common_borrowers.enabled and borrowers.count:
            borrowers.refinancing_stress *= np.exp(-1.0 / self.cfg.common_borrowers.decay_days)
        model.news_parts["information"][:] = 0.0
        if self.cfg.information.enabled and model.failures:
            info = self.cfg.information
            rate = model.platforms.rate[:n]
            news = np.zeros(n)
            for f in model.failures:
                age = model.day - f["day"]
                if age > 5 * info.memory_days:
                    continue
                similarity = np.exp(-np.abs(rate - f["rate"]) / info.rate_scale)
                similarity[f["platform"]] = 0.0
                news += info.strength * np.exp(-age / info.memory_days) * similarity
            model.news_parts["information"][:n] = news
        self.stress["information"][:n] += model.news_parts["information"][:n] * 0.1
        self.stress["shock"][:n] += model.news_shock[:n] * 0.1 + model.outage[:n] * 0.2
        model.signal_extra[:n] = 0.0
        if self.cfg.fire_sales.enabled:
            plats = model.platforms
            excess = max(0.0, model.discount_today - model.config.market.transfer_discount)
            ratio = plats.loans[:n] / np.maximum(plats.products[:n], 1.0)
            model.signal_extra[:n] = self.cfg.fire_sales.signal_weight * excess * ratio
            self.stress["fire_sales"][:n] += model.signal_extra[:n] * 0.5

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
        touched, where = np.unique(neighbours, return_inverse=True)
        gained = np.bincount(where, weights=add, minlength=len(touched))
        before = inv.part_of("herding", touched)
        after = np.minimum(before + gained, self.cfg.herding.strength)
        inv.add_fear("herding", touched, after - before)

    def on_failure(self, platform: int) -> float:
        """A platform failed: stop its borrowers' refinancing; call on its guarantor.

        Returns the amount the guarantor paid to the platform's investors, yuan.
        """
        model = self.model
        if self.cfg.common_borrowers.enabled:
            book = model.loans
            live = book.live()
            mine = live[(book.platform[live] == platform) & ~book.fake[live]]
            model.borrowers.refinancing_stress[book.borrower[mine]] += (
                self.cfg.common_borrowers.strength)
        return self._call_guarantee(platform)

    def _call_guarantee(self, platform: int) -> float:
        """The guarantor pays ``cover`` of the claims, as far as its cash goes, then may fail.

        Payment extinguishes that part of the claims (the guarantor does not pursue the estate,
        a simplification). A guarantor whose cash runs out fails, and every platform it
        guaranteed loses its cover.
        """
        g = self.cfg.shared_guarantors
        gid = int(self.guarantor[platform]) if self.guarantees else -1
        if gid < 0 or not self.guarantor_solvent[gid]:
            return 0.0
        model = self.model
        inv, plats = model.investors, model.platforms
        slots = model.holdings.at(platform)
        owed = g.cover * inv.pos_principal[slots]
        total = float(owed.sum())
        paid_share = min(1.0, self.guarantor_cash[gid] / total) if total > 0 else 0.0
        pay = owed * paid_share
        paid = float(pay.sum())
        inv.pos_principal[slots] -= pay
        np.add.at(inv.cash, slots // inv.slots, pay)
        plats.products[platform] -= paid
        self.guarantor_cash[gid] -= paid
        model.ledger.guarantor_cash -= paid
        model.ledger.book_total("claims_guaranteed", platform, paid)
        model.log_event("guarantee_paid", platform, guarantor=gid, paid=paid)
        exhausted = paid_share < 1.0 or self.guarantor_cash[gid] <= 1e-6
        if exhausted and g.enabled:  # the contagion: its failure strips every platform's cover
            self.guarantor_solvent[gid] = False
            model.log_event("guarantor_failure", platform, guarantor=gid,
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
            self.stress["common_borrowers"][:n] += extra / products

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
        contributions = {c: float(s[platform]) for c, s in self.stress.items()}
        slots = model.holdings.at(platform)
        if len(slots):
            owners = slots // inv.slots
            for part in ("herding", "shared_investors"):
                # Fear this platform's own distress raised is not contagion from elsewhere.
                outside = inv.fear_source[part][owners] != platform
                fear = np.where(outside, inv.part_of(part, owners), 0.0)
                contributions[part] += float(fear.mean()) * 0.7
        best = max(contributions, key=contributions.get)
        if contributions[best] < ATTRIBUTION_FLOOR:
            best = "none"
        return best, contributions


def holders_of(model: P2PModel, platform: int) -> np.ndarray:
    """Investors holding a position at ``platform``."""
    return np.unique(model.holdings.at(platform) // model.investors.slots)


__all__ = ["CHANNELS", "NO_PLATFORM", "Channels", "holders_of", "watts_strogatz_csr"]
