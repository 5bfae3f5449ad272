"""``p2psim bench``: the whole stressed year against a code-independent floor, and more.

Prints figures; nothing here asserts a timing. ``p2psim bench --help`` lists the flags;
``--quick`` is a seconds-long smoke run. What is measured, all in this process unless said:

1. **Whole stressed year** (:mod:`sim.bench.year`): every day of one simulated year of
   ``stress_2018`` at each ``--sizes`` (default 10^5, 10^6 and 10^7 where memory allows),
   mean step, per-phase split, the code-independent floor measured during the same run, the
   ratio step / floor, and the peak memory per investor.
2. **Array against object engine** (:mod:`sim.bench.sidebyside`): both engines stepped
   alternately over the same first days, at 10^5 (3 days) and 10^6 (2 days) by default.
3. **End-to-end split** (:mod:`sim.bench.endtoend`): the baseline scenario in a fresh
   interpreter, import / build / simulate / write / plot.
4. **Optional**: the local pool's parallel efficiency (``--parallel``, ``--parallel-only``;
   :mod:`sim.bench.window`) and the whole sector at 1:1 (``--sector``, :mod:`sim.bench.sector`).

``--json FILE`` writes every figure for tracking. The machine's load average is printed with
the figures: on a shared machine compare ratios measured in the same run, not absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np

from sim.bench import BASELINE, memory
from sim.bench.endtoend import cli_split
from sim.bench.sector import SECTOR, sector_run
from sim.bench.sidebyside import side_by_side
from sim.bench.year import time_year

TARGET_SIZE = 10**6
TARGET_FLOOR_MULTIPLE = 3.0  # whole-year mean step / floor at 10^6
TARGET_BYTES = 400.0  # peak bytes per investor at 10^6
TARGET_E2E = 1.3  # baseline end to end / its simulate time
DEFAULT_BYTES = 700.0  # bytes per investor assumed before any size was measured (530 at 10^6)
MEMORY_SHARE = 0.6  # a size runs only if its estimated peak is below this share of free memory


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="p2psim bench",
        description="Time a whole stressed year of the array engine against a code-independent "
                    "floor, the object engine side by side, and the CLI end to end.")
    p.add_argument("--sizes", type=int, nargs="+", metavar="N",
                   default=[10**5, 10**6, 10**7],
                   help="investor counts for the whole year (default 10^5 10^6 10^7; a size "
                        "whose estimated memory does not fit is skipped)")
    p.add_argument("--days", type=int, default=365, metavar="D",
                   help="simulated days timed at each size (default 365)")
    p.add_argument("--object-sizes", type=int, nargs="*", metavar="N",
                   default=[10**5, 10**6], help="sizes of the side-by-side engine comparison "
                                                "(default 10^5 10^6; none to skip)")
    p.add_argument("--object-days", type=int, nargs="*", metavar="D", default=[3, 2],
                   help="days of each side-by-side size (default 3 2)")
    p.add_argument("--micro-repeats", type=int, default=3, metavar="K",
                   help="best of K for each floor sample (default 3)")
    p.add_argument("--skip-cli", action="store_true", help="skip the end-to-end CLI split")
    p.add_argument("--parallel", action="store_true",
                   help="also measure the local pool's parallel efficiency")
    p.add_argument("--parallel-only", action="store_true",
                   help="measure only the local pool's parallel efficiency")
    p.add_argument("--parallel-runs", type=int, default=6, metavar="N")
    p.add_argument("--parallel-workers", type=int, default=2, metavar="K")
    p.add_argument("--sector", action="store_true",
                   help="only the whole sector at 1:1 (China scenario, one simulated year)")
    p.add_argument("--sector-scale", type=float, default=1.0, metavar="S",
                   help="share of the real sector for --sector (default 1.0)")
    p.add_argument("--sector-days", type=int, default=365, metavar="D")
    p.add_argument("--max-gb", type=float, default=12.0,
                   help="resident-memory limit of the --sector run, GB (default 12)")
    p.add_argument("--budget-s", type=float, default=3600.0,
                   help="wall-time budget of the --sector run's days, s (default 3600)")
    p.add_argument("--json", metavar="FILE", help="write every figure to FILE as JSON")
    p.add_argument("--quick", action="store_true",
                   help="smoke mode: 10^4 investors for 30 days, 2 object days, no CLI split")
    return p


def _fits(size: int, bytes_per_investor: float) -> tuple[bool, float]:
    """Whether a size's estimated peak fits in the free memory, and the estimate (MB)."""
    need = size * bytes_per_investor / 1e6
    free = memory.available_mb()
    return free is None or need < MEMORY_SHARE * free, need


