"""The earlier short-window benchmark, and the local pool's parallel efficiency.

``p2psim bench`` (:mod:`sim.bench.main`) now times a whole stressed year against a
code-independent floor; this module keeps the earlier measurement of a 30-day window near the
initial state, with the random words the step draws counted, for comparison, as
``python -m sim.bench.window`` (``--help`` lists the flags). Its floor depends on the engine's
code (the words it draws, the arrays it holds), so it flatters the engine. ``p2psim bench
--parallel`` and ``--parallel-only`` use its parallel-efficiency measurement.

What is measured, all in one process on one core:

* **Array engine** at each ``--sizes`` investor count (borrowers = investors / 5, 100
  platforms): model construction, then ``--warmup`` untimed days, then ``--days`` timed days,
  each step timed with :func:`time.perf_counter`. Below 10^6 investors the same window is run
  ``--repeats`` times on fresh models (same seed, so the same work) and the best run is kept.
* **Object engine** (one Mesa agent at a time) at ``--object-sizes``, over the first days of the
  same window. Both engines draw identical random numbers, so the array engine's time over the
  very same days is the like-for-like comparison; the table says whether the draws matched.
  Where the object engine was not run (10^6 by default: about a minute a day), the array rate
  is compared with the object rate at the largest size measured, and the output says so. The
  object engine loops over agents in Python, so its rate per investor-day does not improve
  with size and that ratio should not overstate the one at 10^6; the output also gives the
  most conservative ratio, against the fastest object rate measured at any size.
* **Physical floor** of one array step: (a) the time a fresh generator takes to produce, as
  float64 uniforms, as many 64-bit words as the step drew from the model's generator (read
  exactly from the PCG64 state advance; the values handed out are also counted through a thin
  proxy on ``model.rng``); plus (b) the time to stream every investor array
  (:meth:`sim.state.InvestorArrays.arrays`) once through memory with a vectorised reduction.
  Each is the best of ``--micro-repeats``. The step time is reported as a multiple of the floor.
* **Baseline** scenario (``scenarios/baseline.toml``: 100 platforms, 100,000 investors, 20,000
  borrowers, 730 days) end to end through :func:`sim.runner.run_scenario`, from loading the file
  to the output tables.
* **Parallel efficiency** of the local pool (:class:`sim.experiments.executor.LocalPool`), a
  separate measurement: ``--parallel-runs`` runs of ``scenarios/stress_2018.toml`` (seeds
  2018, 2019, ...), first one after the other in this process (``T1``), then on a pool of
  ``--parallel-workers`` workers (``Tp``, from starting the pool, imports included, to the last
  result). Efficiency = ``T1 / (workers x Tp)``; the pool's results must equal the serial ones
  bit for bit. The machine's load average is printed with it: other processes on the same cores
  lower the efficiency whatever the pool does.

Targets (verdict lines at the end): at 10^6 investors the array engine runs at least 50x the
object engine's investor-days per second and its step is within 3x the physical floor; the
baseline runs in under 30 s; the local pool reaches an efficiency of at least 0.9 on 2 workers
for runs of 5 s or more.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from pydantic import ValidationError

from sim import shipped
from sim.bench.draws import CountingGenerator, pcg64_words
from sim.config import Scenario, ScenarioError, load_scenario
from sim.config.memory import check_memory
from sim.experiments.runner import run_scenario
from sim.model import P2PModel
from sim.schema import COUNT_MAX

BASELINE = shipped.resolve("baseline")  # works outside the repository too
STRESS = shipped.resolve("stress_2018")
TARGET_EFFICIENCY = 0.9  # T1 / (workers x Tp) of the local pool on 2 workers
TARGET_EFFICIENCY_RUN_S = 5.0  # for runs at least this long
TARGET_SIZE = 10**6  # investors at which the speed-up and floor targets are judged
TARGET_SPEEDUP = 50.0  # array / object investor-days per second
TARGET_FLOOR_MULTIPLE = 3.0  # array step time / physical floor
TARGET_BASELINE_S = 30.0  # seconds for the baseline scenario end to end

def best_of(fn: Callable[[], object], repeats: int) -> float:
    """Smallest wall time of ``repeats`` calls of ``fn``, seconds."""
    best = float("inf")
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e6 if sys.platform == "darwin" else peak * 1024 / 1e6


CHANNEL_MODES = ("default", "all", "none")


def set_channels(sc: Scenario, mode: str) -> Scenario:
    """Switch every contagion channel on (``all``), off (``none``), or leave the defaults."""
    if mode != "default":
        for name in type(sc.channels).model_fields:
            getattr(sc.channels, name).enabled = mode == "all"
    return sc


def sized_scenario(investors: int, days: int, channels: str = "default") -> Scenario:
    """The default scenario with ``investors`` investors, investors / 5 borrowers, 100 platforms."""
    sc = set_channels(Scenario(), channels)
    sc.investors.count = investors
    sc.borrowers.count = max(investors // 5, 10)
    sc.platforms.count = 100
    sc.run.days = days
    return sc


def check_sizes(sizes: list[int], object_sizes: list[int], days: int) -> None:
    """Refuse sizes that the schema or the machine's memory would refuse, before any timing.

    Args:
        sizes: array-engine investor counts.
        object_sizes: object-engine investor counts.
        days: days each timing runs.

    Raises:
        ScenarioError: a size above the schema's bound or one that would not fit in memory
            (:func:`sim.config.memory.check_memory`), named in the message.
    """
    for engine, group in (("array", sizes), ("object", object_sizes)):
        for size in group:
            flag = "--sizes" if engine == "array" else "--object-sizes"
            try:
                sc = sized_scenario(size, days)
                sc.run.engine = engine
            except ValidationError:
                raise ScenarioError(f"{flag} {size}: at most {COUNT_MAX:,} investors") from None
            check_memory(sc, f"{flag} {size}")


@dataclass
class EngineTiming:
    """One engine timed at one population size (the best of its repeats).

    Attributes:
        engine: "array" or "object".
        investors: population size.
        warmup: untimed days before the timed window.
        build_s: model construction, seconds (best of the repeats).
        step_s: wall time of each timed day, seconds.
        words: 64-bit words drawn from the model's generator on each timed day (None if the
            bit generator is not PCG64).
        values: random values handed out on each timed day.
        by_method: random values handed out over the window, by generator method.
        repeats: fresh models the window was run on.
        peak_rss_mb: peak resident memory of the process after this measurement, MB.
    """

    engine: str
    investors: int
    warmup: int
    build_s: float
    step_s: list[float]
    words: list[int] | None
    values: list[int]
    by_method: Counter[str] = field(default_factory=Counter)
    repeats: int = 1
    peak_rss_mb: float = 0.0

    @property
    def days(self) -> int:
        """Timed days."""
        return len(self.step_s)

    def seconds(self, days: int | None = None) -> float:
        """Wall time of the first ``days`` timed days (all by default), seconds."""
        return float(sum(self.step_s[:days]))

    def rate(self, days: int | None = None) -> float:
        """Investor-days per second over the first ``days`` timed days."""
        n = self.days if days is None else min(days, self.days)
        return self.investors * n / self.seconds(n)

    @property
    def ms_per_step(self) -> float:
        """Mean wall time of a timed day, ms."""
        return 1e3 * self.seconds() / self.days

    @property
    def words_per_step(self) -> float | None:
        """Mean 64-bit words drawn per timed day."""
        return None if self.words is None else sum(self.words) / self.days

    @property
    def values_per_step(self) -> float:
        """Mean random values handed out per timed day."""
        return sum(self.values) / self.days


def time_engine(investors: int, engine: str, days: int, warmup: int, repeats: int = 1,
                keep_model: bool = False, channels: str = "default",
                ) -> tuple[EngineTiming, P2PModel | None]:
    """Time ``days`` steps of an engine after ``warmup`` untimed steps.

    The window is run on ``repeats`` fresh models (same seed, so the same work); the repeat with
    the smallest total step time is kept. The random numbers of each timed day are counted (see
    :class:`CountingGenerator` and :func:`pcg64_words`) outside the timed intervals.

    Args:
        investors: population size.
        engine: "array" or "object".
        days: timed days.
        channels: "default" (the scenario's channels) or "all" (every channel on).
        warmup: untimed days first.
        repeats: fresh models to run the window on.
        keep_model: return the last model (for the floor), else ``None``.

    Returns:
        The timing and, if asked for, the model.
    """
    best: EngineTiming | None = None
    build_best = float("inf")
    model = None
    for _ in range(max(1, repeats)):
        model = None
        gc.collect()
        scenario = sized_scenario(investors, warmup + days, channels)
        start = time.perf_counter()
        model = P2PModel(scenario, engine=engine)
        build_best = min(build_best, time.perf_counter() - start)
        model.run(warmup)
        generator = model.rng
        counter = CountingGenerator(generator)
        model.rng = counter
        step_s, states, handed_out = [], [generator.bit_generator.state], [0]
        try:
            for _ in range(days):
                start = time.perf_counter()
                model.step()
                step_s.append(time.perf_counter() - start)
                states.append(generator.bit_generator.state)
                handed_out.append(counter.values)
        finally:
            model.rng = generator
        words = [pcg64_words(a, b) for a, b in zip(states[:-1], states[1:], strict=True)]
        timing = EngineTiming(
            engine=engine, investors=investors, warmup=warmup, build_s=0.0, step_s=step_s,
            words=None if None in words else words,
            values=[int(v) for v in np.diff(handed_out)], by_method=counter.by_method)
        if best is None or timing.seconds() < best.seconds():
            best = timing
        if not keep_model:
            model = None
    assert best is not None
    best.build_s = build_best
    best.repeats = max(1, repeats)
    best.peak_rss_mb = peak_rss_mb()
    return best, model


@dataclass
class Floor:
    """Physical floor of one array step.

    Attributes:
        words: 64-bit words (one float64 uniform each) drawn in one step.
        draw_s: time to generate that many float64 uniforms with a fresh generator, seconds.
        megabytes: bytes of every investor array, MB.
        stream_s: time to read every investor array once, seconds.
    """

    words: int
    draw_s: float
    megabytes: float
    stream_s: float

    @property
    def floor_s(self) -> float:
        """(a) + (b), seconds."""
        return self.draw_s + self.stream_s


def _streamable(array: np.ndarray) -> np.ndarray:
    """A flat view that numpy reduces with SIMD at memory speed.

    Booleans and records are read as 8-byte words.
    """
    flat = array.reshape(-1)
    if flat.dtype.fields is not None:  # a record: its bytes as words, each byte once
        return flat.view(np.uint8).view(np.uint64)
    if flat.dtype == np.bool_:
        flat = flat.view(np.uint8)
        if flat.nbytes % 8 == 0:
            flat = flat.view(np.uint64)
    return flat


def physical_floor(model: P2PModel, words_per_step: float, repeats: int) -> Floor:
    """Time the random draws of one step and one pass over the investor arrays.

    Args:
        model: a model whose investor arrays are to be streamed.
        words_per_step: 64-bit words the step drew.
        repeats: best of this many timings each.
    """
    words = int(round(words_per_step))
    rng = np.random.default_rng()
    buffer = np.empty(words)
    draw = best_of(lambda: rng.random(out=buffer), repeats)
    arrays = [_streamable(a) for a in model.investors.arrays().values()]
    stream = best_of(lambda: [a.max(initial=0) for a in arrays], repeats)
    megabytes = sum(a.nbytes for a in arrays) / 1e6
    return Floor(words=words, draw_s=draw, megabytes=megabytes, stream_s=stream)


def time_baseline(channels: str = "default") -> tuple[float, float]:
    """Load and run the baseline scenario end to end; (seconds, simulated days)."""
    gc.collect()
    start = time.perf_counter()
    result = run_scenario(set_channels(load_scenario(BASELINE), channels), progress=False)
    return time.perf_counter() - start, result.days


@dataclass
class ParallelTiming:
    """The local pool against one process on the same runs.

    Attributes:
        runs: runs timed.
        workers: pool workers.
        serial_s: wall time of the runs one after the other in this process, seconds.
        pool_s: wall time on the pool, from its start (imports included) to the last result.
        identical: the pool's outcomes equal the serial ones bit for bit.
        load: the 1-minute load average before the measurement (None where unknown).
        serial_cpu_s: CPU time of the serial runs (this process), seconds.
        pool_cpu_s: CPU time of the pool's workers, start to exit, seconds.
    """

    runs: int
    workers: int
    serial_s: float
    pool_s: float
    identical: bool
    load: float | None
    serial_cpu_s: float = math.nan
    pool_cpu_s: float = math.nan

    @property
    def cpu_efficiency(self) -> float:
        """Serial CPU time over the workers' CPU time: the pool's own overhead (1.0 = none).

        Unlike the wall-time efficiency it does not depend on other processes taking cores.
        """
        return self.serial_cpu_s / self.pool_cpu_s

    @property
    def core_share(self) -> float:
        """Share of ``workers`` cores the workers got while the pool ran (1.0 = all of them)."""
        return self.pool_cpu_s / (self.workers * self.pool_s)

    @property
    def run_s(self) -> float:
        """Mean wall time of one run in this process, seconds."""
        return self.serial_s / self.runs

    @property
    def efficiency(self) -> float:
        """``T1 / (workers x Tp)``: 1.0 is a perfect speed-up."""
        return self.serial_s / (self.workers * self.pool_s)


def parallel_tasks(scenario: Scenario, runs: int) -> list[dict]:
    """``runs`` sweep tasks of ``scenario`` with seeds ``run.seed + i`` (distinct runs)."""
    base = scenario.model_dump(mode="json")
    tasks = []
    for i in range(runs):
        data = {**base, "run": {**base["run"], "seed": scenario.run.seed + i}}
        tasks.append({"point": i, "replication": 0, "seed": scenario.run.seed + i,
                      "labels": {}, "scenario": data})
    return tasks


def time_parallel(scenario: Scenario, runs: int, workers: int) -> ParallelTiming:
    """Time ``runs`` runs in this process, then on a local pool of ``workers``.

    Args:
        scenario: what each run runs (seeds differ).
        runs: how many runs.
        workers: pool workers.

    Returns:
        The timing.
    """
    from sim.experiments.executor import LocalPool
    from sim.experiments.sweep import run_point

    tasks = parallel_tasks(scenario, runs)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    serial = [run_point(task) for task in tasks]
    serial_s, serial_cpu = time.perf_counter() - start, time.process_time() - cpu
    gc.collect()
    before = _children_cpu()
    start = time.perf_counter()
    with LocalPool(workers) as pool:
        pooled = dict(pool.imap(run_point, tasks))
    pool_s = time.perf_counter() - start
    identical = all(_same(a.outcomes, pooled[i].outcomes) for i, a in enumerate(serial))
    return ParallelTiming(runs=runs, workers=workers, serial_s=serial_s, pool_s=pool_s,
                          identical=identical, load=load, serial_cpu_s=serial_cpu,
                          pool_cpu_s=_children_cpu() - before)


def _children_cpu() -> float:
    """User + system CPU time of this process's finished children, seconds."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _same(a: dict, b: dict) -> bool:
    """Equal outcomes, NaN equal to NaN."""
    return a.keys() == b.keys() and all(x == b[k] or (x != x and b[k] != b[k])
                                        for k, x in a.items())


def _default_object_days(size: int, days: int) -> int:
    """Object-engine days: about a second of work per 10^4 investors, at least 3."""
    return max(3, min(days, 10**5 // max(size, 1)))


def _fmt_rate(rate: float) -> str:
    return f"{rate:,.0f}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sim.bench.window",
        description="Time the array and object engines, the physical floor of an array step "
                    "and the baseline scenario; print a table and a verdict per target.")
    parser.add_argument("--sizes", type=int, nargs="+", metavar="N",
                        default=[10**4, 10**5, 10**6],
                        help="investor counts for the array engine (default 10^4 10^5 10^6)")
    parser.add_argument("--object-sizes", type=int, nargs="*", metavar="N",
                        default=[10**4, 10**5],
                        help="investor counts for the object engine (default 10^4 10^5; "
                             "none to skip)")
    parser.add_argument("--days", type=int, default=30, metavar="D",
                        help="timed days of the array engine at every size (default 30)")
    parser.add_argument("--object-days", type=int, metavar="D",
                        help="timed days of the object engine (default: 10 at 10^4, 3 at 10^5)")
    parser.add_argument("--warmup", type=int, default=5, metavar="D",
                        help="untimed days after construction (default 5)")
    parser.add_argument("--repeats", type=int, metavar="K",
                        help="fresh array models per size, best kept (default 3 below 10^6, "
                             "1 from 10^6)")
    parser.add_argument("--micro-repeats", type=int, default=7, metavar="K",
                        help="best of K for the floor's micro timings (default 7)")
    parser.add_argument("--channels", choices=CHANNEL_MODES, default="default",
                        help="contagion channels: scenario defaults, all on, or all off")
    parser.add_argument("--skip-baseline", action="store_true",
                        help="do not time the baseline scenario")
    parser.add_argument("--parallel-runs", type=int, default=6, metavar="N",
                        help="runs of stress_2018 timed for the pool's parallel efficiency "
                             "(default 6)")
    parser.add_argument("--parallel-workers", type=int, default=2, metavar="K",
                        help="pool workers for the parallel efficiency (default 2)")
    parser.add_argument("--skip-parallel", action="store_true",
                        help="do not measure the pool's parallel efficiency")
    parser.add_argument("--parallel-only", action="store_true",
                        help="measure only the pool's parallel efficiency")
    parser.add_argument("--quick", action="store_true",
                        help="smoke mode: 10^4 investors, 1 warm-up and 3 timed days, object "
                             "engine 2 days, 2 short runs for the parallel efficiency")
    return parser


def report_parallel(args: argparse.Namespace) -> None:
    """Measure and print the local pool's parallel efficiency and its verdict line."""
    scenario = load_scenario(STRESS)
    if args.quick:  # a smoke run of the code path: runs far below 5 s, so no verdict
        scenario = load_scenario(STRESS, ["run.days=30", "investors.count=5000",
                                          "borrowers.count=1000"])
    timing = time_parallel(scenario, args.parallel_runs, args.parallel_workers)
    load = "unknown" if timing.load is None else f"{timing.load:.2f}"
    print(f"parallel efficiency of the local pool: {timing.runs} runs of {scenario.name} "
          f"({scenario.run.days} days, seeds {scenario.run.seed}..."
          f"{scenario.run.seed + timing.runs - 1}); load average before: {load} on "
          f"{os.cpu_count()} cores")
    header = (f"{'runs':>5} {'run s':>7} {'T1 s':>8} {'workers':>7} {'Tp s':>8} {'speed-up':>8} "
              f"{'efficiency':>10} {'CPU eff.':>8} {'core share':>10}  identical results")
    print(header)
    print("-" * len(header))
    print(f"{timing.runs:>5} {timing.run_s:>7.2f} {timing.serial_s:>8.2f} {timing.workers:>7} "
          f"{timing.pool_s:>8.2f} {timing.serial_s / timing.pool_s:>7.2f}x "
          f"{timing.efficiency:>10.2f} {timing.cpu_efficiency:>8.2f} {timing.core_share:>10.2f}"
          f"  {'yes' if timing.identical else 'NO'}")
    print("efficiency = T1 / (workers x Tp), wall time; CPU eff. = CPU time of the serial runs / "
          "CPU time of the workers (the pool's own overhead, whatever else runs); core share = "
          "workers' CPU time / (workers x Tp): below 1, other processes took the cores")
    print()
    args.parallel_verdict = timing


def _parallel_verdict(args: argparse.Namespace) -> None:
    timing = getattr(args, "parallel_verdict", None)
    if timing is None:
        print(f"  SKIP  local pool efficiency >= {TARGET_EFFICIENCY} on 2 workers: "
              "--skip-parallel")
    elif timing.workers != 2 or timing.run_s < TARGET_EFFICIENCY_RUN_S:
        print(f"  SKIP  local pool efficiency >= {TARGET_EFFICIENCY} on 2 workers for runs of "
              f">= {TARGET_EFFICIENCY_RUN_S:.0f} s: measured {timing.efficiency:.2f} with "
              f"{timing.workers} workers and {timing.run_s:.1f} s runs")
    else:
        verdict = "PASS" if timing.efficiency >= TARGET_EFFICIENCY and timing.identical else "FAIL"
        busy = (f"; the workers got only {timing.core_share:.0%} of 2 cores (other processes "
                f"running), their CPU efficiency was {timing.cpu_efficiency:.2f}"
                if timing.core_share < 0.95 else "")
        print(f"  {verdict}  local pool efficiency >= {TARGET_EFFICIENCY} on 2 workers for runs "
              f"of >= {TARGET_EFFICIENCY_RUN_S:.0f} s: {timing.efficiency:.2f} "
              f"({timing.runs} runs of {timing.run_s:.1f} s, T1 {timing.serial_s:.1f} s, "
              f"Tp {timing.pool_s:.1f} s{busy})")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print their table and verdicts.

    Args:
        argv: command-line flags without the program name (default ``sys.argv[1:]``).

    Returns:
        0 (timings are reported, never turned into an exit code).
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.object_sizes, args.days, args.warmup = [10**4], [10**4], 3, 1
        args.object_days, args.repeats, args.micro_repeats = 2, 1, 3
        args.parallel_runs = 2
    if args.parallel_runs < 1 or args.parallel_workers < 1:
        parser.error("--parallel-runs and --parallel-workers must be positive")
    if args.parallel_only:
        report_parallel(args)
        print("targets")
        _parallel_verdict(args)
        return 0
    for name in ("days", "warmup", "micro_repeats"):
        if getattr(args, name) < (0 if name == "warmup" else 1):
            parser.error(f"--{name.replace('_', '-')} must be positive")
    if any(s < 1 for s in [*args.sizes, *args.object_sizes]):
        parser.error("sizes must be positive")
    sizes = sorted(set(args.sizes))
    object_sizes = sorted(set(args.object_sizes))
    check_sizes(sizes, object_sizes, args.warmup + args.days)

    print(f"p2psim bench: one process, numpy {np.__version__}, Python "
          f"{sys.version.split()[0]}; borrowers = investors / 5, 100 platforms; "
          f"{args.warmup} warm-up days, then timed days {args.warmup + 1}-"
          f"{args.warmup + args.days}; channels: {args.channels}\n")

    arrays: dict[int, EngineTiming] = {}
    objects: dict[int, EngineTiming] = {}
    floors: dict[int, Floor] = {}
    header = (f"{'investors':>10} {'engine':>6} {'build s':>8} {'days':>4} {'best of':>7} "
              f"{'ms/step':>9} {'inv-days/s':>12} {'rng words/step':>14} {'peak RSS MB':>11}")
    print(header)
    print("-" * len(header))

    def row(t: EngineTiming) -> None:
        words = t.words_per_step
        words_s = f"{words:,.0f}" if words is not None else f"{t.values_per_step:,.0f}*"
        print(f"{t.investors:>10,} {t.engine:>6} {t.build_s:>8.2f} {t.days:>4} {t.repeats:>7} "
              f"{t.ms_per_step:>9.2f} {_fmt_rate(t.rate()):>12} {words_s:>14} "
              f"{t.peak_rss_mb:>11,.0f}", flush=True)

    for size in sorted(set(sizes) | set(object_sizes)):
        if size in sizes:
            repeats = args.repeats or (3 if size < 10**6 else 1)
            timing, model = time_engine(size, "array", args.days, args.warmup, repeats,
                                        channels=args.channels,
                                        keep_model=True)
            words = timing.words_per_step
            floors[size] = physical_floor(
                model, words if words is not None else timing.values_per_step,
                args.micro_repeats)
            del model
            arrays[size] = timing
            row(timing)
        if size in object_sizes:
            days = args.object_days or _default_object_days(size, args.days)
            timing, _ = time_engine(size, "object", days, args.warmup, channels=args.channels)
            objects[size] = timing
            row(timing)
    print("(* values handed out; the bit generator is not PCG64)" if any(
        t.words is None for t in [*arrays.values(), *objects.values()]) else "")

    if floors:
        print("physical floor of one array step = (a) draw its random numbers + (b) stream every "
              "investor array once")
        header = (f"{'investors':>10} {'words/step':>12} {'values/step':>12} {'(a) draw ms':>11} "
                  f"{'MB':>6} {'(b) stream ms':>13} {'floor ms':>9} {'step ms':>9} "
                  f"{'step/floor':>10}")
        print(header)
        print("-" * len(header))
        for size, fl in floors.items():
            t = arrays[size]
            print(f"{size:>10,} {fl.words:>12,} {t.values_per_step:>12,.0f} "
                  f"{1e3 * fl.draw_s:>11.2f} {fl.megabytes:>6,.0f} {1e3 * fl.stream_s:>13.2f} "
                  f"{1e3 * fl.floor_s:>9.2f} {t.ms_per_step:>9.2f} "
                  f"{t.ms_per_step / (1e3 * fl.floor_s):>10.2f}")
        print()

    speedups: dict[int, tuple[float, str]] = {}
    if arrays and objects:
        print("array/object: investor-days per second, array engine over object engine")
        header = (f"{'investors':>10} {'days':>9} {'array ms/step':>13} {'object ms/step':>14} "
                  f"{'array/object':>12}  basis")
        print(header)
        print("-" * len(header))
        for size, arr in arrays.items():
            if size in objects:
                obj = objects[size]
                n = min(obj.days, arr.days)
                same = (arr.words is not None and obj.words is not None
                        and arr.words[:n] == obj.words[:n] and arr.values[:n] == obj.values[:n])
                ratio = arr.rate(n) / obj.rate(n)
                basis = (f"measured, same {n} days; identical random draws: "
                         f"{'yes' if same else 'NO'}")
                a_ms, o_ms, days = 1e3 * arr.seconds(n) / n, 1e3 * obj.seconds(n) / n, f"{n}"
            else:
                below = [s for s in objects if s <= size]
                ref = max(below) if below else min(objects)
                obj = objects[ref]
                ratio = arr.rate() / obj.rate()
                fastest = max(objects.values(), key=lambda o: o.rate())
                basis = (f"object NOT run at {size:,}: array at {size:,} vs object at {ref:,} "
                         f"({_fmt_rate(obj.rate())} investor-days/s); against the fastest "
                         f"object rate measured ({_fmt_rate(fastest.rate())}/s at "
                         f"{fastest.investors:,}): {arr.rate() / fastest.rate():,.0f}x")
                a_ms, o_ms, days = arr.ms_per_step, float("nan"), f"{arr.days}"
            speedups[size] = (ratio, basis)
            o_txt = f"{o_ms:>14.2f}" if o_ms == o_ms else f"{'-':>14}"
            print(f"{size:>10,} {days:>9} {a_ms:>13.2f} {o_txt} {ratio:>11,.0f}x  {basis}")
        print()

    if not args.skip_parallel:
        report_parallel(args)
    print("targets")
    if TARGET_SIZE in speedups:
        ratio, basis = speedups[TARGET_SIZE]
        verdict = "PASS" if ratio >= TARGET_SPEEDUP else "FAIL"
        print(f"  {verdict}  array >= {TARGET_SPEEDUP:.0f}x object investor-days/s at "
              f"{TARGET_SIZE:,} investors: {ratio:,.0f}x "
              f"(array {_fmt_rate(arrays[TARGET_SIZE].rate())}/s; {basis})")
    else:
        largest = max(speedups, default=None)
        note = (f"; largest measured: {speedups[largest][0]:,.0f}x at {largest:,}"
                if largest is not None else "")
        print(f"  SKIP  array >= {TARGET_SPEEDUP:.0f}x object at {TARGET_SIZE:,}: "
              f"{TARGET_SIZE:,} not in --sizes or no object timing{note}")
    if TARGET_SIZE in floors:
        t, fl = arrays[TARGET_SIZE], floors[TARGET_SIZE]
        multiple = t.ms_per_step / (1e3 * fl.floor_s)
        verdict = "PASS" if multiple <= TARGET_FLOOR_MULTIPLE else "FAIL"
        print(f"  {verdict}  array step within {TARGET_FLOOR_MULTIPLE:.0f}x physical floor at "
              f"{TARGET_SIZE:,} investors: {t.ms_per_step:.1f} ms vs floor "
              f"{1e3 * fl.floor_s:.1f} ms = {multiple:.2f}x")
    else:
        largest = max(floors, default=None)
        note = (f"; largest measured: {arrays[largest].ms_per_step / (1e3 * floors[largest].floor_s):.2f}x"
                f" at {largest:,}" if largest is not None else "")
        print(f"  SKIP  array step within {TARGET_FLOOR_MULTIPLE:.0f}x physical floor at "
              f"{TARGET_SIZE:,}: not in --sizes{note}")
    if args.skip_baseline:
        print(f"  SKIP  baseline under {TARGET_BASELINE_S:.0f} s: --skip-baseline")
    else:
        seconds, days = time_baseline(args.channels)
        verdict = "PASS" if seconds < TARGET_BASELINE_S else "FAIL"
        print(f"  {verdict}  baseline (100 platforms, 100,000 investors, 20,000 borrowers, "
              f"{days} days) end to end under {TARGET_BASELINE_S:.0f} s: {seconds:.1f} s")
    _parallel_verdict(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
