"""Benchmarks: investor-days per second of both engines, the physical floor, the baseline.

Prints figures; nothing here asserts a timing. Run with ``p2psim bench`` or
``python -m sim.bench``.

* Array vs object engine: investor-days per second at each size, and their ratio measured in the
  same run. The object engine is timed where that is practical; at larger sizes the array engine
  is compared with the object engine's rate at the largest size measured (its per-investor cost
  does not fall with size).
* Physical floor of one array step: the time to generate the random numbers that step consumed
  (counted by wrapping the model's generator) plus the time to stream every investor array once
  through memory. The step time is reported as a multiple of that floor.
* The baseline scenario (100 platforms, 100,000 investors, 20,000 borrowers, 730 days) end to end.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from sim.config import Scenario, load_scenario
from sim.model import P2PModel

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml"


class CountingGenerator:
    """Wraps a numpy Generator and counts the random values handed out."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self.values = 0

    def __getattr__(self, name):
        method = getattr(self._rng, name)
        if not callable(method):
            return method

        def counted(*args, **kwargs):
            out = method(*args, **kwargs)
            self.values += int(np.size(out))
            return out

        return counted


def best_of(fn, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def sized_scenario(investors: int) -> Scenario:
    sc = Scenario()
    sc.investors.count = investors
    sc.borrowers.count = max(investors // 5, 10)
    sc.platforms.count = 100
    return sc


def time_engine(investors: int, engine: str, days: int, warmup: int) -> dict:
    """Seconds per step of an engine at a population size (after warm-up days)."""
    sc = sized_scenario(investors)
    sc.run.days = warmup + days
    start = time.perf_counter()
    model = P2PModel(sc, engine=engine)
    build = time.perf_counter() - start
    model.run(warmup)
    counter = CountingGenerator(model.rng)
    model.rng = counter
    start = time.perf_counter()
    model.run(days)
    step = (time.perf_counter() - start) / days
    model.rng = counter._rng
    return {"model": model, "build_s": build, "step_s": step,
            "randoms_per_step": counter.values / days,
            "investor_days_per_s": investors / step}


def physical_floor(model: P2PModel, randoms_per_step: float) -> dict:
    """Time to draw one step's random numbers plus to stream the investor arrays once."""
    rng = np.random.default_rng(0)
    n = int(randoms_per_step)
    draw = best_of(lambda: rng.random(n))
    arrays = list(model.investors.arrays().values())
    stream = best_of(lambda: [a.sum() for a in arrays])
    megabytes = sum(a.nbytes for a in arrays) / 1e6
    return {"draw_s": draw, "stream_s": stream, "floor_s": draw + stream, "megabytes": megabytes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="p2psim bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10**4, 10**5, 10**6],
                        help="investor counts for the array engine")
    parser.add_argument("--object-max", type=int, default=10**4,
                        help="largest size at which the object engine is timed")
    parser.add_argument("--days", type=int, default=20, help="timed days per size")
    parser.add_argument("--warmup", type=int, default=5, help="untimed days before timing")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--quick", action="store_true", help="smoke mode: 10^3 investors, 3 days")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.object_max, args.days, args.warmup = [1000], 1000, 3, 1

    print("p2psim bench (one process, one core)\n")
    header = (f"{'investors':>10} {'engine':>7} {'build s':>8} {'ms/step':>9} "
              f"{'inv-days/s':>12} {'randoms/step':>13} {'floor ms':>9} {'step/floor':>10}")
    print(header)
    print("-" * len(header))
    object_rate = {}
    rows = []
    for size in args.sizes:
        days = args.days if size >= 10**6 else args.days * 2
        arr = time_engine(size, "array", days, args.warmup)
        floor = physical_floor(arr["model"], arr["randoms_per_step"])
        ratio_floor = arr["step_s"] / floor["floor_s"]
        print(f"{size:>10,} {'array':>7} {arr['build_s']:>8.2f} {1e3 * arr['step_s']:>9.2f} "
              f"{arr['investor_days_per_s']:>12,.0f} {arr['randoms_per_step']:>13,.0f} "
              f"{1e3 * floor['floor_s']:>9.2f} {ratio_floor:>10.2f}")
        del arr["model"]
        if size <= args.object_max:
            obj = time_engine(size, "object", max(2, days // 4), 1)
            object_rate[size] = obj["investor_days_per_s"]
            print(f"{size:>10,} {'object':>7} {obj['build_s']:>8.2f} {1e3 * obj['step_s']:>9.2f} "
                  f"{obj['investor_days_per_s']:>12,.0f} {obj['randoms_per_step']:>13,.0f}")
            del obj["model"]
        rows.append((size, arr, floor, ratio_floor))

    print("\nfloor = random draws + one stream over the investor arrays")
    for size, arr, floor, _ in rows:
        measured = max((s for s in object_rate if s <= size), default=None)
        if measured is None:
            continue
        speedup = arr["investor_days_per_s"] / object_rate[measured]
        note = "same size" if measured == size else f"object rate measured at {measured:,}"
        print(f"{size:>10,} investors: draws {1e3 * floor['draw_s']:.1f} ms + stream "
              f"{1e3 * floor['stream_s']:.1f} ms ({floor['megabytes']:.0f} MB); "
              f"array/object = {speedup:,.0f}x ({note})")

    largest = rows[-1]
    print("\ntargets")
    size, arr, floor, ratio_floor = largest
    if object_rate:
        speedup = arr["investor_days_per_s"] / object_rate[max(object_rate)]
        verdict = "PASS" if speedup >= 50 else "FAIL"
        print(f"  {verdict}  array >= 50x object investor-days/s at {size:,}: {speedup:,.0f}x")
    verdict = "PASS" if ratio_floor <= 3 else "FAIL"
    print(f"  {verdict}  step within 3x physical floor at {size:,}: {ratio_floor:.2f}x")
    if not args.skip_baseline:
        start = time.perf_counter()
        model = P2PModel(load_scenario(BASELINE))
        model.run()
        seconds = time.perf_counter() - start
        verdict = "PASS" if seconds < 30 else "FAIL"
        print(f"  {verdict}  baseline (100 platforms, 100,000 investors, 20,000 borrowers, "
              f"730 days) under 30 s: {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
