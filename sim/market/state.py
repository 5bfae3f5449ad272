"""Population state as structures of arrays.

All per-agent state lives here, in numpy arrays, so that each behaviour rule is an array operation
over the population (MODEL.md, "Scale"). Mesa agents in :mod:`sim.agents` are views onto one index
of these arrays.

Units: money in yuan, rates annual, days as integer step numbers.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

NO_PLATFORM = -1
_LITTLE = sys.byteorder == "little"  # int64 demand entries are read as int32 halves
NEVER = np.iinfo(np.int32).max  # maturity day of on-demand positions
# One product position (see InvestorArrays): money first, then days and the platform index.
POSITION_RECORD = np.dtype([("principal", np.float64), ("rate", np.float64),
                            ("platform", np.int32), ("start", np.int32),
                            ("maturity", np.int32), ("request", np.int32)])


class Status(IntEnum):
    """Platform status path: ACTIVE -> DISTRESSED (public) -> FAILED, or one of the other exits."""

    ACTIVE = 0
    DISTRESSED = 1
    FAILED = 2
    ABSCONDED = 3
    EXITED = 4
    CLOSED = 5


class Owner(IntEnum):
    """Owner types [S0 §IV.A, S3]."""

    HONEST = 0
    PONZI = 1
    FRAUD = 2


OPEN_STATUSES = (Status.ACTIVE, Status.DISTRESSED)
RESOLUTION_STATUSES = (Status.FAILED, Status.ABSCONDED)


@dataclass
class PlatformArrays:
    """Platform balance sheets and behaviour state; the first ``n`` of ``capacity`` rows are used.

    Balance sheet (yuan): ``cash + loans + fake_loans`` (assets) against ``products`` (investor
    claims). Equity is the difference; ``capital`` is the registered capital paid in at entry.
    """

    capacity: int
    n: int = 0

    def __post_init__(self) -> None:
        c = self.capacity
        f8 = lambda: np.zeros(c, dtype=np.float64)  # noqa: E731
        self.cash = f8()
        self.loans = f8()  # real loans outstanding, principal
        self.fake_loans = f8()  # Ponzi self-dealing "loans": never repay
        self.products = f8()  # investor claims (principal incl. capitalised interest)
        self.capital = f8()
        self.rate = f8()  # promised investor rate, annual
        self.spread = f8()  # borrower rate minus investor rate, annual
        self.buffer_target = f8()  # target cash / products
        self.demand_share = f8()
        self.screening = f8()
        self.visibility = f8()
        self.backlog = f8()  # unpaid requested amounts, yuan
        self.signal_noise = f8()  # persistent noise in investors' signal of true risk
        self.deposits_window = np.zeros((c, 0))  # resized by the model: daily deposits
        self.payouts_window = np.zeros((c, 0))
        self.owner = np.zeros(c, dtype=np.int8)
        self.status = np.full(c, Status.ACTIVE, dtype=np.int8)
        self.winding_down = np.zeros(c, dtype=bool)
        self.delay_days = np.zeros(c, dtype=np.int32)  # consecutive days with a backlog
        self.distress_days = np.zeros(c, dtype=np.int32)
        self.entry_day = np.zeros(c, dtype=np.int32)
        self.exit_day = np.full(c, -1, dtype=np.int32)
        self.next_payout_day = np.full(c, -1, dtype=np.int32)
        self.in_resolution = np.zeros(c, dtype=bool)
        self.delay_seen = np.zeros(c, dtype=bool)  # some holder has been paid late here
        self.outage = np.zeros(c, dtype=bool)  # cannot take or pay money today (shock)
        self.custody = np.zeros(c, dtype=bool)  # investor money held at a bank (policy)
        self.gate_until = np.zeros(c, dtype=np.int32)  # early redemptions refused before this day

    def used(self) -> slice:
        return slice(0, self.n)

    def open_mask(self) -> np.ndarray:
        """Platforms that take new money: active or distressed, and not winding down."""
        s = self.status[: self.n]
        return (((s == Status.ACTIVE) | (s == Status.DISTRESSED)) & ~self.winding_down[: self.n]
                & ~self.outage[: self.n])

    def operating_mask(self) -> np.ndarray:
        """Platforms still paying investors (not failed, absconded or gone)."""
        s = self.status[: self.n]
        return (s == Status.ACTIVE) | (s == Status.DISTRESSED)

    def equity(self) -> np.ndarray:
        u = self.used()
        return self.cash[u] + self.loans[u] + self.fake_loans[u] - self.products[u]

    def true_equity(self) -> np.ndarray:
        """Equity with fake loans valued at zero: what an auditor would find."""
        u = self.used()
        return self.cash[u] + self.loans[u] - self.products[u]


@dataclass
class InvestorArrays:
    """Investors and their product positions.

    Positions are a flat array of ``count * slots`` entries; entry ``s`` belongs to investor
    ``s // slots``. An empty position has ``platform == NO_PLATFORM`` and zero principal.
    """

    count: int
    slots: int

    def __post_init__(self) -> None:
        n, s = self.count, self.count * self.slots
        self.cash = np.zeros(n)  # uninvested money (the outside option), yuan
        self.initial_wealth = np.zeros(n)
        self.target_share = np.zeros(n)  # target P2P share of wealth
        # The traits every investor rule reads together share one row of ``profile`` (one cache
        # line), because the rules read them at scattered investors; the named attributes are
        # column views of it.
        self.profile = np.zeros((n, 4))
        self.literacy = self.profile[:, 0]
        self.risk_tolerance = self.profile[:, 1]
        self.attention = self.profile[:, 2]
        # General fear (annual failure probability added everywhere) is stored as
        # ``fear_level * fear_scale`` so that the daily decay is one multiplication of the scale
        # instead of a pass over every investor. Read it with :meth:`fear_of`.
        self.fear_level = self.profile[:, 3]
        self.fear_scale = 1.0
        # The parts of fear each contagion channel added (same scale; for attribution).
        self.fear_parts = {"herding": np.zeros(n), "shared_investors": np.zeros(n)}
        # The platform whose distress last raised each part (so a platform's own delays are not
        # counted as contagion when its failure is attributed).
        self.fear_source = {"herding": np.full(n, -1, dtype=np.int32),
                            "shared_investors": np.full(n, -1, dtype=np.int32)}
        # Fear only rises through add_fear and otherwise decays, so the investors above a level
        # are those above it at the last look plus those raised since (see fearful()).
        self._fear_raised: list[np.ndarray] = []
        self._fearful: np.ndarray | None = None
        self._fearful_level = 0.0
        self._level_mean: float | None = None  # mean of fear_level, until fear is written
        self.loss = np.zeros(n)  # cumulative written-off claims, yuan
        # A position's numbers are one 32-byte record of ``positions`` (one cache line holds
        # two), because the daily rules read several of them at scattered positions; the
        # ``pos_*`` attributes are field views of it.
        self.positions = np.zeros(s, dtype=POSITION_RECORD)
        self.pos_principal = self.positions["principal"]
        self.pos_rate = self.positions["rate"]
        self.pos_platform = self.positions["platform"]
        self.pos_start = self.positions["start"]
        self.pos_maturity = self.positions["maturity"]
        self.pos_request = self.positions["request"]  # day of an unpaid request, or -1
        self.pos_platform[:] = NO_PLATFORM
        self.pos_maturity[:] = NEVER
        self.pos_request[:] = -1
        self.pos_demand = np.zeros(s, dtype=bool)  # redeemable on demand and not yet requested
        # Empty slots of each investor, kept by market.open_positions and market.clear_slots
        # (the only writers of pos_platform), so that a reviewer with no free slot is known
        # without reading its positions. Rules use it as a filter and recount from positions.
        self.free_slots = np.full(n, self.slots, dtype=np.int8)
        # Investors with a free slot are few once the market has filled; free_slots only rises
        # in clear_slots, which notes the owners here (see with_free_slots).
        self._freed: list[np.ndarray] = []
        self._with_free: np.ndarray | None = None
        self.pos_delayed = np.zeros(s, dtype=bool)  # its owner was paid late at this platform

    def note_freed(self, owners: np.ndarray) -> None:
        """Record that ``owners`` gained free slots (call wherever ``free_slots`` rises)."""
        self._freed.append(owners)

    def with_free_slots(self) -> np.ndarray:
        """Sorted investors with a free slot: ``np.flatnonzero(free_slots > 0)``.

        Those with a free slot at the previous call and those freed since are the only ones
        that can have one now, so only they are read (the first call scans everyone).
        """
        freed = sum(len(f) for f in self._freed)
        # Many freed (a wave of payouts): one scan is cheaper than sorting them.
        if self._with_free is None or 8 * (len(self._with_free) + freed) > self.count:
            self._freed.clear()
            self._with_free = np.flatnonzero(self.free_slots > 0)
            return self._with_free
        maybe = self._with_free
        if self._freed:
            maybe = sorted_unique(np.concatenate([maybe, np.sort(np.concatenate(self._freed))]))
            self._freed.clear()
        self._with_free = maybe[np.take(self.free_slots, maybe) > 0]
        return self._with_free

    def fear_of(self, idx):
        """General fear of investors ``idx`` (annual failure probability)."""
        return self.fear_level[idx] * self.fear_scale

    def traits(self, idx: np.ndarray):
        """Literacy, risk tolerance, attention and general fear of investors ``idx``.

        One gather of their ``profile`` rows; the same values as the separate reads.
        """
        rows = np.take(self.profile, idx, axis=0)
        return rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3] * self.fear_scale

    def part_of(self, part: str, idx):
        """The part of fear that channel ``part`` added, for investors ``idx``."""
        return self.fear_parts[part][idx] * self.fear_scale

    def add_fear(self, part: str, idx: np.ndarray, amount: np.ndarray) -> None:
        """Add ``amount`` of fear (true units) to investors ``idx`` (unique) under ``part``."""
        raw = amount / self.fear_scale
        self.fear_level[idx] += raw
        self.fear_parts[part][idx] += raw
        self._fear_raised.append(idx)
        self._level_mean = None

    def fearful(self, level: float) -> np.ndarray:
        """Sorted investors whose fear exceeds ``level``: ``flatnonzero(fear_of(all) > level)``.

        Fear only rises through :meth:`add_fear` and otherwise decays, so only the investors
        above ``level`` at the previous call and those raised since need a look; the first call
        (or a call at another level) scans everyone. Write fear only through :meth:`add_fear`.
        """
        threshold = level / self.fear_scale
        if self._fearful is None or level != self._fearful_level:
            self._fear_raised.clear()
            self._fearful = np.flatnonzero(self.fear_level > threshold)
            self._fearful_level = level
        elif self._fear_raised:
            maybe = sorted_unique(np.concatenate([self._fearful, *self._fear_raised]))
            self._fear_raised.clear()
            self._fearful = maybe[self.fear_level[maybe] > threshold]
        else:
            self._fearful = self._fearful[self.fear_level[self._fearful] > threshold]
        return self._fearful

    def mean_fear(self) -> float:
        """Mean general fear: ``float(fear_level.mean()) * fear_scale``.

        The mean of the stored levels is kept until fear is next written (:meth:`add_fear`,
        renormalisation): the daily decay only changes the scale, so on calm days this reads
        no investor.
        """
        if self.count == 0:
            return 0.0
        if self._level_mean is None:
            self._level_mean = float(self.fear_level.mean())
        return self._level_mean * self.fear_scale

    @property
    def fear(self) -> np.ndarray:
        """Every investor's general fear (a new array; for inspection, not for hot paths)."""
        return self.fear_level * self.fear_scale

    def decay_fear(self, fade: float) -> None:
        """Multiply all fear by ``fade``; renormalise the stored levels when the scale gets tiny."""
        self.fear_scale *= fade
        if self.fear_scale < 1e-12:
            self.fear_level *= self.fear_scale
            for part in self.fear_parts.values():
                part *= self.fear_scale
            self.fear_scale = 1.0
            self._level_mean = None
            self._fearful = None  # rescaled levels may round across the level: scan again

    def arrays(self) -> dict[str, np.ndarray]:
        """Every investor array, for streaming benchmarks and snapshots.

        Each piece of memory appears once: the ``profile`` and ``positions`` records, not the
        column views of them, and not private caches.
        """
        return {k: v for k, v in vars(self).items()
                if isinstance(v, np.ndarray) and v.base is None and not k.startswith("_")}


