"""Charts of a policy comparison.

Paired differences, efficiency against stability, and daily series with confidence bands per
policy set.

Each chart takes the comparison's tables (DataFrames) and a :class:`ComparisonInfo` and returns
a bare :class:`matplotlib.figure.Figure` (never pyplot, as in :mod:`sim.outputs.plots`); nothing
here saves (:mod:`sim.outputs.results` writes the PNGs). Money is in yuan, scaled to
thousand/million/billion yuan where the axis says so; x is the day. Every set keeps one colour
across the figures, and the baseline ``none`` is dark grey.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sim import vocabulary
from sim.experiments import analysis
from sim.experiments.compare import Comparison
from sim.experiments.policy_sets import BASELINE
from sim.outputs import formatting
from sim.outputs.formatting import money_scale
from sim.outputs.plots import shade_shocks
from sim.vocabulary import Unit

BASELINE_COLOUR = "#444444"
# Differences whose CI excludes 0: in the better direction, the worse one, or with no better one.
VERDICT_COLOURS = {"good": "#1b7f3b", "bad": "#b3261e", "changed": "#1f4e9c"}
# Dark, distinct colours that stay readable as thin lines and small labels on white.
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#17becf", "#bcbd22", "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e",
           "#a6761d", "#386cb0", "#f0027f", "#bf5b17")

DIFF_FIGURE = "differences.png"
FRONTIER_FIGURE = "efficiency_stability.png"
# Over-time figures: (file, series, rolling days, title, unit of the y axis).
TIME_FIGURES = (
    ("ts_platforms_operating.png", "platforms_operating", 1,
     "Platforms operating (active or distressed)", Unit.COUNT),
    ("ts_daily_outflow.png", "payouts", 7,
     "Daily outflow to investors (payouts incl. estate payouts), 7-day mean", Unit.YUAN_PER_DAY),
    ("ts_investor_losses.png", "investor_losses", 1,
     "Investor losses after cover: written off plus open estates' expected shortfall", Unit.YUAN),
    ("ts_loans_outstanding.png", "loans_outstanding", 1,
     "Credit outstanding (loans on platforms' books)", Unit.YUAN),
)


@dataclass(frozen=True)
class ComparisonInfo:
    """What a comparison's charts say about it besides its tables.

    Attributes:
        scenario: the scenario's name.
        days: days of every run.
        seeds: replication seeds (the same for every set).
        set_names: policy sets in order, ``none`` first.
        shocks: (first day, duration in days) of every scheduled shock, shaded on the charts.
    """

    scenario: str
    days: int
    seeds: tuple[int, ...]
    set_names: tuple[str, ...]
    shocks: tuple[tuple[int, int], ...] = ()

    @classmethod
    def of(cls, comp: Comparison) -> ComparisonInfo:
        """The facts the charts need from a comparison."""
        sc = comp.scenario
        return cls(scenario=sc.name, days=sc.run.days, seeds=tuple(comp.seeds),
                   set_names=tuple(comp.set_names),
                   shocks=tuple((s.start, s.duration) for s in sc.shocks))

    @property
    def replications(self) -> int:
        """Replications per set."""
        return len(self.seeds)


def set_colours(names) -> dict[str, str]:
    """A colour per set, ``none`` dark grey; stable across every figure.

    Args:
        names: the set names in order.

    Returns:
        Set name -> colour.
    """
    colours = {BASELINE: BASELINE_COLOUR}
    for i, name in enumerate(n for n in names if n != BASELINE):
        colours[name] = PALETTE[i % len(PALETTE)]
    return colours


def _rows(table: pd.DataFrame) -> dict[tuple[str, str], pd.Series]:
    """The comparison table keyed by (set, outcome)."""
    return {(r["set"], r["outcome"]): r for _, r in table.iterrows()}


def _subtitle(info: ComparisonInfo) -> str:
    return (f"scenario {info.scenario}, {info.replications} replication"
            f"{'s' if info.replications != 1 else ''} per set (seeds {info.seeds[0]}"
            f"{'' if info.replications == 1 else f'-{info.seeds[-1]}'}), "
            f"{info.days:,} days; bands: 95% CI of the mean")


def plot_time_bands(bands: pd.DataFrame, info: ComparisonInfo, title: str,
                    unit: Unit) -> Figure:
    """Small multiples: one panel per policy set, its mean and 95% band over the baseline's.

    Args:
        bands: one daily series' bands per set (:func:`sim.experiments.analysis.series_bands`).
        info: the comparison.
        title: what the series is.
        unit: of the series (money is scaled; anything else is a count of platforms).

    Returns:
        The figure.
    """
    names = list(info.set_names[1:]) or [BASELINE]
    colours = set_colours(info.set_names)
    ncols = min(4, len(names))
    nrows = math.ceil(len(names) / ncols)
    fig = Figure(figsize=(3.4 * ncols + 0.6, 2.4 * nrows + 1.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)).ravel()
    money = unit in (Unit.YUAN, Unit.YUAN_PER_DAY)
    if money:
        scale, ylabel = formatting.scale(bands["high"], unit)
    else:
        scale, ylabel = 1.0, "platforms"
    base = bands[bands["set"] == BASELINE]
    shaded = False
    for ax, name in zip(axes, names, strict=False):
        shaded = shade_shocks(ax, info.shocks, info.days, alpha=0.07, zorder=0) or shaded
        ax.fill_between(base["day"], base["low"] / scale, base["high"] / scale,
                        color=BASELINE_COLOUR, alpha=0.18, lw=0)
        ax.plot(base["day"], base["mean"] / scale, color=BASELINE_COLOUR, lw=1.1, ls="--",
                label=f"{BASELINE} (no policy)")
        if name != BASELINE:
            own = bands[bands["set"] == name]
            ax.fill_between(own["day"], own["low"] / scale, own["high"] / scale,
                            color=colours[name], alpha=0.3, lw=0)
            ax.plot(own["day"], own["mean"] / scale, color=colours[name], lw=1.6, label=name)
        ax.set_title(name, fontsize=9, color=colours[name], loc="left", fontweight="bold")
        ax.grid(True, color="#e3e3e3", lw=0.6)
        ax.set_axisbelow(True)
        ax.tick_params(labelsize=8)
    for ax in axes[len(names):]:
        ax.set_axis_off()
    for ax in axes[::ncols]:
        ax.set_ylabel(ylabel, fontsize=8)
    for ax in axes[:len(names)][-ncols:]:  # the lowest panel of each column
        ax.set_xlabel("day", fontsize=8)
        ax.xaxis.set_tick_params(labelbottom=True)
    axes[0].set_xlim(0, info.days)
    if money:  # money from zero; platform counts zoom in on the changes
        axes[0].set_ylim(bottom=0)
    note = "dashed grey: no policy (none); " + ("grey spans: scheduled shocks; " if shaded else "")
    fig.suptitle(f"{title}\n{_subtitle(info)}\n{note}coloured: the policy set",
                 fontsize=10)
    return fig


def _place_labels(fig: Figure, ax, xs, ys, labels, colours) -> None:
    """Label points without overlap: try offsets around each point, keep the first free one."""
    renderer = fig.canvas.get_renderer()  # an Agg canvas (see plot_frontier)
    frame = ax.get_window_extent(renderer)
    taken = []
    offsets = [(7, 5), (7, -11), (-7, 5), (-7, -11), (7, 17), (7, -23), (-7, 17), (-7, -23),
               (7, 29), (7, -35), (-7, 29), (-7, -35), (7, 41), (-7, 41), (7, -47), (-7, -47)]
    order = np.argsort(np.asarray(ys, dtype=float))
    for i in order:
        if not (np.isfinite(xs[i]) and np.isfinite(ys[i])):
            continue
        text = None
        for dx, dy in offsets:
            if text is not None:
                text.remove()
            text = ax.annotate(labels[i], (xs[i], ys[i]), xytext=(dx, dy),
                               textcoords="offset points", fontsize=8, color=colours[i],
                               ha="left" if dx > 0 else "right", va="bottom",
                               arrowprops={"arrowstyle": "-", "color": colours[i], "lw": 0.5,
                                           "alpha": 0.6} if abs(dy) > 12 else None)
            box = text.get_window_extent(renderer).expanded(1.02, 1.1)
            inside = (frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0
                      and box.y1 <= frame.y1)
            if inside and not any(box.overlaps(other) for other in taken):
                break
        taken.append(text.get_window_extent(renderer))


def plot_frontier(runs: pd.DataFrame, table: pd.DataFrame, info: ComparisonInfo) -> Figure:
    """Efficiency against stability: credit supplied (x) and investor losses (y) per set.

    Left: levels, mean with 95% CIs of the mean in both directions. Right: paired differences
    from ``none`` with their 95% CIs, which are narrower because replications share seeds.

    Args:
        runs: one row per set x replication (:attr:`Comparison.runs`).
        table: the comparison table (:attr:`Comparison.table`).
        info: the comparison.

    Returns:
        The figure, laid out (labels are placed after the layout is frozen).
    """
    x_key, y_key = "credit_supplied", "investor_losses"
    names = list(info.set_names)
    colours = set_colours(names)
    fig = Figure(figsize=(13, 6), layout="constrained")
    left, right = fig.subplots(1, 2)
    levels = {n: (analysis.mean_ci(runs.loc[runs["set"] == n, x_key]),
                  analysis.mean_ci(runs.loc[runs["set"] == n, y_key])) for n in names}
    xs_all = [v for (x, _) in levels.values() for v in x[:3]]
    ys_all = [v for (_, y) in levels.values() for v in y[:3]]
    xscale, xunit = money_scale(xs_all)
    yscale, yunit = money_scale(ys_all)
    px, py = [], []
    for n in names:
        (xm, xl, xh, _), (ym, yl, yh, _) = levels[n]
        xerr = [[xm - xl], [xh - xm]] if np.isfinite(xl) else None
        yerr = [[ym - yl], [yh - ym]] if np.isfinite(yl) else None
        left.errorbar(xm / xscale, ym / yscale,
                      xerr=None if xerr is None else np.array(xerr) / xscale,
                      yerr=None if yerr is None else np.array(yerr) / yscale,
                      fmt="D" if n == BASELINE else "o", ms=7 if n == BASELINE else 5,
                      color=colours[n], capsize=3, lw=1)
        px.append(xm / xscale)
        py.append(ym / yscale)
    left.set_xlabel(f"credit supplied over the run ({xunit})")
    left.set_ylabel(f"investor losses after protection ({yunit})")
    left.set_title("Levels: mean with 95% CI (both directions)", fontsize=10, loc="left")

    rows = _rows(table)
    others = names[1:]
    dx = [rows[(n, x_key)] for n in others]
    dy = [rows[(n, y_key)] for n in others]
    dxs, dxu = money_scale([abs(r[c]) for r in dx for c in ("diff", "ci_low", "ci_high")])
    dys, dyu = money_scale([abs(r[c]) for r in dy for c in ("diff", "ci_low", "ci_high")])
    right.axhline(0, color=BASELINE_COLOUR, lw=0.8, ls="--")
    right.axvline(0, color=BASELINE_COLOUR, lw=0.8, ls="--")
    qx, qy = [], []
    for n, rx, ry in zip(others, dx, dy, strict=True):
        xerr = ([[rx["diff"] - rx["ci_low"]], [rx["ci_high"] - rx["diff"]]]
                if np.isfinite(rx["ci_low"]) else None)
        yerr = ([[ry["diff"] - ry["ci_low"]], [ry["ci_high"] - ry["diff"]]]
                if np.isfinite(ry["ci_low"]) else None)
        right.errorbar(rx["diff"] / dxs, ry["diff"] / dys,
                       xerr=None if xerr is None else np.array(xerr) / dxs,
                       yerr=None if yerr is None else np.array(yerr) / dys,
                       fmt="o", ms=5, color=colours[n], capsize=3, lw=1)
        qx.append(rx["diff"] / dxs)
        qy.append(ry["diff"] / dys)
    right.set_xlabel(f"change in credit supplied vs {BASELINE} ({dxu})")
    right.set_ylabel(f"change in investor losses vs {BASELINE} ({dyu})")
    right.set_title("Paired differences from no policy, with 95% CI\n"
                    "(down = fewer losses, right = more credit)", fontsize=10, loc="left")
    for ax in (left, right):
        ax.grid(True, color="#e3e3e3", lw=0.6)
        ax.set_axisbelow(True)
        ax.margins(0.12)
    fig.suptitle(f"Efficiency (credit supplied) against stability (investor losses)\n"
                 f"{_subtitle(info).replace('; bands: 95% CI of the mean', '')}", fontsize=11)
    # Lay the axes out first, freeze the layout, then place labels where they stay.
    FigureCanvasAgg(fig).draw()
    fig.set_layout_engine("none")
    _place_labels(fig, left, px, py, names, [colours[n] for n in names])
    _place_labels(fig, right, qx, qy, others, [colours[n] for n in others])
    return fig


def plot_differences(table: pd.DataFrame, info: ComparisonInfo, outcomes: list[str]) -> Figure:
    """Forest plot: each outcome's paired difference from ``none`` per set, with its 95% CI.

    Args:
        table: the comparison table (:attr:`Comparison.table`).
        info: the comparison.
        outcomes: the outcomes to show, one panel each (labels and units from the registry).

    Returns:
        The figure; a difference whose CI excludes zero is coloured by its verdict.
    """
    names = list(info.set_names[1:])
    # four panels a row, or three when that leaves fewer empty (nine outcomes: 3 x 3)
    ncols = 3 if len(outcomes) % 3 == 0 and len(outcomes) % 4 else 4
    nrows = max(1, math.ceil(len(outcomes) / ncols))
    fig = Figure(figsize=(14, 0.28 * max(len(names), 3) * nrows + 1.6 * nrows + 0.8),
                 layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    indexed = _rows(table)
    y = np.arange(len(names))
    for i, (ax, key) in enumerate(zip(axes, outcomes, strict=False)):
        item = vocabulary.outcome(key)
        rows = [indexed[(n, key)] for n in names]
        values = [abs(r[c]) for r in rows for c in ("diff", "ci_low", "ci_high")]
        scale, unit = formatting.scale(values, item.unit)
        for j, r in enumerate(rows):
            colour = VERDICT_COLOURS.get(analysis.verdict(r, item.better), "#888888")
            if np.isfinite(r["ci_low"]):
                ax.plot([r["ci_low"] / scale, r["ci_high"] / scale], [j, j], color=colour, lw=2)
            ax.plot(r["diff"] / scale, j, "o", color=colour, ms=5)
        ax.axvline(0, color=BASELINE_COLOUR, lw=0.8, ls="--")
        ax.set_yticks(y, names if i % ncols == 0 else [], fontsize=8)
        ax.set_ylim(len(names) - 0.5, -0.5)
        ax.set_title(item.label, fontsize=9, loc="left")
        ax.set_xlabel(formatting.heading(f"change vs {BASELINE}", unit), fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(True, axis="x", color="#e3e3e3", lw=0.6)
    for ax in axes[len(outcomes):]:
        ax.set_axis_off()
    fig.suptitle("Paired differences from no policy (dot) with 95% CI (bar)\n"
                 f"green: better, red: worse, blue: changed, CI excluding 0; grey: not "
                 f"distinguishable from zero. {_subtitle(info).split(';')[0]}", fontsize=10)
    return fig


def headline_outcomes(comp: Comparison) -> list[str]:
    """The registry's headline outcomes that the comparison has.

    Args:
        comp: the comparison.

    Returns:
        Keys of :data:`sim.vocabulary.HEADLINE_OUTCOMES` in its order, those in the table only.
    """
    present = set(comp.table["outcome"])
    return [o for o in vocabulary.HEADLINE_OUTCOMES if o in present]


def comparison_figures(comp: Comparison) -> dict[str, Figure]:
    """Every figure of the comparison report.

    Args:
        comp: the comparison.

    Returns:
        File name -> figure, in report order: differences, efficiency against stability, then
        the :data:`TIME_FIGURES`.
    """
    info = ComparisonInfo.of(comp)
    figures = {
        DIFF_FIGURE: plot_differences(comp.table, info, headline_outcomes(comp)),
        FRONTIER_FIGURE: plot_frontier(comp.runs, comp.table, info),
    }
    for name, column, rolling, title, unit in TIME_FIGURES:
        bands = analysis.series_bands(comp.series, column, rolling=rolling)
        figures[name] = plot_time_bands(bands, info, title, unit)
    return figures
