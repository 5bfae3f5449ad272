"""Figures of a calibration: each simulated series against its target, and the search's progress.

* :func:`fit_figure`: one panel per quantity of the targets file. The target is drawn with a
  bar of +-2 sd (the target's own error), the simulated mean at the estimate with the 95%
  interval of its replications, and the starting point's mean (the scenario as given) in grey.
* :func:`convergence_figure`: the objective ``Q = g'Wg`` of every parameter vector the search
  tried, in the order tried, and the best so far (log scale).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.outputs.history_plots import SIMULATED, TARGET

START = "#9a9a9a"


def fit_figure(moments: pd.DataFrame, title: str) -> Figure:
    """Simulated moments against targets, one panel per quantity.

    Args:
        moments: :meth:`sim.experiments.calibrate.CalibrationResult.moments_table`.
        title: the figure's title.

    Returns:
        The figure.
    """
    quantities = list(dict.fromkeys(moments["quantity"]))
    cols = min(3, len(quantities))
    rows = math.ceil(len(quantities) / cols)
    fig = Figure(figsize=(4.3 * cols, 3.2 * rows + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax, quantity in zip(axes, quantities, strict=False):
        part = moments[moments["quantity"] == quantity]
        # Years (or "any") as categories: a missing year leaves no gap to misread as a trend.
        x = np.arange(len(part), dtype=float)
        line = "-" if len(part) > 1 else ""
        ax.errorbar(x - 0.1, part["target"], yerr=2 * part["target_sd"], fmt="s" + line,
                     color=TARGET, capsize=3, lw=1.0, label="target +-2 sd")
        sim = part["simulated"].to_numpy()
        err = np.vstack([sim - part["sim_low"].to_numpy(), part["sim_high"].to_numpy() - sim])
        ax.errorbar(x + 0.1, sim, yerr=np.clip(err, 0, None), fmt="o" + line, color=SIMULATED,
                    capsize=3, lw=1.6, label="fitted (95% of runs)")
        ax.plot(x, part["start_simulated"], "x:" if line else "x", color=START, lw=1.0,
                label="start")
        ax.set_xticks(x, [str(y) for y in part["year"]])
        ax.set_xlim(-0.6, len(part) - 0.4)
        ax.set_title(f"{quantity}\n({part['unit'].iloc[0]})", fontsize=9, loc="left")
        ax.grid(True, color="#dddddd", lw=0.6)
        ax.set_axisbelow(True)
    for ax in axes[len(quantities):]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    return fig


def convergence_figure(evaluations: pd.DataFrame, title: str) -> Figure:
    """The objective of every vector tried and the best so far.

    Args:
        evaluations: ``evaluation`` and ``objective`` columns, in the order tried.
        title: the figure's title.

    Returns:
        The figure.
    """
    fig = Figure(figsize=(6.4, 3.6), layout="constrained")
    ax = fig.subplots()
    q = evaluations["objective"].to_numpy(dtype=float)
    n = np.arange(1, len(q) + 1)
    finite = np.isfinite(q)
    ax.plot(n[finite], q[finite], ".", color=START, label="each parameter vector")
    best = np.minimum.accumulate(np.where(finite, q, np.inf))
    ax.step(n, best, where="post", color=SIMULATED, lw=1.8, label="best so far")
    ax.set_yscale("log")
    ax.set_xlabel("parameter vectors tried (search order)")
    ax.set_ylabel("objective Q = g'Wg")
    ax.grid(True, color="#dddddd", lw=0.6)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10, loc="left")
    return fig
