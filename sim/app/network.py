"""The market as a network: platforms, the links contagion travels along, and the cascade.

* **Nodes** are platforms: status and claims (yuan) now, and a fixed place. Platforms of day 0
  sit on a ring in order of their promised rate then, so platforms that promise similar rates
  (the ones failure news reaches, see the information channel) are neighbours; entrants sit on an
  inner ring in order of arrival.
* **Shared investors** link two platforms held by the same investors: the number of investors
  with money at both. A delay or loss at one raises those investors' fear at the other (the
  shared-investor channel).
* **News similarity** links platforms whose promised rates are close:
  ``exp(-|rate_i - rate_j| / rate_scale)``, the weight with which the news of one's failure
  reaches the other (the information channel).
* **Cascade arrows** join each failure carried by a contagion channel to the failure before it
  (``parent`` in the cascade table), coloured by that channel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model import P2PModel
from sim.vocabulary import Status

INNER_RING = 0.55  # radius of the entrants' ring (the day-0 ring has radius 1)
SIMILAR = 0.8  # news similarity at which a link is drawn


@dataclass(frozen=True)
class MarketGraph:
    """A snapshot of the network (arrays indexed by platform row, ``n`` of them).

    Attributes:
        names: platform names.
        status: :class:`~sim.vocabulary.Status` codes.
        claims: investor claims on each platform, yuan.
        xy: positions, ``(n, 2)``.
        shared: investors holding both platforms, ``(n, n)``, zero on the diagonal.
        similarity: news similarity, ``(n, n)``, zero on the diagonal.
        arrows: (parent, child, channel) of every failure carried by contagion, in order.
        failed_day: the day each platform failed (-1 if it has not).
    """

    names: list[str]
    status: np.ndarray
    claims: np.ndarray
    xy: np.ndarray
    shared: np.ndarray
    similarity: np.ndarray
    arrows: list[tuple[int, int, str]]
    failed_day: np.ndarray

    @property
    def n(self) -> int:
        """Platforms in the snapshot."""
        return len(self.names)

    def strongest_shared(self, per_platform: int = 3) -> list[tuple[int, int, int]]:
        """(i, j, investors) of each platform's largest shared-investor links, each pair once.

        Every pair of platforms shares some investors in a market where each holds several;
        drawing only each platform's strongest links keeps the picture readable.
        """
        pairs: dict[tuple[int, int], int] = {}
        for i in range(self.n):
            row = self.shared[i]
            for j in np.argsort(-row, kind="stable")[:per_platform]:
                if row[j] > 0:
                    pairs[(min(i, int(j)), max(i, int(j)))] = int(row[j])
        return [(i, j, k) for (i, j), k in sorted(pairs.items())]

    def similar_pairs(self, per_platform: int = 2,
                      threshold: float = SIMILAR) -> list[tuple[int, int, float]]:
        """(i, j, similarity) of each operating platform's most similar operating neighbours.

        Only pairs at least ``threshold`` similar count; each pair appears once.
        """
        operating = (self.status == Status.ACTIVE) | (self.status == Status.DISTRESSED)
        similar = np.where(operating[:, None] & operating[None, :], self.similarity, 0.0)
        pairs: dict[tuple[int, int], float] = {}
        for i in np.flatnonzero(operating):
            for j in np.argsort(-similar[i], kind="stable")[:per_platform]:
                if similar[i, j] >= threshold:
                    pairs[(min(i, int(j)), max(i, int(j)))] = float(similar[i, j])
        return [(int(i), int(j), s) for (i, j), s in sorted(pairs.items())]


def shared_investors(market: P2PModel) -> np.ndarray:
    """Investors with money at both platforms, for every pair: ``(n, n)`` counts, zero diagonal.

    An investor with two positions at one platform counts once for it.
    """
    n = market.platforms.n
    inv = market.investors
    held = np.where(inv.pos_principal > 0, inv.pos_platform, -1).reshape(inv.count, inv.slots)
    held = np.sort(held, axis=1)
    held[:, 1:][held[:, 1:] == held[:, :-1]] = -1  # a platform twice in a row: count it once
    counts = np.zeros(n * n, dtype=np.int64)
    for a in range(inv.slots):
        for b in range(a + 1, inv.slots):
            both = (held[:, a] >= 0) & (held[:, b] >= 0)
            pair = held[both, a] * n + held[both, b]
            counts += np.bincount(pair, minlength=n * n)
    matrix = counts.reshape(n, n)
    return matrix + matrix.T


def news_similarity(market: P2PModel) -> np.ndarray:
    """The information channel's similarity of promised rates now, ``(n, n)``, zero diagonal."""
    n = market.platforms.n
    rate = market.platforms.rate[:n]
    scale = market.config.channels.information.rate_scale
    similarity = np.exp(-np.abs(rate[:, None] - rate[None, :]) / scale)
    np.fill_diagonal(similarity, 0.0)
    return similarity


def ring_positions(day0_rates: np.ndarray, n: int) -> np.ndarray:
    """Places of ``n`` platforms: day-0 platforms by rate on the outer ring, entrants inside.

    Args:
        day0_rates: promised rates of the platforms that existed on day 0.
        n: platforms now (day-0 platforms first, then entrants in order of arrival).

    Returns:
        ``(n, 2)`` positions.
    """
    first = len(day0_rates)
    xy = np.zeros((n, 2))
    rank = np.empty(first, dtype=np.int64)
    rank[np.argsort(day0_rates, kind="stable")] = np.arange(first)
    angle = np.pi / 2 - 2 * np.pi * rank / max(first, 1)  # lowest rate at the top, clockwise
    xy[:first] = np.column_stack([np.cos(angle), np.sin(angle)])
    entrants = n - first
    if entrants > 0:
        angle = np.pi / 2 - 2 * np.pi * np.arange(entrants) / max(entrants, 6)
        xy[first:] = INNER_RING * np.column_stack([np.cos(angle), np.sin(angle)])
    return xy


def market_graph(market: P2PModel, day0_rates: np.ndarray) -> MarketGraph:
    """The network of ``market`` now.

    Args:
        market: a run.
        day0_rates: its platforms' promised rates on day 0 (fixes the ring's order).

    Returns:
        The snapshot.
    """
    plats = market.platforms
    n = plats.n
    failed_day = np.full(n, -1, dtype=np.int64)
    arrows = []
    for f in market.failures:
        failed_day[f["platform"]] = f["day"]
        if f.get("parent") is not None:
            arrows.append((int(f["parent"]), int(f["platform"]), str(f["channel"])))
    return MarketGraph(
        names=[a.name for a in market.platform_agents[:n]],
        status=plats.status[:n].copy(),
        claims=plats.products[:n].copy(),
        xy=ring_positions(day0_rates, n),
        shared=shared_investors(market),
        similarity=news_similarity(market),
        arrows=arrows,
        failed_day=failed_day,
    )
