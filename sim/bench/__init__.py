"""Benchmarks of the engines (``p2psim bench``): :func:`sim.bench.main.main`.

Nothing is imported here until it is asked for: ``python -m sim.bench.endtoend`` times the
command line's imports from a fresh interpreter, and importing the benchmark package first
would count them as start-up.
"""

from __future__ import annotations

from sim import shipped

BASELINE = shipped.resolve("baseline")  # works outside the repository too


def __getattr__(name: str):
    """``CountingGenerator`` and ``pcg64_words`` of :mod:`sim.bench.draws`, loaded on use."""
    if name in ("CountingGenerator", "pcg64_words"):
        from sim.bench import draws

        return getattr(draws, name)
    raise AttributeError(name)


__all__ = ["BASELINE", "CountingGenerator", "pcg64_words"]
