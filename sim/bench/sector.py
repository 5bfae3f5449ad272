"""The whole sector at 1:1: the China scenario at real scale for one simulated year.

``scenarios/china_2013_2020.toml`` runs one simulated platform for 20 real ones and one investor
for about 300. At 1:1 it has about 3,500 platforms (the 2015-2016 peak), 17 million investors
and 20 million borrowers. :func:`sector_run` runs it in a child process under a memory guard,
so that running out of memory stops the child instead of the kernel killing whatever else runs
on the machine; a wall-time budget stops it early, and the days done are reported.

The guard watches the child's resident memory (``VmRSS``, polled twice a second) and the
machine's available memory: the child is stopped when it passes ``max_gb`` or when less than
``MIN_FREE_GB`` is left for the other processes. (An address-space limit would also count
pages reserved and never touched, such as the loan book's spare capacity.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from sim import shipped

CHINA = shipped.resolve("china_2013_2020")
MIN_FREE_GB = 2.0  # stop the child when the machine has less than this available
SECTOR = {"platforms": 3_500, "investors": 17_000_000, "borrowers": 20_000_000}


def sector_overrides(scale: float, days: int) -> list[str]:
    """Scenario overrides for the sector at ``scale`` (1.0 is 1:1) over ``days`` days."""
    platforms = max(int(SECTOR["platforms"] * scale), 10)
    return [f"platforms.count={platforms}", f"platforms.max_platforms={2 * platforms}",
            f"investors.count={max(int(SECTOR['investors'] * scale), 100)}",
            f"borrowers.count={max(int(SECTOR['borrowers'] * scale), 100)}",
            "history.platforms_per_platform=1.0", f"run.days={days}"]


def _child(scale: float, days: int, budget_s: float) -> dict:
    """Build and run the sector in this process; figures as plain data."""
    from sim.bench import memory
    from sim.config import load_scenario
    from sim.model import P2PModel

    out: dict = {"scale": scale, "days_asked": days}
    before = memory.rss_mb()
    start = time.perf_counter()
    scenario = load_scenario(CHINA, sector_overrides(scale, days))
    model = P2PModel(scenario)
    out.update(build_s=time.perf_counter() - start, investors=scenario.investors.count,
               borrowers=scenario.borrowers.count, platforms=int(model.platforms.n))
    start = time.perf_counter()
    done = 0
    while done < days and time.perf_counter() - start < budget_s:
        model.step()
        done += 1
    out.update(days_done=done, simulate_s=time.perf_counter() - start,
               peak_mb=memory.peak_mb() - before,
               platforms_end=int(model.platforms.operating_mask().sum()))
    return out


def sector_run(scale: float = 1.0, days: int = 365, max_gb: float = 12.0,
               budget_s: float = 3600.0) -> dict:
    """Run the sector in a child process, stopped if it passes ``max_gb`` resident.

    Args:
        scale: share of the real sector (1.0 is 1:1).
        days: simulated days.
        max_gb: resident-memory limit of the child, GB.
        budget_s: stop stepping after this much wall time, seconds.

    Returns:
        Build and simulate time, days done, peak memory (MB) and the population, or
        ``error`` saying why it stopped (the memory guard, or the child's last line).
    """
    from sim.bench import memory

    cmd = [sys.executable, "-m", "sim.bench.sector", str(scale), str(days), str(budget_s)]
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "OMP_NUM_THREADS": "1"})
    status = Path(f"/proc/{child.pid}/status")
    stopped, peak = "", 0.0
    while child.poll() is None:
        try:
            kib = next(int(line.split()[1]) for line in status.read_text().splitlines()
                       if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            kib = 0
        peak = max(peak, kib * 1024 / 1e9)
        free = memory.available_mb()
        if peak > max_gb or (free is not None and free / 1e3 < MIN_FREE_GB):
            stopped = (f"stopped by the memory guard at {peak:.2f} GB resident "
                       f"({'over the limit' if peak > max_gb else 'machine nearly out of memory'})")
            child.kill()
            break
        time.sleep(0.5)
    out, err = child.communicate()
    wall = time.perf_counter() - start
    if stopped or child.returncode != 0:
        tail = stopped or (err.strip().splitlines() or ["(no output)"])[-1]
        return {"scale": scale, "days_asked": days, "error": tail, "wall_s": wall,
                "max_gb": max_gb, "peak_gb_seen": peak}
    return {**json.loads(out.strip().splitlines()[-1]), "wall_s": wall, "max_gb": max_gb,
            "peak_gb_seen": peak}

if __name__ == "__main__":
    print(json.dumps(_child(float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]))))
