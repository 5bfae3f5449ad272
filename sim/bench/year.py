"""A whole stressed year of the array engine against a code-independent floor.

The step time is the mean over every day of one simulated year of ``scenarios/stress_2018.toml``
(the analysts' stress scenario: shocks from day 120, every contagion channel on), at a given
number of investors (borrowers = investors / 5, the scenario's ratio). Each phase of the day is
timed by a :class:`~sim.phaseclock.PhaseClock`.

The **floor** depends on the population size alone, never on the engine's code: one float64
uniform per investor (``Generator.random``), plus reading and writing 64 bytes per investor once
(``x += 1`` over an ``8 x investors`` float64 buffer). It is timed at the start and then every
``floor_every`` days during the year, best of ``micro_repeats`` each time, so that the step and
the floor see the same load on a shared machine; the ratio uses the median of these samples.

Memory: the peak resident memory of the process while building and running the model, less the
resident memory just before building (the floor's buffers already allocated and touched), per
investor.
"""

from __future__ import annotations

import gc
import statistics
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from sim import shipped
from sim.bench import memory
from sim.config import Scenario, load_scenario
from sim.model import P2PModel
from sim.phaseclock import PhaseClock

STRESS = shipped.resolve("stress_2018")
FLOOR_BYTES = 64  # bytes per investor read and written once by the floor
BORROWERS_PER_INVESTOR = 0.2  # stress_2018: 10,000 borrowers for 50,000 investors


def stress_year(investors: int, days: int = 365, overrides: list[str] | None = None) -> Scenario:
    """``stress_2018`` with ``investors`` investors, investors / 5 borrowers, ``days`` days."""
    borrowers = max(int(investors * BORROWERS_PER_INVESTOR), 10)
    return load_scenario(STRESS, [f"investors.count={investors}",
                                  f"borrowers.count={borrowers}", f"run.days={days}",
                                  *(overrides or [])])


