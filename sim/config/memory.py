"""How much memory a scenario needs, estimated before anything is allocated.

A run holds arrays per investor (positions), per borrower (the loan book), per platform slot
(``max_platforms``, with its funding windows), and records a row per day and a row per platform
per day. :func:`estimate_bytes` adds these up with per-item costs measured on this code (peak RSS
of runs at several sizes, rounded up), times a margin for temporaries; :func:`check_memory`
refuses a scenario whose estimate exceeds the memory the machine has free (``MemAvailable``), so
``investors.count = 1000000000`` is one clear message instead of a MemoryError after minutes.

The estimate is deliberately generous: refusing a run that would just fit is better than
swapping the machine to a halt, and the message gives both numbers.
"""

from __future__ import annotations

import os
from typing import Any

from sim.schema import ScenarioError

# Bytes, measured (peak RSS at 20,000 and 200,000 investors, 4,000 and 100,000 borrowers,
# 100 and 2,000 platforms) and rounded up.
LIBRARIES = 250 * 2**20  # numpy, pandas, Mesa and the model's modules, loaded after the check
PER_INVESTOR = 1_000  # cash, fear, beliefs and max_holdings position slots
PER_INVESTOR_AGENT = 2_500  # a Mesa agent object per investor (object engine)
PER_NEIGHBOUR = 80  # one edge of the herding network, both ends
PER_BORROWER = 400  # its arrays and about four loans' slots in the loan book
PER_PLATFORM_SLOT = 600  # a slot's balance sheet and state (max_platforms slots)
PER_PLATFORM_DAY = 80  # a platform's row of the daily panel and its windows
PER_DAY = 4_000  # the market's row of the daily series and the day's events
MARGIN = 1.5  # temporaries: sorting, grouping and the output tables built at the end


def estimate_bytes(sc: Any) -> int:
    """Estimated peak memory of one run of ``sc``, bytes.

    Args:
        sc: a validated :class:`sim.config.Scenario`.

    Returns:
        The estimate, libraries included.
    """
    pc, ic = sc.platforms, sc.investors
    days = sc.run.days
    investors = ic.count * (PER_INVESTOR + 8 * 4 * ic.max_holdings)
    if sc.run.engine == "object":
        investors += ic.count * PER_INVESTOR_AGENT
    if sc.channels.herding.enabled:
        investors += ic.count * sc.channels.herding.neighbours * PER_NEIGHBOUR
    borrowers = sc.borrowers.count * PER_BORROWER
    slots = pc.max_platforms * (PER_PLATFORM_SLOT + 2 * 8 * pc.funding_window_days)
    # Platforms that exist on some day: those of day 0 and the expected entrants, at most the
    # slots there are.
    platforms = min(pc.max_platforms,
                    pc.count + len(pc.custom) + int(pc.entry_per_year * days / 365) + 1)
    recorded = platforms * days * PER_PLATFORM_DAY + days * PER_DAY
    return int(LIBRARIES + MARGIN * (investors + borrowers + slots + recorded))


def available_bytes() -> int | None:
    """Memory free for a new process now (``MemAvailable``), or ``None`` if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _gb(n: float) -> str:
    return f"{n / 2**30:,.1f} GB" if n >= 2**30 else f"{n / 2**20:,.0f} MB"


def check_memory(sc: Any, source: str = "scenario", copies: int = 1) -> int:
    """Refuse a scenario that would not fit in memory; return its estimate.

    Args:
        sc: a validated scenario.
        source: what to call it in the message (the file name).
        copies: runs held in memory at once (parallel workers).

    Returns:
        The estimate for one run, bytes.

    Raises:
        ScenarioError: the estimate times ``copies`` exceeds the memory available; the message
            gives both, and the sizes that drive the estimate.
    """
    need = estimate_bytes(sc)
    limit = available_bytes()
    if limit is not None and need * copies > limit:
        each = f" ({copies} runs at once, {_gb(need)} each)" if copies > 1 else ""
        raise ScenarioError(
            f"{source}: needs about {_gb(need * copies)} of memory{each} but {_gb(limit)} is "
            f"available (MemAvailable): {sc.investors.count:,} investors, "
            f"{sc.borrowers.count:,} borrowers, {sc.platforms.max_platforms:,} platform slots, "
            f"{sc.run.days:,} days. Make the scenario smaller"
            f"{' or use fewer workers' if copies > 1 else ''}.")
    return need
