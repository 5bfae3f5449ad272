"""Giving freed memory back to the operating system promptly (glibc on Linux; elsewhere nothing).

The engine's daily temporaries are mostly 1-30 MB arrays at 10^6 investors. glibc's malloc
serves arrays below its mmap threshold from the heap, and that threshold rises by itself up to
32 MB as large blocks are freed; freed heap memory goes back to the system only when more than
the trim threshold (which rises with it, up to 64 MB) is free at the top of the heap, and free
blocks in the middle of the heap are never given back without ``malloc_trim``. A stressed year
at 10^6 investors thus held 100-160 MB of freed memory (the process's resident memory 417-444
MB where its arrays need about 283 MB after the build).

:func:`return_freed_memory_promptly` fixes the thresholds (``mallopt``): arrays below 32 MB stay
on the heap as before (mapping them afresh each time would fault their pages in every day:
twice the step time when tried with a 1 MB threshold), and free memory above 16 MB at the top of
the heap goes back at once (at 4 MB the heap shrank and grew back so often that the step took
5-10% longer; at 16 MB about 2%, at 32 MB 1% but 390 instead of 383 B per investor).
:func:`release_free_memory` (``malloc_trim``) gives back the free blocks inside the heap as
well, where the model's build leaves them. Neither changes any value computed.
"""

from __future__ import annotations

import ctypes
import sys

M_TRIM_THRESHOLD = -1  # mallopt parameters (glibc's malloc.h)
M_MMAP_THRESHOLD = -3
TRIM_BYTES = 16 << 20  # free memory at the heap's top above this goes back, bytes
MMAP_BYTES = 32 << 20  # arrays from this size are mapped on their own, bytes (glibc's maximum)

_libc: ctypes.CDLL | None = None
_tuned = False


def _glibc() -> ctypes.CDLL | None:
    """The process's C library if it is glibc (it has ``mallopt`` and ``malloc_trim``)."""
    global _libc
    if _libc is None and sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None)
            libc.gnu_get_libc_version  # noqa: B018 (glibc only: musl has no such function)
            libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
            libc.malloc_trim.argtypes = [ctypes.c_size_t]
        except (OSError, AttributeError):
            return None
        _libc = libc
    return _libc


def return_freed_memory_promptly() -> bool:
    """Fix glibc's mmap and trim thresholds for this process (once); False where not glibc."""
    global _tuned
    libc = _glibc()
    if libc is None:
        return False
    if not _tuned:
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_BYTES)
        libc.mallopt(M_TRIM_THRESHOLD, TRIM_BYTES)
        _tuned = True
    return True


def release_free_memory() -> bool:
    """Give every free page of the heap back to the system now; False where not glibc."""
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