class Floor:
    """The code-independent floor of one day at ``investors`` investors.

    Args:
        investors: population size.
        micro_repeats: each sample is the best of this many timings.
    """

    def __init__(self, investors: int, micro_repeats: int = 3) -> None:
        self.investors = investors
        self.micro_repeats = max(1, micro_repeats)
        self.rng = np.random.default_rng(12345)
        self.uniforms = np.empty(investors)
        self.buffer = np.zeros(investors * FLOOR_BYTES // 8)  # zeros + first sample touch it
        self.draw_s: list[float] = []
        self.stream_s: list[float] = []

    def _best(self, fn) -> float:
        best = float("inf")
        for _ in range(self.micro_repeats):
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
        return best

    def sample(self) -> None:
        """Time the draw and the stream once more (best of ``micro_repeats`` each)."""
        self.draw_s.append(self._best(lambda: self.rng.random(out=self.uniforms)))
        self.stream_s.append(self._best(lambda: np.add(self.buffer, 1.0, out=self.buffer)))

    @property
    def seconds(self) -> float:
        """Median draw + median stream over the samples, seconds."""
        return statistics.median(self.draw_s) + statistics.median(self.stream_s)


@dataclass
class YearTiming:
    """One whole year of the array engine and its floor, at one size.

    Attributes:
        investors: population size.
        borrowers: borrowers.
        days: simulated days timed (all of them, from day 1).
        build_s: model construction, seconds.
        step_s: wall time of each day, seconds.
        cpu_s: this process's CPU time of each day, seconds (steadier than the wall time when
            other processes share the cores; numpy runs on one thread here).
        phases_ms: mean wall time per day of each phase, ms.
        floor_draw_ms: median time of one uniform per investor, ms.
        floor_stream_ms: median time to read and write 64 bytes per investor, ms.
        floor_samples: floor samples taken during the year.
        peak_mb: peak resident memory of building and running the model, MB.
        bytes_per_investor: ``peak_mb`` per investor, bytes.
        peak_resettable: whether the peak could be reset before building (else it is the
            process's lifetime peak and may belong to an earlier measurement).
        failures: platforms failed over the year (a check that the stress happened).
    """

    investors: int
    borrowers: int
    days: int
    build_s: float
    step_s: list[float] = field(repr=False)
    cpu_s: list[float] = field(repr=False)
    phases_ms: dict[str, float]
    floor_draw_ms: float
    floor_stream_ms: float
    floor_samples: int
    peak_mb: float
    bytes_per_investor: float
    peak_resettable: bool
    failures: int

    @property
    def step_ms(self) -> float:
        """Mean wall time of a day over the year, ms."""
        return 1e3 * sum(self.step_s) / len(self.step_s)

    @property
    def cpu_ms(self) -> float:
        """Mean CPU time of a day over the year, ms."""
        return 1e3 * sum(self.cpu_s) / len(self.cpu_s)

    @property
    def cpu_ratio(self) -> float:
        """Mean CPU time of a day / floor (the floor is a best-of, close to its CPU time)."""
        return self.cpu_ms / self.floor_ms

    @property
    def floor_ms(self) -> float:
        """The floor of one day, ms."""
        return self.floor_draw_ms + self.floor_stream_ms

    @property
    def ratio(self) -> float:
        """Mean step / floor."""
        return self.step_ms / self.floor_ms

    @property
    def ns_per_investor_day(self) -> float:
        """Mean step per investor, ns."""
        return 1e6 * self.step_ms / self.investors

    def as_json(self) -> dict:
        """Plain data, derived figures included."""
        data = asdict(self)
        data.update(step_ms=self.step_ms, cpu_ms=self.cpu_ms, cpu_ratio=self.cpu_ratio,
                    floor_ms=self.floor_ms, ratio=self.ratio,
                    ns_per_investor_day=self.ns_per_investor_day,
                    step_ms_quartiles=[1e3 * q for q in statistics.quantiles(self.step_s, n=4)]
                    if len(self.step_s) > 1 else [])
        return data


def time_year(investors: int, days: int = 365, floor_every: int = 30, micro_repeats: int = 3,
              overrides: list[str] | None = None) -> YearTiming:
    """Build the stress scenario at ``investors`` and time every day of ``days``.

    Args:
        investors: population size.
        days: days to run from day 1.
        floor_every: take a floor sample every this many days (and one before day 1).
        micro_repeats: best of this many timings per floor sample.
        overrides: more ``key=value`` scenario overrides.

    Returns:
        The timing.
    """
    scenario = stress_year(investors, days, overrides)
    floor = Floor(investors, micro_repeats)
    floor.sample()  # also touches the buffers, so they are resident before the baseline
    gc.collect()
    resettable = memory.reset_peak()
    before = memory.rss_mb()
    start = time.perf_counter()
    model = P2PModel(scenario)
    build_s = time.perf_counter() - start
    clock = model.clock = PhaseClock()
    step_s, cpu_s = [], []
    for day in range(days):
        start, cpu = time.perf_counter(), time.process_time()
        model.step()
        step_s.append(time.perf_counter() - start)
        cpu_s.append(time.process_time() - cpu)
        if (day + 1) % floor_every == 0:
            floor.sample()
    peak = memory.peak_mb() - before
    failures = len(model.failures)
    del model
    gc.collect()
    return YearTiming(
        investors=investors, borrowers=scenario.borrowers.count, days=days, build_s=build_s,
        step_s=step_s, cpu_s=cpu_s, phases_ms=clock.ms_per_day(),
        floor_draw_ms=1e3 * statistics.median(floor.draw_s),
        floor_stream_ms=1e3 * statistics.median(floor.stream_s),
        floor_samples=len(floor.draw_s), peak_mb=peak,
        bytes_per_investor=peak * 1e6 / investors, peak_resettable=resettable,
        failures=failures)
