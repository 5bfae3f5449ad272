"""Counting random draws: a proxy that counts values, and the exact PCG64 word count."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

# PCG64 (numpy's default bit generator) is a 128-bit LCG; one step of it is one 64-bit word.
_PCG64_MULTIPLIER = 0x2360ED051FC65DA44385DF649FCCF645
_MASK128 = (1 << 128) - 1


class CountingGenerator:
    """A thin proxy on a :class:`numpy.random.Generator` counting the values it hands out.

    Every method call is forwarded unchanged (so the model draws exactly the numbers it would
    have drawn); the number of values returned is added to :attr:`values` and to
    :attr:`by_method`.

    Args:
        generator: the generator to wrap.
    """

    def __init__(self, generator: np.random.Generator) -> None:
        self.generator = generator
        self.values = 0
        self.by_method: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.generator, name)
        if not callable(attr):
            return attr

        def counted(*args, **kwargs):
            out = attr(*args, **kwargs)
            # In-place methods (shuffle) return None: count the array they permuted.
            k = int(np.size(args[0] if out is None and args else out))
            self.values += k
            self.by_method[name] += k
            return out

        return counted


def pcg64_words(before: dict, after: dict) -> int | None:
    """64-bit words a PCG64 generator produced between two of its ``bit_generator.state``.

    Solves for the LCG distance bit by bit (O'Neill's ``pcg_advance`` run backwards), so it is
    exact and costs about 128 big-integer steps.

    Args:
        before: ``generator.bit_generator.state`` earlier.
        after: the same later.

    Returns:
        The number of words, or ``None`` if the bit generator is not PCG64.
    """
    if before.get("bit_generator") != "PCG64" or after.get("bit_generator") != "PCG64":
        return None
    state, target = before["state"]["state"], after["state"]["state"]
    mult, inc = _PCG64_MULTIPLIER, before["state"]["inc"]
    distance, bit = 0, 1
    while state != target:
        if (state ^ target) & bit:
            state = (state * mult + inc) & _MASK128
            distance |= bit
        bit <<= 1
        inc = ((mult + 1) * inc) & _MASK128
        mult = (mult * mult) & _MASK128
    return distance