def small_keys(keys: np.ndarray) -> np.ndarray:
    """``keys`` shifted to start at 0 and cast to int16 when their range allows, else as given.

    A stable argsort of 16-bit integers is a radix sort, about twice as fast as the merge sort
    numpy uses for wider integers; the order is the same.
    """
    if len(keys) and int(keys.max()) - int(keys.min()) < np.iinfo(np.int16).max:
        return (keys - keys.min()).astype(np.int16)
    return keys


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (``np.unique`` without its overhead on integer arrays here)."""
    values = np.sort(values, kind="stable")
    if len(values) < 2:
        return values
    return values[np.r_[True, values[1:] != values[:-1]]]


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
        if len(slots) == 0:
            return
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
        """Demand entries ``position << 32 | key``: sorted by position, and one array to
        compact and insert into instead of two."""
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
            return np.empty(0, dtype=np.int64)
        slots = sorted_unique(np.concatenate(groups))
        return slots[maturity[slots] == day]

    def maturing_records(self, day: int, positions: np.ndarray):
        """:meth:`maturing` read from the position records: the positions and their records.

        The whole record is read once at each position, so the day's rules need not read
        these scattered positions again.
        """
        groups = self.calendar.pop(day, [])
        if not groups:
            return np.empty(0, dtype=np.int64), positions[:0].copy()
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
    have doubled since they were last cleaned, so memory stays proportional to the positions.

    Args:
        pos_platform: the platform of every position (``InvestorArrays.pos_platform``), read
            to drop stale entries.
    """

    BATCH = 1 << 16  # pending entries sorted by platform at once (small: a read sorts the rest)

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
        self._pending.append((np.asarray(slots, dtype=np.int64), np.asarray(platforms)))
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
            if self._sizes[p] > 2 * self._clean.get(p, 0) + 4096:
                self._clean_up(p)

    def _clean_up(self, platform: int) -> np.ndarray:
        chunks = self._chunks.get(platform)
        if not chunks:
            return np.empty(0, dtype=np.int64)
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


