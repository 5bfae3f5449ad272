"""Population state as structures of arrays.

All per-agent state lives here, in numpy arrays, so that each behaviour rule is an array operation
over the population (MODEL.md, "Scale"). Mesa agents in :mod:`sim.market.agents` are views onto
one index of these arrays.

Units: money in yuan, rates annual, days as integer step numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.market.arraytools import sorted_unique
from sim.vocabulary import Status

NO_PLATFORM = -1
NEVER = np.iinfo(np.int32).max  # maturity day of on-demand positions (wide records)
# One product position (see InvestorArrays): money first, then days and the platform index.
POSITION_RECORD = np.dtype([("principal", np.float64), ("rate", np.float64),
                            ("platform", np.int32), ("start", np.int32),
                            ("maturity", np.int32), ("request", np.int32)])
# The same in 24 bytes instead of 32, with 16-bit days and platform: a quarter less memory for
# the largest array of the model (4 positions per investor). Used when every platform number and
# every maturity day a run can reach fits (see narrow_positions_fit); its on-demand maturity is
# NARROW_NEVER.
NARROW_POSITION_RECORD = np.dtype([("principal", np.float64), ("rate", np.float64),
                                   ("platform", np.int16), ("start", np.int16),
                                   ("maturity", np.int16), ("request", np.int16)])
NARROW_NEVER = int(np.iinfo(np.int16).max)


def narrow_positions_fit(platforms: int, last_maturity: int) -> bool:
    """Whether the 24-byte position record can hold a run's platforms and days.

    Args:
        platforms: platform slots (``platforms.max_platforms``), count.
        last_maturity: the latest maturity a position may get (last day plus the longest
            product term), day number.

    Returns:
        True when platform numbers and every day up to ``last_maturity`` fit in int16 below the
        on-demand sentinel :data:`NARROW_NEVER`.
    """
    return platforms <= NARROW_NEVER and last_maturity < NARROW_NEVER - 1


@dataclass
class PlatformArrays:
    """Platform balance sheets and behaviour state; the first ``n`` of ``capacity`` rows are used.

    Balance sheet (yuan): ``cash + loans + fake_loans`` (assets) against ``products`` (investor
    claims). Equity is the difference; ``capital`` is the registered capital paid in at entry.
    """

    capacity: int
    window_days: int = 30
    n: int = 0

    def __post_init__(self) -> None:
        c = self.capacity
        f8 = lambda: np.zeros(c, dtype=np.float64)  # noqa: E731
        self.cash = f8()
        self.loans = f8()  # real loans outstanding, principal
        self.fake_loans = f8()  # Ponzi self-dealing "loans": never repay
        self.products = f8()  # investor claims (principal incl. capitalised interest)
        self.capital = f8()  # paid-in capital, yuan (model scale)
        self.registered_capital = f8()  # the same in real yuan (see create_platforms)
        self.rate = f8()  # promised investor rate, annual
        self.spread = f8()  # borrower rate minus investor rate, annual
        self.buffer_target = f8()  # target cash / products
        self.demand_share = f8()
        self.screening = f8()
        self.visibility = f8()
        self.backlog = f8()  # unpaid requested amounts, yuan
        self.signal_noise = f8()  # persistent noise in investors' signal of true risk
        # Daily deposits and payouts over the funding window (a ring: column window_col is
        # today), which pricing, absconding and supervision read.
        self.deposits_window = np.zeros((c, self.window_days))
        self.payouts_window = np.zeros((c, self.window_days))
        self.window_col = 0
        self.owner = np.zeros(c, dtype=np.int8)
        self.business_model = np.zeros(c, dtype=np.int8)  # consumer, SME, car, ... (news peers)
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
        self.exit_cause: dict[int, str] = {}  # why a winding-down platform will leave
        self.yuan_scale = 1.0  # real yuan per simulated yuan of a balance sheet (set at day 0)
        self.claims_history: list[float] = []  # investor claims at the end of each day, yuan

    def new_day(self, day: int) -> None:
        """Move the funding window on to ``day`` and clear its column."""
        self.window_col = day % self.window_days
        self.deposits_window[:, self.window_col] = 0.0
        self.payouts_window[:, self.window_col] = 0.0

    def used(self) -> slice:
        """The rows in use."""
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
        """Book equity of each platform: cash + loans + fake loans - claims, yuan."""
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
    ``s // slots``. An empty position has ``platform == NO_PLATFORM`` and zero principal. An
    on-demand position (and an empty one) matures on day :attr:`never`.

    Attributes:
        count: investors.
        slots: positions per investor.
        narrow: positions in the 24-byte :data:`NARROW_POSITION_RECORD` (16-bit days and
            platform; the caller checks :func:`narrow_positions_fit`) instead of the 32-byte
            :data:`POSITION_RECORD`; :meth:`widen` switches to the latter.
    """

    count: int
    slots: int
    narrow: bool = False

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
        source = np.int16 if self.narrow else np.int32  # a platform number, as in positions
        self.fear_source = {"herding": np.full(n, -1, dtype=source),
                            "shared_investors": np.full(n, -1, dtype=source)}
        # Fear only rises through add_fear and otherwise decays, so the investors above a level
        # are those above it at the last look plus those raised since (see fearful()).
        self._fear_raised: list[np.ndarray] = []
        self._fearful: np.ndarray | None = None
        self._fearful_level = 0.0
        self._level_mean: float | None = None  # mean of fear_level, until fear is written
        # The largest stored level: stored levels only rise (add_fear) or are rescaled, so a
        # running maximum is exact; None means "scan at the next look".
        self._level_max: float | None = None
        self._mostly_level = -1.0  # level and calls left of the last mostly_fearful answer
        self._mostly_left = 0
        # Mean literacy and attention, read by platforms' pricing every day; the traits change
        # only where note_traits_changed is called (creation, education), so the two strided
        # passes over every investor are made once, not daily.
        self._trait_means: tuple[float, float] | None = None
        self.loss = np.zeros(n)  # cumulative written-off claims, yuan
        # Who uses P2P: non-users hold their money outside until they adopt (Bass diffusion);
        # an investor who left after a loss never returns.
        self.participating = np.ones(n, dtype=bool)
        self.left = np.zeros(n, dtype=bool)
        # New savings per day are ``initial_wealth * savings_per_wealth`` (constant; 0 without
        # savings); computed when paid rather than stored, which saves 8 bytes per investor.
        self.savings_per_wealth = 0.0  # share of initial wealth saved per day, 1/day
        self.daily_savings_total = 0.0  # yuan per day
        # A position's numbers are one 32-byte record of ``positions`` (one cache line holds
        # two), because the daily rules read several of them at scattered positions; the
        # ``pos_*`` attributes are field views of it.
        self.positions = np.zeros(s, dtype=NARROW_POSITION_RECORD if self.narrow
                                  else POSITION_RECORD)
        self.never = NARROW_NEVER if self.narrow else NEVER
        self._field_views()
        self.pos_platform[:] = NO_PLATFORM
        self.pos_maturity[:] = self.never
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

    def _field_views(self) -> None:
        self.pos_principal = self.positions["principal"]
        self.pos_rate = self.positions["rate"]
        self.pos_platform = self.positions["platform"]
        self.pos_start = self.positions["start"]
        self.pos_maturity = self.positions["maturity"]
        self.pos_request = self.positions["request"]  # day of an unpaid request, or -1

    def widen(self) -> None:
        """Move narrow positions into the 32-byte record (a run going past its 16-bit days).

        Values are kept; the on-demand maturity becomes :data:`NEVER`. Field views taken
        before (``pos_*`` attributes held elsewhere) must be taken again.
        """
        if not self.narrow:
            return
        wide = np.empty(len(self.positions), dtype=POSITION_RECORD)
        for name in POSITION_RECORD.names:
            wide[name] = self.positions[name]
        wide["maturity"][self.positions["maturity"] == self.never] = NEVER
        self.positions, self.narrow, self.never = wide, False, NEVER
        self._field_views()
        for part, source in self.fear_source.items():
            self.fear_source[part] = source.astype(np.int32)

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

    def note_traits_changed(self) -> None:
        """Forget the cached trait means (call wherever literacy or attention is written)."""
        self._trait_means = None

    def trait_means(self) -> tuple[float, float]:
        """Mean literacy and mean attention: ``float(literacy.mean())``, ``float(attention.mean())``."""
        if self._trait_means is None:
            self._trait_means = (float(self.literacy.mean()), float(self.attention.mean()))
        return self._trait_means

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
        if self._level_max is not None and len(idx):
            self._level_max = max(self._level_max, float(self.fear_level[idx].max()))
        self._fear_raised.append(idx)
        self._level_mean = None

    def fearful(self, level: float) -> np.ndarray:
        """Sorted investors whose fear exceeds ``level``: ``flatnonzero(fear_of(all) > level)``.

        Fear only rises through :meth:`add_fear` and otherwise decays, so only the investors
        above ``level`` at the previous call and those raised since need a look; the first call
        (or a call at another level) scans everyone. Write fear only through :meth:`add_fear`.
        """
        threshold = level / self.fear_scale
        raised = sum(len(r) for r in self._fear_raised)
        known = 0 if self._fearful is None else len(self._fearful)
        # Many fearful (a stressed market: most investors): one scan is cheaper than sorting
        # them with those raised since.
        if (self._fearful is None or level != self._fearful_level
                or 8 * (known + raised) > self.count):
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

    def mostly_fearful(self, level: float, recheck_days: int = 30) -> bool:
        """Whether more than half the investors were above ``level`` at the last look.

        A performance hint, never a decision: callers that get True bound everyone at
        :meth:`max_fear` instead of finding the fearful. The answer is looked up again every
        ``recheck_days`` calls (fear decays, so calm returns); in between the cache of
        :meth:`fearful` is dropped, so its next call scans afresh.
        """
        if self._mostly_level == level and self._mostly_left > 0:
            self._mostly_left -= 1
            self._fear_raised.clear()
            self._fearful = None
            return True
        mostly = 2 * len(self.fearful(level)) > self.count
        self._mostly_level = level
        self._mostly_left = recheck_days if mostly else 0
        return mostly

    def max_fear(self) -> float:
        """The largest general fear of any investor: ``float(fear_of(all).max())``, kept."""
        if self.count == 0:
            return 0.0
        if self._level_max is None:
            self._level_max = float(self.fear_level.max())
        return self._level_max * self.fear_scale

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
            self._level_max = None
            self._fearful = None  # rescaled levels may round across the level: scan again

    def arrays(self) -> dict[str, np.ndarray]:
        """Every investor array, for streaming benchmarks and snapshots.

        Each piece of memory appears once: the ``profile`` and ``positions`` records, not the
        column views of them, and not private caches.
        """
        return {k: v for k, v in vars(self).items()
                if isinstance(v, np.ndarray) and v.base is None and not k.startswith("_")}


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
