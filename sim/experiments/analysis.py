"""Statistics of a comparison: means, paired differences, t intervals, bands and significance.

Every policy set runs the same replication seeds (common random numbers), so each set's outcome
is compared with the reference set's replication by replication. For each set and outcome:

* the mean over the replications that have a value;
* Δ, the mean of the per-replication differences from the reference;
* a Student-t confidence interval for Δ, mean ± t(0.975, n−1)·sd/√n of the differences; with
  fewer than two pairs there is no interval (NaN).

``None`` outcomes (e.g. a fund that never ran dry) arrive as NaN and are left out of the mean
and of the pairs. Which outcomes are compared, and in what order, comes from the outcome
registry (:func:`sim.vocabulary.outcomes`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy import stats

from sim.vocabulary import outcomes

CONFIDENCE = 0.95

# Columns of the runs table that name a run rather than measure it.
RUN_COLUMNS = ("set", "replication", "seed")
# Not compared: ``days`` is the same in every run, and the shares of failures by cause are
# ratios of the ``failures_*`` counts, which are compared themselves.
NOT_COMPARED = ("days",)
NOT_COMPARED_PREFIXES = ("failure_share_",)

TABLE_COLUMNS = ["set", "outcome", "mean", "diff", "ci_low", "ci_high", "n"]


def compared_outcomes(columns: Iterable[str]) -> list[str]:
    """The outcomes among ``columns`` that a comparison reports, in report order.

    Registered outcomes come first, in registry order; outcomes the registry does not list yet
    follow in the order of ``columns``, so a new summary value is compared rather than lost.

    Args:
        columns: column names of a runs table (summary keys plus :data:`RUN_COLUMNS`).

    Returns:
        Outcome keys, without run identifiers, :data:`NOT_COMPARED` keys and shares of failures.
    """
    present = [c for c in columns if c not in RUN_COLUMNS and c not in NOT_COMPARED
               and not c.startswith(NOT_COMPARED_PREFIXES)]
    wanted = set(present)
    registered = [o.key for o in outcomes() if o.key in wanted]
    known = set(registered)
    return registered + [c for c in present if c not in known]


def t_quantile(n: int, confidence: float = CONFIDENCE) -> float:
    """Two-sided Student-t quantile for ``n`` observations.

    Args:
        n: observations (the degrees of freedom are ``n - 1``).
        confidence: e.g. 0.95 for the 0.975 quantile.

    Returns:
        The quantile, or NaN below two observations.
    """
    if n < 2:
        return math.nan
    return float(stats.t.ppf(0.5 + confidence / 2, n - 1))


def mean_ci(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float, int]:
    """Mean of the finite values and its t confidence interval.

    Args:
        values: observations; NaN ones are left out.
        confidence: of the interval.

    Returns:
        (mean, low, high, n); the interval is NaN with fewer than two values, everything with
        none.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan, n
    half = t_quantile(n, confidence) * float(x.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half, n


def paired_difference(values: np.ndarray, baseline: np.ndarray,
                      confidence: float = CONFIDENCE) -> tuple[float, float, float, int]:
    """Mean of per-replication differences ``values - baseline`` and its t interval.

    Replications where either value is missing (NaN) are left out.

    Args:
        values: one set's outcome, one value per replication.
        baseline: the reference set's outcome, in the same replication order.
        confidence: of the interval.

    Returns:
        (difference, ci_low, ci_high, n pairs); the interval is NaN with fewer than 2 pairs.
    """
    diff = np.asarray(values, dtype=float) - np.asarray(baseline, dtype=float)
    return mean_ci(diff, confidence)


def compare_outcomes(runs: pd.DataFrame, set_names: list[str]) -> pd.DataFrame:
    """The long comparison table.

    Args:
        runs: one row per set x replication (columns ``set``, ``replication`` and outcomes).
        set_names: set order; the first is the reference.

    Returns:
        One row per set x outcome (outcomes from :func:`compared_outcomes`): ``mean`` (over
        replications with a value), ``diff`` (paired mean difference from the reference),
        ``ci_low`` / ``ci_high`` (95% t interval of the difference) and ``n`` (replications
        paired).
    """
    reference = runs[runs["set"] == set_names[0]].set_index("replication")
    keys = compared_outcomes(runs.columns)
    rows = []
    for name in set_names:
        group = runs[runs["set"] == name].set_index("replication")
        for key in keys:
            values = group[key].astype(float)
            base = reference[key].astype(float).reindex(values.index)
            finite = values.to_numpy()[np.isfinite(values.to_numpy())]
            diff, low, high, n = paired_difference(values.to_numpy(), base.to_numpy())
            rows.append({"set": name, "outcome": key,
                         "mean": float(finite.mean()) if finite.size else math.nan,
                         "diff": diff, "ci_low": low, "ci_high": high, "n": n})
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def significant(row) -> bool:
    """Whether a comparison-table row's confidence interval excludes zero.

    A difference that is the same in every replication has an interval of zero width: the t
    rule has no spread to work with, so it says nothing about the difference, and such a row is
    never significant (:func:`zero_variance` finds them; the tables say so).

    Args:
        row: a row of :func:`compare_outcomes` (anything with ``ci_low`` and ``ci_high``).

    Returns:
        True when both ends are finite, the interval has a width, and it lies on one side of
        zero.
    """
    low, high = row["ci_low"], row["ci_high"]
    return bool(np.isfinite(low) and np.isfinite(high) and high > low
                and (low > 0 or high < 0))


def zero_variance(row) -> bool:
    """Whether a row's paired difference is the same, and not zero, in every replication."""
    low, high = row["ci_low"], row["ci_high"]
    return bool(np.isfinite(low) and np.isfinite(high) and high == low and low != 0)


def verdict(row, better: int) -> str:
    """How a set's difference from the reference reads, given the better direction.

    The reference set's own row never qualifies: its differences are all zero.

    Args:
        row: a row of :func:`compare_outcomes`.
        better: -1 lower is better, +1 higher is better, 0 neither
            (:attr:`sim.vocabulary.Outcome.better`).

    Returns:
        ``"good"`` or ``"bad"`` when the interval excludes zero on the better or worse side,
        ``"changed"`` when it excludes zero and neither side is better, ``""`` otherwise.
    """
    if not significant(row):
        return ""
    if better == 0:
        return "changed"
    return "good" if np.sign(row["diff"]) == better else "bad"


def series_bands(series: pd.DataFrame, column: str, rolling: int = 1,
                 confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Mean and t confidence band across replications of one daily series, per set.

    Args:
        series: long daily table with ``set``, ``replication``, ``day`` and ``column``
            (:attr:`sim.experiments.compare.Comparison.series`).
        column: the series.
        rolling: trailing rolling mean over this many days within each run first (e.g. 7 for a
            noisy daily flow).
        confidence: of the band.

    Returns:
        Columns ``set``, ``day``, ``mean``, ``low``, ``high``, ``n`` (band = mean ± t·se; equal
        to the mean with one replication).
    """
    df = series[["set", "replication", "day", column]].copy()
    if rolling > 1:
        df[column] = (df.groupby(["set", "replication"], sort=False)[column]
                      .transform(lambda s: s.rolling(rolling, min_periods=1).mean()))
    grouped = df.groupby(["set", "day"], sort=False)[column]
    out = grouped.agg(mean="mean", sd="std", n="count").reset_index()
    t = out["n"].map(lambda n: t_quantile(int(n), confidence))
    half = (t * out["sd"] / np.sqrt(out["n"])).fillna(0.0)
    out["low"], out["high"] = out["mean"] - half, out["mean"] + half
    return out[["set", "day", "mean", "low", "high", "n"]]
