"""Resident memory of this process, read from ``/proc`` (Linux), for per-investor figures.

The kernel keeps a high-water mark of the resident set (``VmHWM``) that writing ``5`` to
``/proc/self/clear_refs`` resets, so the peak of one measurement can be read apart from the
peaks of earlier ones in the same process. Elsewhere the functions fall back on
``getrusage`` (a peak that cannot be reset) and say so.
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_kib(field: str) -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_mb() -> float:
    """Resident memory now, MB (the lifetime peak where ``/proc`` is missing)."""
    kib = _status_kib("VmRSS")
    return kib * 1024 / 1e6 if kib is not None else peak_mb()


def peak_mb() -> float:
    """Peak resident memory since the last :func:`reset_peak` (or process start), MB."""
    kib = _status_kib("VmHWM")
    if kib is not None:
        return kib * 1024 / 1e6
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e6 if sys.platform == "darwin" else peak * 1024 / 1e6


def reset_peak() -> bool:
    """Reset the peak to the current resident memory; False where the kernel cannot."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def available_mb() -> float | None:
    """Memory the kernel says new allocations can have (``MemAvailable``), MB; None if unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        return None
    return None
