"""A cheap clock of the day's phases, for profiling a whole run without a profiler.

:meth:`sim.model.P2PModel.step` calls :meth:`PhaseClock.lap` after each phase. The default clock
(:data:`NO_CLOCK`) does nothing, so a normal run pays about twenty empty method calls a day
(well under a microsecond). A :class:`PhaseClock` adds the wall time since the previous lap to
the phase's total: two ``perf_counter`` calls per phase, about 0.1 µs each, so the split of a
10^6-investor day (tens of milliseconds) is not disturbed.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class NullClock:
    """The clock of a normal run: every lap is a no-op."""

    def start(self) -> None:
        """Begin a day (nothing to do)."""

    def lap(self, phase: str) -> None:
        """End ``phase`` (nothing to do)."""


NO_CLOCK = NullClock()


class PhaseClock(NullClock):
    """Time per phase, summed over the days it was started.

    Args:
        timer: the clock read at each lap: wall time (``time.perf_counter``, the default) or
            this process's CPU time (``time.process_time``, steadier on a shared machine).

    Attributes:
        seconds: phase name -> total time, seconds, in the order phases first ran.
        days: days started.
    """

    def __init__(self, timer: Callable[[], float] = time.perf_counter) -> None:
        self.timer = timer
        self.seconds: dict[str, float] = {}
        self.days = 0
        self._last = 0.0

    def start(self) -> None:
        """Begin a day: the next lap is timed from now."""
        self.days += 1
        self._last = self.timer()

    def lap(self, phase: str) -> None:
        """Add the time since the previous lap (or :meth:`start`) to ``phase``."""
        now = self.timer()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + (now - self._last)
        self._last = now

    def ms_per_day(self) -> dict[str, float]:
        """Mean wall time of each phase per day started, ms."""
        return {k: 1e3 * v / max(self.days, 1) for k, v in self.seconds.items()}
