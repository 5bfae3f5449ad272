"""Indexes over the position records, so the daily rules need not scan every position.

:class:`PositionIndex` finds today's demand positions and maturing positions;
:class:`Holdings` finds the positions held at one platform. Both give exactly what a full scan
would, in the same order.
"""

from __future__ import annotations

import sys

import numpy as np

from sim.market.arraytools import small_keys, sorted_unique

_LITTLE = sys.byteorder == "little"  # int64 demand entries are read as int32 halves
# Positions are numbered in int32 throughout the indexes: the schema bounds them (investors.count
# <= 10^8 times max_holdings <= 16 is 1.6 * 10^9 < 2^31), and 4-byte entries halve the indexes,
# which hold a superset of the open positions (at 10^6 investors, about 130 B per investor in
# int64 by the end of a stressed year).
SLOT = np.int32


class PositionIndex:
    """Where to look each day, so the daily scans need not read every position.

    * ``demand``: a sorted superset of the positions flagged ``pos_demand`` (entries whose flag
      was cleared are dropped lazily when the index is read);
    * ``calendar``: term positions by maturity day (entries whose maturity changed are dropped
      when their day is read).

    Both give exactly what a full scan of the flags would, in the same (sorted) order.

    Each demand entry carries a *key*, ``platform * groups + group``, where ``group`` is a small
    integer of the position's owner (``owner_group[slot // slots_per_owner]``, read when the
    entry is added). The model groups investors by risk tolerance, so that the daily redemption
    test can look up a per-platform, per-group bound by key without reading the investor arrays
    at every candidate. Groups must not change while entries are held. An entry is one int64,
    ``position << 32 | key``, so that the daily compaction and insertion move one array.

    Args:
        owner_group: group (``0 <= group < groups``) of each owner, or ``None`` for one group.
        slots_per_owner: consecutive slots that belong to one owner.
        groups: number of groups.
    """

    def __init__(self, owner_group: np.ndarray | None = None, slots_per_owner: int = 1,
                 groups: int = 1) -> None:
        # int64 entries ``position << 32 | key``, key = platform * groups + group (fixed)
        self.demand: np.ndarray | None = None
        self.demand_added: list[np.ndarray] = []
        self.calendar: dict[int, list[np.ndarray]] = {}
        self.owner_group = owner_group
        self.slots_per_owner = slots_per_owner
        self.groups = groups if owner_group is not None else 1

    def _keys(self, slots: np.ndarray, platform: np.ndarray) -> np.ndarray:
        key = platform[slots].astype(np.int32) * np.int32(self.groups)
        if self.owner_group is not None:
            key += self.owner_group[slots // self.slots_per_owner]
        return key

    def add(self, slots: np.ndarray, maturity: np.ndarray, demand: np.ndarray) -> None:
        """Index positions ``slots`` just opened or rolled over (``demand`` or maturing)."""
        if len(slots) == 0:
            return
        slots = slots.astype(SLOT, copy=False)
        self.demand_added.append(slots[demand])
        term = slots[~demand]
        days = maturity[~demand]
        if len(term):
            order = np.argsort(small_keys(days), kind="stable")
            term, days = term[order], days[order]
            cuts = np.flatnonzero(np.diff(days)) + 1
            for day, group in zip(days[np.r_[0, cuts]], np.split(term, cuts), strict=True):
                self.calendar.setdefault(int(day), []).append(group)

    def demand_entries(self, flags: np.ndarray, platform: np.ndarray):
        """Sorted positions whose demand flag is set (int32), and their keys.

        The positions equal ``np.flatnonzero(flags)``; ``key // groups`` equals ``platform`` at
        them and ``key % groups`` their owners' groups. Both are read-only views of the index.
        """
        if len(flags) > np.iinfo(np.int32).max:
            raise ValueError("PositionIndex stores positions as int32")
        if self.demand is None:
            self.demand = self._entries(np.flatnonzero(flags), platform)
            self.demand_added.clear()
        current = self.demand
        still = np.take(flags, self._positions(current))
        if not still.all():  # some cleared since the last read
            current = current[still]
        if self.demand_added:
            new = sorted_unique(np.concatenate(self.demand_added))
            self.demand_added.clear()
            new = new[flags[new]]
            # Key 0 sorts first among a position's entries: ``at`` finds an existing entry.
            at = np.searchsorted(current, new.astype(np.int64) << 32)
            if len(current):
                fresh = ~((at < len(current))
                          & (self._positions(current)[np.minimum(at, len(current) - 1)] == new))
            else:
                fresh = np.ones(len(new), dtype=bool)
            entries = self._entries(new, platform)
            # A position cleared and reopened since the last read may sit at another platform.
            if not fresh.all():
                if current is self.demand:
                    current = current.copy()
                current[at[~fresh]] = entries[~fresh]
            current = np.insert(current, at[fresh], entries[fresh])
        self.demand = current
        return self._positions(current), self._key_of(current)

    def _entries(self, slots: np.ndarray, platform: np.ndarray) -> np.ndarray:
        """Demand entries ``position << 32 | key``.

        Sorted by position, and one array to compact and insert into instead of two.
        """
        return (slots.astype(np.int64) << 32) | self._keys(slots, platform).astype(np.int64)

    @staticmethod
    def _positions(entries: np.ndarray) -> np.ndarray:
        return entries.view(np.int32)[1::2] if _LITTLE else (entries >> 32).astype(np.int32)

    @staticmethod
    def _key_of(entries: np.ndarray) -> np.ndarray:
        return entries.view(np.int32)[0::2] if _LITTLE else (entries & 0xFFFFFFFF).astype(np.int32)

    def demand_positions(self, flags: np.ndarray, platform: np.ndarray):
        """Sorted positions whose demand flag is set, and their platforms.

        The positions equal ``np.flatnonzero(flags)``; the platforms equal ``platform`` at them.
        """
        current, key = self.demand_entries(flags, platform)
        return current, key // self.groups

    def maturing(self, day: int, maturity: np.ndarray) -> np.ndarray:
        """Sorted positions maturing on ``day`` (equal to ``np.flatnonzero(maturity == day)``)."""
        groups = self.calendar.pop(day, [])
        if not groups:
            return np.empty(0, dtype=SLOT)
        slots = sorted_unique(np.concatenate(groups))
        return slots[maturity[slots] == day]

    def maturing_records(self, day: int, positions: np.ndarray):
        """:meth:`maturing` read from the position records: the positions and their records.

        The whole record is read once at each position, so the day's rules need not read
        these scattered positions again.
        """
        groups = self.calendar.pop(day, [])
        if not groups:
            return np.empty(0, dtype=SLOT), positions[:0].copy()
        slots = sorted_unique(np.concatenate(groups))
        held = np.take(positions, slots)
        due = held["maturity"] == day
        return slots[due], held[due]


class Holdings:
    """The positions held at each platform, without a scan of every position.

    A failure, a guarantee call and an estate payout each need the positions at one platform;
    ``np.flatnonzero(pos_platform == platform)`` reads every position for that. Instead, every
    position opened is remembered under its platform (:meth:`add`, called wherever
    ``pos_platform`` is set to a platform); the entries of a platform are a superset of its
    positions, since a position only leaves a platform by being cleared. :meth:`at` drops the
    stale entries by reading ``pos_platform`` at them only.

    New entries wait in one list and are sorted by platform in batches, so opening positions
    costs an append a day; a batch also drops the stale entries of any platform whose entries
    have grown by a quarter since they were last cleaned, so memory stays proportional to the
    positions.

    Args:
        pos_platform: the platform of every position (``InvestorArrays.pos_platform``), read
            to drop stale entries.
    """

    BATCH = 1 << 16  # pending entries sorted by platform at once (small: a read sorts the rest)
    # A platform's entries are cleaned once they outnumber its positions at the last cleaning
    # by this factor: at 2 the entries held came to about 3 per open position by the end of a
    # stressed year (50 B per investor at 10^6); at 1.25 the cleanings cost about 1 ms a day.
    GROWTH = 1.25

    def __init__(self, pos_platform: np.ndarray) -> None:
        self.pos_platform = pos_platform
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []
        self._pending_size = 0
        self._chunks: dict[int, list[np.ndarray]] = {}
        self._sizes: dict[int, int] = {}  # entries held per platform
        self._clean: dict[int, int] = {}  # entries at the last cleaning of each platform
        self._sorted: set[int] = set()  # platforms held as one sorted, exact array

    def add(self, slots: np.ndarray, platforms: np.ndarray) -> None:
        """Remember that ``slots`` now hold positions at ``platforms`` (equal lengths)."""
        if len(slots) == 0:
            return
        self._pending.append((np.asarray(slots, dtype=SLOT), np.asarray(platforms)))
        self._pending_size += len(slots)
        if self._pending_size >= self.BATCH:
            self._distribute()

    def _distribute(self) -> None:
        if not self._pending:
            return
        slots = np.concatenate([s for s, _ in self._pending])
        platforms = np.concatenate([p for _, p in self._pending])
        self._pending.clear()
        self._pending_size = 0
        order = np.argsort(small_keys(platforms), kind="stable")
        slots, platforms = slots[order], platforms[order]
        cuts = np.flatnonzero(np.diff(platforms)) + 1
        for p, group in zip(platforms[np.r_[0, cuts]].tolist(), np.split(slots, cuts),
                            strict=True):
            self._chunks.setdefault(p, []).append(group)
            self._sorted.discard(p)
            self._sizes[p] = self._sizes.get(p, 0) + len(group)
            if self._sizes[p] > self.GROWTH * self._clean.get(p, 0) + 4096:
                self._clean_up(p)

    def _clean_up(self, platform: int) -> np.ndarray:
        chunks = self._chunks.get(platform)
        if not chunks:
            return np.empty(0, dtype=SLOT)
        # Batches arrive in any order and may repeat a position cleared and reopened.
        slots = (chunks[0] if platform in self._sorted
                 else sorted_unique(np.concatenate(chunks)))
        slots = slots[self.pos_platform[slots] == platform]
        self._chunks[platform] = [slots]
        self._sorted.add(platform)
        self._sizes[platform] = self._clean[platform] = len(slots)
        return slots

    def at(self, platform: int) -> np.ndarray:
        """Sorted positions held at ``platform``: ``np.flatnonzero(pos_platform == platform)``.

        The result is the index's own array: do not modify it.
        """
        self._distribute()
        return self._clean_up(int(platform))
