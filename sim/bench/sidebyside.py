"""The array engine against the object engine (the executable specification), day by day.

Both engines are built on the same stress scenario and seed and stepped alternately, one day
each, so that they run the very same days under the same load of a shared machine. Both draw
identical random numbers; the 64-bit words each day took from each generator are compared (see
:func:`sim.bench.draws.pcg64_words`), so the table can say the work was the same.
"""

from __future__ import annotations

import gc
import time
from dataclasses import asdict, dataclass

from sim.bench.draws import pcg64_words
from sim.bench.year import stress_year
from sim.model import P2PModel


@dataclass
class SideBySide:
    """Both engines over the same days at one size.

    Attributes:
        investors: population size.
        days: days stepped by both (days 1 to ``days``).
        array_s: wall time of each array day, seconds.
        object_s: wall time of each object day, seconds.
        identical_draws: every day drew the same 64-bit words in both engines.
        array_build_s: array model construction, seconds.
        object_build_s: object model construction, seconds.
    """

    investors: int
    days: int
    array_s: list[float]
    object_s: list[float]
    identical_draws: bool
    array_build_s: float
    object_build_s: float

    @property
    def speedup(self) -> float:
        """Object time over array time on the same days."""
        return sum(self.object_s) / sum(self.array_s)

    def as_json(self) -> dict:
        """Plain data, the speed-up included."""
        return {**asdict(self), "speedup": self.speedup}


def side_by_side(investors: int, days: int) -> SideBySide:
    """Step an array and an object model of the stress scenario alternately for ``days`` days.

    Args:
        investors: population size.
        days: days for each engine.

    Returns:
        The timings.
    """
    scenario = stress_year(investors, max(days, 1) + 1)
    gc.collect()
    start = time.perf_counter()
    array = P2PModel(scenario, engine="array")
    array_build = time.perf_counter() - start
    start = time.perf_counter()
    obj = P2PModel(scenario, engine="object")
    object_build = time.perf_counter() - start
    times: dict[str, list[float]] = {"array": [], "object": []}
    identical = True
    for _ in range(days):
        words = {}
        for name, model in (("array", array), ("object", obj)):
            before = model.rng.bit_generator.state
            start = time.perf_counter()
            model.step()
            times[name].append(time.perf_counter() - start)
            words[name] = pcg64_words(before, model.rng.bit_generator.state)
        identical &= words["array"] == words["object"] and words["array"] is not None
    return SideBySide(investors=investors, days=days, array_s=times["array"],
                      object_s=times["object"], identical_draws=identical,
                      array_build_s=array_build, object_build_s=object_build)