def report_year(sizes: list[int], days: int, micro_repeats: int, out: dict) -> None:
    """Time the whole year at each size and print the table and the per-phase split."""
    print(f"whole stressed year: stress_2018, days 1-{days}, borrowers = investors / 5; "
          "floor = one uniform draw per investor + read and write 64 bytes per investor "
          "(code-independent), sampled every 30 days of the same run")
    header = (f"{'investors':>11} {'build s':>8} {'step ms':>9} {'CPU ms':>8} {'ns/inv-day':>10} "
              f"{'floor ms':>9} {'draw ms':>8} {'r+w ms':>7} {'step/floor':>10} "
              f"{'CPU/floor':>9} {'peak MB':>8} {'B/investor':>10} {'failures':>8}")
    print(header)
    print("-" * len(header))
    per_investor = DEFAULT_BYTES
    rows = out.setdefault("year", [])
    for size in sorted(set(sizes)):
        ok, need = _fits(size, per_investor)
        if not ok:
            print(f"{size:>11,}  skipped: needs about {need:,.0f} MB at {per_investor:,.0f} "
                  f"B/investor, more than {MEMORY_SHARE:.0%} of the {memory.available_mb():,.0f}"
                  " MB free")
            rows.append({"investors": size, "skipped": f"needs about {need:,.0f} MB"})
            continue
        t = time_year(size, days, micro_repeats=micro_repeats)
        per_investor = max(t.bytes_per_investor, 1.0)
        print(f"{size:>11,} {t.build_s:>8.2f} {t.step_ms:>9.2f} {t.cpu_ms:>8.2f} "
              f"{t.ns_per_investor_day:>10.1f} {t.floor_ms:>9.3f} {t.floor_draw_ms:>8.3f} "
              f"{t.floor_stream_ms:>7.3f} {t.ratio:>10.1f} {t.cpu_ratio:>9.1f} "
              f"{t.peak_mb:>8,.0f} {t.bytes_per_investor:>10,.0f} "
              f"{t.failures:>8}", flush=True)
        rows.append(t.as_json())
    timed = [r for r in rows if "phases_ms" in r]
    if timed:
        print("\nper-phase split, mean ms per day (sim.phaseclock)")
        phases = list(timed[-1]["phases_ms"])
        print(f"{'phase':>20} " + " ".join(f"{r['investors']:>11,}" for r in timed))
        for ph in phases:
            print(f"{ph:>20} " + " ".join(f"{r['phases_ms'].get(ph, 0.0):>11.2f}" for r in timed))
    print()


def report_side_by_side(sizes: list[int], days: list[int], out: dict) -> None:
    """Step both engines alternately over the same days and print the speed-up."""
    if not sizes:
        return
    print("array against object engine: stress_2018, the same first days, stepped alternately")
    header = (f"{'investors':>11} {'days':>4} {'array ms/day':>12} {'object ms/day':>13} "
              f"{'speed-up':>9} {'object build s':>14}  identical draws")
    print(header)
    print("-" * len(header))
    rows = out.setdefault("side_by_side", [])
    for i, size in enumerate(sizes):
        d = days[min(i, len(days) - 1)] if days else 2
        s = side_by_side(size, d)
        print(f"{size:>11,} {d:>4} {1e3 * sum(s.array_s) / d:>12.2f} "
              f"{1e3 * sum(s.object_s) / d:>13.1f} {s.speedup:>8,.0f}x "
              f"{s.object_build_s:>14.1f}  {'yes' if s.identical_draws else 'NO'}", flush=True)
        rows.append(s.as_json())
    print()


def report_cli(out: dict) -> None:
    """Time the baseline end to end, with and without plots, in fresh interpreters."""
    print(f"end to end: {BASELINE.name} in a fresh interpreter (what p2psim run does)")
    header = (f"{'plots':>5} {'startup':>8} {'import':>7} {'build':>6} {'simulate':>8} "
              f"{'write':>6} {'plot':>6} {'total s':>8} {'total/simulate':>14}")
    print(header)
    print("-" * len(header))
    rows = out.setdefault("cli", [])
    for plots in (True, False):
        s = cli_split(BASELINE, plots=plots)
        print(f"{'yes' if plots else 'no':>5} {s['startup']:>8.2f} {s['import']:>7.2f} "
              f"{s['build']:>6.2f} {s['simulate']:>8.2f} {s['write']:>6.2f} "
              f"{s.get('plot', 0.0):>6.2f} {s['total']:>8.2f} "
              f"{s['total'] / s['simulate']:>14.2f}", flush=True)
        rows.append({"plots": plots, **s})
    print()


