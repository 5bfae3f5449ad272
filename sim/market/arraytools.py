"""Small array helpers the engine uses everywhere: sums by group, fast sorts, distinct values."""

from __future__ import annotations

import numpy as np


def sum_by(index: np.ndarray, values, n: int) -> np.ndarray:
    """Sum ``values`` by ``index`` into a float array of length ``n`` (a typed ``bincount``)."""
    out = np.bincount(index, weights=values, minlength=n)
    return out.astype(np.float64, copy=False)[:n]


def small_keys(keys: np.ndarray) -> np.ndarray:
    """``keys`` shifted to start at 0 and cast to int16 when their range allows, else as given.

    A stable argsort of 16-bit integers is a radix sort, about twice as fast as the merge sort
    numpy uses for wider integers; the order is the same.
    """
    if len(keys) and int(keys.max()) - int(keys.min()) < np.iinfo(np.int16).max:
        return (keys - keys.min()).astype(np.int16)
    return keys


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (``np.unique`` without its overhead on integer arrays here)."""
    values = np.sort(values, kind="stable")
    if len(values) < 2:
        return values
    return values[np.r_[True, values[1:] != values[:-1]]]
