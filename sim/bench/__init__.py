"""Benchmarks of the engines (``p2psim bench``); see :mod:`sim.bench.main`."""

from sim.bench.draws import CountingGenerator, pcg64_words
from sim.bench.main import BASELINE, main

__all__ = ["BASELINE", "CountingGenerator", "main", "pcg64_words"]