def report_sector(args: argparse.Namespace, out: dict) -> None:
    """Run the sector at ``--sector-scale`` under the memory guard and print the figures."""
    print(f"whole sector: china_2013_2020 at {args.sector_scale:g} x 1:1 "
          f"({SECTOR['platforms']:,} platforms, {SECTOR['investors']:,} investors, "
          f"{SECTOR['borrowers']:,} borrowers at 1:1), {args.sector_days} days, limit "
          f"{args.max_gb:g} GB, budget {args.budget_s:,.0f} s", flush=True)
    r = sector_run(args.sector_scale, args.sector_days, args.max_gb, args.budget_s)
    out["sector"] = r
    if "error" in r:
        print(f"  failed after {r['wall_s']:.0f} s: {r['error']}")
        return
    per_day = r["simulate_s"] / max(r["days_done"], 1)
    print(f"  build {r['build_s']:.0f} s; {r['days_done']} of {r['days_asked']} days in "
          f"{r['simulate_s']:.0f} s ({per_day:.2f} s a day); peak {r['peak_mb']:,.0f} MB "
          f"({r['peak_mb'] * 1e6 / r['investors']:,.0f} B per investor); "
          f"{r['platforms']:,} platforms at the start, {r['platforms_end']:,} operating at "
          f"the end; 2013-2020 (2,921 days) at this pace: "
          f"{(r['build_s'] + 2921 * per_day) / 60:,.0f} min")


def _verdicts(out: dict) -> None:
    print("targets")
    year = {r["investors"]: r for r in out.get("year", []) if "ratio" in r}
    if TARGET_SIZE in year:
        r = year[TARGET_SIZE]
        print(f"  {'PASS' if r['ratio'] <= TARGET_FLOOR_MULTIPLE else 'FAIL'}  whole-year step "
              f"<= {TARGET_FLOOR_MULTIPLE:g}x floor at 10^6: {r['step_ms']:.1f} ms / "
              f"{r['floor_ms']:.2f} ms = {r['ratio']:.1f}x (CPU time {r['cpu_ms']:.1f} ms = "
              f"{r['cpu_ratio']:.1f}x)")
        print(f"  {'PASS' if r['bytes_per_investor'] <= TARGET_BYTES else 'FAIL'}  peak memory "
              f"<= {TARGET_BYTES:g} B/investor at 10^6: {r['bytes_per_investor']:,.0f}")
    else:
        print("  SKIP  floor and memory targets: 10^6 not timed")
    cli = [r for r in out.get("cli", []) if r["plots"]]
    if cli:
        r = cli[0]
        ratio = r["total"] / r["simulate"]
        print(f"  {'PASS' if ratio <= TARGET_E2E else 'FAIL'}  baseline end to end <= "
              f"{TARGET_E2E:g}x its simulate time: {r['total']:.1f} s / {r['simulate']:.1f} s "
              f"= {ratio:.2f}x")
    else:
        print("  SKIP  baseline end to end: --skip-cli")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print their tables (and write ``--json``).

    Args:
        argv: command-line flags without the program name (default ``sys.argv[1:]``).

    Returns:
        0 (timings are reported, never turned into an exit code).
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.days, args.object_sizes, args.object_days = [10**4], 30, [10**4], [2]
        args.skip_cli, args.micro_repeats, args.parallel_runs = True, 1, 2
    for name in ("days", "micro_repeats", "parallel_runs", "parallel_workers", "sector_days"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    for name in ("sector_scale", "max_gb", "budget_s"):
        if not getattr(args, name) > 0:  # NaN fails too
            parser.error(f"--{name.replace('_', '-')} must be positive")
    if any(s < 1 for s in [*args.sizes, *args.object_sizes, *args.object_days]):
        parser.error("--sizes, --object-sizes and --object-days must be positive")
    if not (args.sector or args.parallel_only):
        from sim.bench.window import check_sizes  # schema bound and memory, before any timing

        check_sizes(sorted(set(args.sizes)), sorted(set(args.object_sizes)), args.days)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    out: dict = {"numpy": np.__version__, "python": sys.version.split()[0],
                 "machine": platform.machine(), "cores": os.cpu_count(), "load_before": load}
    print(f"p2psim bench: numpy {np.__version__}, Python {out['python']}, {os.cpu_count()} "
          f"cores, load average {load:.2f} before (other processes share the cores: compare "
          "ratios measured in the same run)\n")
    if args.parallel_only or args.parallel:
        from sim.bench import window

        window.report_parallel(args)
        timing = args.parallel_verdict
        out["parallel"] = {"runs": timing.runs, "workers": timing.workers,
                           "serial_s": timing.serial_s, "pool_s": timing.pool_s,
                           "efficiency": timing.efficiency, "identical": timing.identical}
    if args.sector:
        report_sector(args, out)
    elif not args.parallel_only:
        report_year(args.sizes, args.days, args.micro_repeats, out)
        report_side_by_side(sorted(set(args.object_sizes)), args.object_days, out)
        if not args.skip_cli:
            report_cli(out)
        _verdicts(out)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
        print(f"figures written to {args.json}")
    return 0
