"""Charts of a sweep: sensitivity indices and each outcome against each factor.

Each chart takes DataFrames (the indices of :func:`sim.experiments.sensitivity.indices`, the
design points and their outcome means) and labels, and returns a bare
:class:`matplotlib.figure.Figure`; nothing here saves (:mod:`sim.outputs.results` writes the
PNGs). Outcome labels and units come from the outcome registry; money axes are scaled by
:mod:`sim.outputs.formatting`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy import stats

from sim import vocabulary
from sim.outputs import formatting

INDEX_FIGURE = {"sobol": "sobol.png", "morris": "morris.png", "lhs": "correlations.png",
                "grid": "correlations.png"}
SCATTER_FIGURE = "scatter.png"
EFFECTS_FIGURE = "effects.png"
MAX_EFFECT_LINES = 6
COLOURS = {"S1": "#1f77b4", "ST": "#d62728", "spearman": "#2ca02c"}
MAX_SCATTER_FACTORS = 8


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _outcome_label(key: str) -> str:
    return vocabulary.outcome(key).label


def plot_sobol(table: pd.DataFrame, labels: dict[str, str], subtitle: str) -> Figure:
    """Sobol' indices: per outcome, S1 and ST of every factor with 95% CIs, sorted by ST.

    Args:
        table: indices with ``outcome``, ``factor``, ``index`` (``S1``/``ST``), ``value``,
            ``conf``.
        labels: factor key -> label.
        subtitle: what was run (design, runs, scenario).

    Returns:
        The figure, one panel per outcome.
    """
    outcomes = list(dict.fromkeys(table["outcome"]))
    factors = list(dict.fromkeys(table["factor"]))
    fig = _figure(6.0 * max(1, len(outcomes)), 1.2 + 0.45 * len(factors))
    axes = fig.subplots(1, max(1, len(outcomes)), squeeze=False)[0]
    for ax, key in zip(axes, outcomes, strict=False):
        rows = table[table["outcome"] == key]
        st = rows[rows["index"] == "ST"].set_index("factor")
        s1 = rows[rows["index"] == "S1"].set_index("factor")
        order = st["value"].sort_values().index.tolist()
        y = np.arange(len(order))
        for offset, (name, part) in ((-0.18, ("S1", s1)), (0.18, ("ST", st))):
            ax.barh(y + offset, part.loc[order, "value"], height=0.34, color=COLOURS[name],
                    xerr=part.loc[order, "conf"], capsize=3, label=name,
                    error_kw={"elinewidth": 1, "ecolor": "#333"})
        ax.set_yticks(y, [labels.get(f, f) for f in order])
        ax.axvline(0, color="#888", lw=0.8)
        ax.set_xlim(min(-0.05, float(np.nanmin((st["value"] - st["conf"]).to_numpy(),
                                               initial=0))),
                    max(1.0, float(np.nanmax((st["value"] + st["conf"]).to_numpy(), initial=1))))
        ax.set_xlabel("share of the outcome's variance")
        ax.set_title(_outcome_label(key), fontsize=11)
        ax.grid(axis="x", alpha=0.3)
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, ["S1 first-order index", "ST total index"], loc="outside lower center",
               ncols=2, fontsize=9, title="bars: estimate; whiskers: 95% CI", title_fontsize=8)
    fig.suptitle(f"Sobol' sensitivity indices\n{subtitle}", fontsize=12)
    return fig


def plot_morris(table: pd.DataFrame, labels: dict[str, str], subtitle: str) -> Figure:
    """Morris screening: per outcome, each factor's mu* (with 95% CI) against sigma.

    Args:
        table: indices with ``index`` ``mu_star`` and ``sigma``.
        labels: factor key -> label.
        subtitle: what was run.

    Returns:
        The figure, one panel per outcome.
    """
    outcomes = list(dict.fromkeys(table["outcome"]))
    fig = _figure(5.5 * max(1, len(outcomes)), 4.8)
    axes = fig.subplots(1, max(1, len(outcomes)), squeeze=False)[0]
    for ax, key in zip(axes, outcomes, strict=False):
        rows = table[table["outcome"] == key]
        mu = rows[rows["index"] == "mu_star"].set_index("factor")
        sigma = rows[rows["index"] == "sigma"].set_index("factor")["value"]
        divisor, unit = formatting.scale(mu["value"], vocabulary.outcome(key).unit)
        ax.errorbar(mu["value"] / divisor, sigma.loc[mu.index] / divisor,
                    xerr=mu["conf"] / divisor, fmt="o", color="#1f77b4", ecolor="#999",
                    capsize=3)
        for factor in mu.index:
            ax.annotate(labels.get(factor, factor), (mu.loc[factor, "value"] / divisor,
                                                     sigma.loc[factor] / divisor),
                        fontsize=8, xytext=(4, 4), textcoords="offset points")
        suffix = f" ({unit})" if unit else ""
        ax.set_xlabel(f"mu* (mean |elementary effect|){suffix}")
        ax.set_ylabel(f"sigma (spread of effects){suffix}")
        ax.set_title(_outcome_label(key), fontsize=11)
        ax.grid(alpha=0.3)
    fig.suptitle(f"Morris screening\n{subtitle}", fontsize=12)
    return fig


def plot_correlations(table: pd.DataFrame, labels: dict[str, str], subtitle: str) -> Figure:
    """Spearman rank correlation of each factor with each outcome, with 95% CIs.

    Args:
        table: indices with ``index`` ``spearman``.
        labels: factor key -> label.
        subtitle: what was run.

    Returns:
        The figure, one panel per outcome.
    """
    outcomes = list(dict.fromkeys(table["outcome"]))
    factors = list(dict.fromkeys(table["factor"]))
    fig = _figure(5.5 * max(1, len(outcomes)), 1.2 + 0.4 * len(factors))
    axes = fig.subplots(1, max(1, len(outcomes)), squeeze=False)[0]
    for ax, key in zip(axes, outcomes, strict=False):
        rows = table[table["outcome"] == key].set_index("factor").loc[factors]
        y = np.arange(len(factors))
        ax.barh(y, rows["value"], xerr=rows["conf"], color=COLOURS["spearman"], capsize=3)
        ax.set_yticks(y, [labels.get(f, f) for f in factors])
        ax.axvline(0, color="#888", lw=0.8)
        ax.set_xlim(-1, 1)
        ax.set_xlabel("Spearman rank correlation")
        ax.set_title(_outcome_label(key), fontsize=11)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(f"Rank correlations of factors with outcomes\n{subtitle}", fontsize=12)
    return fig


def plot_scatter(points: pd.DataFrame, means: pd.DataFrame, labels: dict[str, str],
                 subtitle: str) -> Figure:
    """Each outcome (mean over replications) against each factor, one dot per design point.

    Args:
        points: design points, one column per factor key.
        means: outcome means per point (one column per outcome key), aligned with ``points``.
        labels: factor key -> label.
        subtitle: what was run.

    Returns:
        The figure: outcomes in rows, factors (at most :data:`MAX_SCATTER_FACTORS`) in columns.
    """
    factors = list(points.columns)[:MAX_SCATTER_FACTORS]
    outcomes = list(means.columns)
    fig = _figure(2.6 * len(factors) + 0.6, 2.3 * len(outcomes) + 0.8)
    axes = fig.subplots(len(outcomes), len(factors), squeeze=False, sharey="row")
    for r, key in enumerate(outcomes):
        y = means[key].to_numpy(dtype=float)
        divisor, unit = formatting.scale(y, vocabulary.outcome(key).unit)
        for c, factor in enumerate(factors):
            ax = axes[r][c]
            x = points[factor]
            if x.dtype == bool or x.dtype == object:
                codes = {v: i for i, v in enumerate(sorted(dict.fromkeys(x), key=str))}
                jitter = np.random.default_rng(c).uniform(-0.15, 0.15, len(x))
                ax.scatter(x.map(codes) + jitter, y / divisor, s=8, alpha=0.6)
                ax.set_xticks(list(codes.values()), [str(v) for v in codes])
            else:
                ax.scatter(x.to_numpy(dtype=float), y / divisor, s=8, alpha=0.6)
            if r == len(outcomes) - 1:
                ax.set_xlabel(labels.get(factor, factor), fontsize=8)
            if c == 0:
                label = _outcome_label(key)
                ax.set_ylabel(f"{label}\n({unit})" if unit else label, fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
    fig.suptitle(f"Outcomes against factors (mean over replications per design point)\n"
                 f"{subtitle}", fontsize=11)
    return fig


def _mean_and_half_width(values: pd.Series) -> tuple[float, float]:
    """Mean and the half-width of its 95% t-interval (0 with one value)."""
    finite = values.to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    if not len(finite):
        return math.nan, 0.0
    if len(finite) < 2:
        return float(finite.mean()), 0.0
    sem = finite.std(ddof=1) / math.sqrt(len(finite))
    return float(finite.mean()), float(stats.t.ppf(0.975, len(finite) - 1) * sem)


def plot_grid_effects(runs: pd.DataFrame, factors: list[str], outcomes: list[str],
                      labels: dict[str, str], subtitle: str) -> Figure | None:
    """Each outcome against the first numeric factor, one line per level of another factor.

    The interaction plot of a full grid: the mean over replications at each point with its
    95% t-interval (replications are paired on seeds, so lines are compared on the same draws).

    Args:
        runs: one row per run, with a column per factor key and per outcome key.
        factors: factor keys of the grid, in design order.
        outcomes: outcome keys to draw, one panel each.
        labels: factor key -> label.
        subtitle: what was run.

    Returns:
        The figure, or None when no factor is numeric or the grid has more than two factors.
    """
    numeric = [f for f in factors if runs[f].dtype.kind in "if" and runs[f].nunique() > 1]
    if not numeric or len(factors) > 2:
        return None
    x_key = numeric[0]
    line_key = next((f for f in factors if f != x_key), None)
    line_levels = [None] if line_key is None else list(dict.fromkeys(runs[line_key]))
    if len(line_levels) > MAX_EFFECT_LINES:
        return None
    fig = _figure(4.2 * min(len(outcomes), 2) + 0.4, 3.0 * math.ceil(len(outcomes) / 2) + 0.9)
    axes = fig.subplots(math.ceil(len(outcomes) / 2), min(len(outcomes), 2), squeeze=False)
    for n, key in enumerate(outcomes):
        ax = axes[n // 2][n % 2]
        divisor, unit = formatting.scale(runs[key].to_numpy(dtype=float),
                                         vocabulary.outcome(key).unit)
        for level in line_levels:
            rows = runs if line_key is None else runs[runs[line_key] == level]
            xs = sorted(rows[x_key].unique())
            stats_ = [_mean_and_half_width(rows.loc[rows[x_key] == x, key]) for x in xs]
            mean = np.array([m for m, _ in stats_]) / divisor
            half = np.array([h for _, h in stats_]) / divisor
            name = None if line_key is None else f"{labels.get(line_key, line_key)}: {level}"
            ax.errorbar(xs, mean, yerr=half, marker="o", ms=4, capsize=3, label=name)
        label = _outcome_label(key)
        ax.set_title(label, fontsize=9)
        ax.set_ylabel(unit or "", fontsize=8)
        ax.set_xlabel(labels.get(x_key, x_key), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        if line_key is not None and n == 0:
            ax.legend(fontsize=7)
    for n in range(len(outcomes), axes.size):
        axes[n // 2][n % 2].set_visible(False)
    fig.suptitle(f"Outcomes across the grid (mean over replications, 95% interval)\n{subtitle}",
                 fontsize=11)
    return fig


def sweep_figures(method: str, table: pd.DataFrame, points: pd.DataFrame, means: pd.DataFrame,
                  labels: dict[str, str], subtitle: str,
                  runs: pd.DataFrame | None = None) -> dict[str, Figure]:
    """Every figure of a sweep report.

    Args:
        method: the design (``sobol``, ``morris``, ``lhs``, ``grid``).
        table: the indices.
        points: design points.
        means: outcome means per point.
        labels: factor key -> label.
        subtitle: what was run.
        runs: one row per run (factor and outcome columns); a grid of one or two factors then
            gets its interaction plot (:func:`plot_grid_effects`).

    Returns:
        File name -> figure: the index chart (when any outcome was analysed), the grid's
        interaction plot, then the scatter.
    """
    figures: dict[str, Figure] = {}
    if len(table):
        plot = {"sobol": plot_sobol, "morris": plot_morris}.get(method, plot_correlations)
        figures[INDEX_FIGURE[method]] = plot(table, labels, subtitle)
    finite = means.loc[:, [c for c in means.columns if np.isfinite(means[c]).any()]]
    if method == "grid" and runs is not None and finite.shape[1]:
        effects = plot_grid_effects(runs, list(points.columns), list(finite.columns), labels,
                                    subtitle)
        if effects is not None:
            figures[EFFECTS_FIGURE] = effects
    if finite.shape[1] and not math.isnan(float(finite.count().min())):
        figures[SCATTER_FIGURE] = plot_scatter(points, finite, labels, subtitle)
    return figures