@dataclass
class BorrowerArrays:
    """Borrowers: true and reported credit quality, sector and loan demand."""

    count: int

    def __post_init__(self) -> None:
        b = self.count
        self.true_pd = np.zeros(b)  # true annual default probability
        self.reported_pd = np.zeros(b)  # what the borrower reports (may be inflated quality)
        self.sector = np.zeros(b, dtype=np.int32)
        self.loan_size = np.zeros(b)  # yuan per loan
        self.n_loans = np.zeros(b, dtype=np.int32)
        self.refinancing_stress = np.zeros(b)  # multiplier bump from lost refinancing (channels)


class LoanBook:
    """All loans in one set of arrays; rows are recycled when the book is compacted.

    A loan amortises in equal daily principal instalments (a continuous stand-in for the
    monthly instalments P2P loans used) and pays interest daily on the outstanding principal.

    Rows ``[0, n)`` are in use, in the order the loans were made; a closed loan's row stays (with
    ``active`` False) until the book is compacted, which only :meth:`add` does: when the arrays
    are full or a quarter of the rows are closed. The daily passes over the book
    (:meth:`repaying`) then read one contiguous block instead of gathering the live rows.
    """

    COMPACT_DEAD_SHARE = 0.25  # compact in place once this share of the used rows is closed

    def __init__(self, capacity: int = 1024) -> None:
        self.n = 0
        self._live: np.ndarray | None = None  # cached live rows; reset whenever they change
        self._alloc(capacity)

    def _alloc(self, capacity: int) -> None:
        self.platform = np.full(capacity, -1, dtype=np.int32)
        self.borrower = np.full(capacity, -1, dtype=np.int32)
        self.principal = np.zeros(capacity)
        self.rate = np.zeros(capacity)  # borrower rate, annual
        # The borrower's true default probability, copied when the loan is made so that the
        # daily risk pass reads it in row order instead of gathering it by borrower. It stays
        # equal to the borrower's: a borrower's PD is redrawn only after it defaults, which
        # closes all its live loans first.
        self.pd = np.zeros(capacity)
        self.instalment = np.zeros(capacity)  # principal repaid per day
        self.maturity = np.zeros(capacity, dtype=np.int32)
        self.fake = np.zeros(capacity, dtype=bool)
        self.active = np.zeros(capacity, dtype=bool)

    def _fields(self) -> tuple[str, ...]:
        return ("platform", "borrower", "principal", "rate", "pd", "instalment", "maturity",
                "fake", "active")

    def live(self) -> np.ndarray:
        """Indices of live loans (cached until a loan is added or closed; do not modify)."""
        if self._live is None:
            self._live = np.flatnonzero(self.active[: self.n])
        return self._live

    def repaying(self) -> np.ndarray:
        """Boolean mask over rows ``[0, n)``: live real loans (the ones borrowers repay).

        Closed rows hold no principal and fake loans are masked out, so a pass over the whole
        block with this mask sums exactly what a pass over the live real rows would.
        """
        return self.active[: self.n] & ~self.fake[: self.n]

    def close(self, rows: np.ndarray) -> None:
        """Mark loans as no longer live (repaid, defaulted, sold or written off)."""
        self.active[rows] = False
        self._live = None

    def add(self, platform, borrower, principal, rate, term, day, fake, pd=0.0) -> np.ndarray:
        """Append loans (arrays of equal length); returns their row indices.

        ``pd`` is each borrower's true default probability (zero for fake loans).

        May compact the book first, which renumbers the rows of older loans.
        """
        k = len(principal)
        if self.n + k > len(self.principal):
            self._compact(extra=k)
        elif self.n - len(self.live()) > self.COMPACT_DEAD_SHARE * self.n:
            self._compact(extra=0)
        rows = np.arange(self.n, self.n + k)
        self.platform[rows] = platform
        self.borrower[rows] = borrower
        self.principal[rows] = principal
        self.rate[rows] = rate
        self.pd[rows] = pd
        self.instalment[rows] = principal / term
        self.maturity[rows] = day + term
        self.fake[rows] = fake
        self.active[rows] = True
        self.n += k
        self._live = None
        return rows

    def _compact(self, extra: int) -> None:
        """Move the live rows, in order, to the front; grow the arrays if ``extra`` do not fit."""
        keep = self.live()
        needed = len(keep) + extra
        capacity = len(self.principal)
        if 2 * needed > capacity:  # keep at least half the rows free, as growth doubles
            while capacity < 2 * needed:
                capacity *= 2
            old = {f: getattr(self, f)[keep].copy() for f in self._fields()}
            self._alloc(capacity)
            for f, values in old.items():
                getattr(self, f)[: len(keep)] = values
        else:
            for f in self._fields():
                column = getattr(self, f)
                column[: len(keep)] = column[keep]
            self.active[len(keep): self.n] = False
        self.n = len(keep)
        self._live = None


def sum_by(index: np.ndarray, values, n: int) -> np.ndarray:
    """Sum ``values`` by ``index`` into a float array of length ``n`` (a typed ``bincount``)."""
    out = np.bincount(index, weights=values, minlength=n)
    return out.astype(np.float64, copy=False)[:n]
