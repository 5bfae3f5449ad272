"""Sensitivity indices of a sweep's outcomes, computed by SALib.

For each outcome the sweep asks for, the analysis takes the mean over replications at each design
point (:meth:`sim.experiments.sweep.SweepResult.point_means`) and hands it to SALib with the
design's own problem and samples:

* ``sobol``: first-order (``S1``) and total (``ST``) Sobol' indices with bootstrap confidence
  intervals (``SALib.analyze.sobol``, Saltelli/Jansen estimators). ``S1`` is the share of the
  outcome's variance a factor explains alone; ``ST`` adds its interactions; ``ST - S1`` large
  means the factor matters through interactions.
* ``morris``: ``mu_star`` (the mean absolute elementary effect: overall influence), ``sigma``
  (their spread: non-linearity or interactions) and a bootstrap interval of ``mu_star``
  (``SALib.analyze.morris``).
* ``lhs`` and ``grid``: no variance decomposition; Spearman rank correlations of each factor with
  the outcome, with a 95% interval from Fisher's z (``scipy.stats.spearmanr``).
* Every design also gets those rank correlations over its points (each factor is spread evenly
  over a Sobol' or Morris design too): the direction of each factor's main effect, and a
  cheaper, steadier signal than first-order indices from a small Sobol' sample.

Confidence intervals are 95% (``conf`` is the half-width). SALib's estimators need a value at
every point: an outcome missing at some point (``None`` in the summary, e.g. the contagion
multiplier of a run with no failure hit directly by a shock) is not analysed, and the table says
at how many points it was missing.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from sim.experiments.sweep import SweepResult

CONFIDENCE = 0.95
RESAMPLES = 1000  # bootstrap resamples of the confidence intervals
INDEX_COLUMNS = ["outcome", "factor", "index", "value", "conf", "low", "high"]
# Index names per method, in report order.
INDICES = {"sobol": ("S1", "ST", "spearman"), "morris": ("mu_star", "sigma", "spearman"),
           "lhs": ("spearman",), "grid": ("spearman",)}


def _rows(outcome: str, factors: list[str], index: str, values, confs) -> list[dict]:
    rows = []
    for factor, value, conf in zip(factors, values, confs, strict=True):
        value, conf = float(value), float(conf)
        rows.append({"outcome": outcome, "factor": factor, "index": index, "value": value,
                     "conf": conf, "low": value - conf, "high": value + conf})
    return rows


def _spearman(x: np.ndarray, y: np.ndarray) -> dict:
    """Spearman's rho and its 95% Fisher-z interval, as an index row's value, conf, low, high.

    The interval is ``tanh(atanh(rho) -+ z * sqrt(1.06 / (n - 3)))`` (Fieller, Hartley and
    Pearson 1957): asymmetric around rho and always inside [-1, 1], so its ends are kept as
    they are and ``conf`` is half its width.
    """
    if np.ptp(x) == 0 or np.ptp(y) == 0 or len(x) < 4:
        return {"value": math.nan, "conf": math.nan, "low": math.nan, "high": math.nan}
    rho = float(stats.spearmanr(x, y).statistic)
    z = math.atanh(min(max(rho, -0.999999), 0.999999))
    half = stats.norm.ppf(0.5 + CONFIDENCE / 2) * math.sqrt(1.06 / (len(x) - 3))
    low, high = math.tanh(z - half), math.tanh(z + half)
    return {"value": rho, "conf": (high - low) / 2, "low": low, "high": high}


def indices(result: SweepResult, seed: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sensitivity indices of every outcome the sweep asks for.

    Args:
        result: the finished sweep (every design point must have run).
        seed: of the bootstrap (default the design's seed), so the intervals are reproducible.

    Returns:
        (indices, missing): indices has one row per outcome x factor x index with columns
        :data:`INDEX_COLUMNS` (``factor`` is the dotted key); missing has one row per outcome
        with ``points_missing`` (design points without a value) and ``analysed`` (bool).

    Raises:
        ValueError: design points without any run.
    """
    sweep = result.sweep
    spec = sweep.spec
    method = spec.design.method
    done = set(result.runs["point"]) if len(result.runs) else set()
    if len(done) < len(sweep.points):
        raise ValueError(f"{len(sweep.points) - len(done)} design points have not run yet")
    seed = spec.design.seed if seed is None else seed
    factors = sweep.keys
    problem = sweep.problem()
    rows, missing = [], []
    for key in spec.outcomes:
        y = result.point_means(key) if key in result.runs else np.full(len(sweep.points), np.nan)
        gaps = int((~np.isfinite(y)).sum())
        analysed = gaps == 0 or method in ("lhs", "grid") and gaps < len(y) - 3
        missing.append({"outcome": key, "points_missing": gaps, "analysed": analysed})
        if not analysed:
            continue
        if method == "sobol":
            from SALib.analyze import sobol

            res = sobol.analyze(problem, y, calc_second_order=spec.design.second_order,
                                num_resamples=RESAMPLES, conf_level=CONFIDENCE, seed=seed)
            rows += _rows(key, factors, "S1", res["S1"], res["S1_conf"])
            rows += _rows(key, factors, "ST", res["ST"], res["ST_conf"])
        elif method == "morris":
            from SALib.analyze import morris

            res = morris.analyze(problem, sweep.unit, y, num_resamples=RESAMPLES,
                                 conf_level=CONFIDENCE, num_levels=spec.design.levels, seed=seed)
            rows += _rows(key, factors, "mu_star", res["mu_star"], res["mu_star_conf"])
            rows += _rows(key, factors, "sigma", res["sigma"], [math.nan] * len(factors))
        keep = np.isfinite(y)
        for f in factors:
            x = pd.to_numeric(sweep.points[f], errors="coerce").to_numpy(dtype=float)
            rows.append({"outcome": key, "factor": f, "index": "spearman",
                         **_spearman(x[keep], y[keep])})
    return (pd.DataFrame(rows, columns=INDEX_COLUMNS),
            pd.DataFrame(missing, columns=["outcome", "points_missing", "analysed"]))


def ranking(table: pd.DataFrame, outcome: str, index: str) -> pd.DataFrame:
    """The factors ordered by one index of one outcome, largest first.

    Args:
        table: from :func:`indices`.
        outcome: an outcome key.
        index: ``S1``, ``ST``, ``mu_star``, ``sigma`` or ``spearman`` (by absolute value).

    Returns:
        The matching rows, sorted.
    """
    rows = table[(table["outcome"] == outcome) & (table["index"] == index)]
    return rows.reindex(rows["value"].abs().sort_values(ascending=False).index)
