"""The policy comparison report: figures, a self-contained HTML page, its Markdown twin, and the
comparison folder on disk.

:func:`write_comparison` writes the folder atomically, with the staging and manifest conventions
of :mod:`sim.results`: everything is built in a hidden staging folder next to the target,
``manifest.json`` is written last, and only then is the folder renamed into place. A crash or
Ctrl-C leaves nothing that looks complete.

Figures are bare :class:`matplotlib.figure.Figure` objects (never pyplot), as in :mod:`sim.plots`.
Money is in yuan, scaled to thousand/million/billion yuan where the axis says so; x is the day.
"""

from __future__ import annotations

import base64
import html
import json
import math
import platform
import re
import sys
from pathlib import Path

import numpy as np
import scipy
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import sim
from sim import vocabulary
from sim.experiments import analysis
from sim.experiments.analysis import significant, verdict
from sim.experiments.compare import Comparison
from sim.experiments.policy_sets import BASELINE, scenario_for
from sim.outputs import formatting
from sim.outputs.formatting import heading, interval, money_scale, short
from sim.outputs.results import (
    DEFAULT_ROOT,
    OutputError,
    _utc_now,
    scenario_fingerprint,
    unique_folder,
    versions,
    write_folder,
)
from sim.vocabulary import Unit

DPI = 110
BASELINE_COLOUR = "#444444"
# Differences whose CI excludes 0: in the better direction, the worse one, or with no better one.
VERDICT_COLOURS = {"good": "#1b7f3b", "bad": "#b3261e", "changed": "#1f4e9c"}

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
LOSS_NOTE = ("Investor losses after cover: what investors bear after protection-fund and "
             "guarantor payouts, counting claims written off and the expected shortfall of "
             "estates still in resolution at the end of the run; before cover adds those "
             "payouts back.")
DIFF_FIGURE = "differences.png"
FRONTIER_FIGURE = "efficiency_stability.png"


# ----------------------------------------------------------------------------- plain language
def _row(comp: Comparison, name: str, outcome: str):
    table = comp.table
    match = table[(table["set"] == name) & (table["outcome"] == outcome)]
    return None if match.empty else match.iloc[0]


# Shorter names for the summary sentences, where the context says what the label spells out.
SENTENCE_LABELS = {"failures": "failures", "investor_losses": "investor losses"}


def _label(key: str) -> str:
    return SENTENCE_LABELS.get(key, vocabulary.outcome(key).label)


def _change_sentence(comp: Comparison, name: str, outcome: str) -> str | None:
    """'lowered investor losses by 6.1 million yuan (from 8.6 million yuan to 2.5 million
    yuan; 95% CI -8.0 to -4.0 million yuan)' for a difference whose CI excludes zero (or with
    one replication); ``None`` otherwise (see :func:`_unclear_part`)."""
    row, base = _row(comp, name, outcome), _row(comp, BASELINE, outcome)
    if row is None or base is None or not np.isfinite(row["diff"]) or row["diff"] == 0:
        return None
    unit = vocabulary.outcome(outcome).unit
    has_ci = np.isfinite(row["ci_low"]) and np.isfinite(row["ci_high"])
    if has_ci and not significant(row):
        return None
    levels = f"from {short(base['mean'], unit)} to {short(row['mean'], unit)}"
    size = short(abs(row["diff"]), unit).replace(" pp", " percentage points")
    verb = "lowered" if row["diff"] < 0 else "raised"
    ci = (f"95% CI {interval(row['ci_low'], row['ci_high'], unit)}" if has_ci
          else "one replication, no CI")
    return f"{verb} {_label(outcome)} by {size} ({levels}; {ci})"


def _unclear_part(comp: Comparison, name: str, outcome: str) -> str | None:
    """'failures -1.5 (95% CI -6.4 to +3.4)' for a difference not distinguishable from zero."""
    row = _row(comp, name, outcome)
    if row is None or not np.isfinite(row["diff"]) or _change_sentence(comp, name, outcome):
        return None
    if not (np.isfinite(row["ci_low"]) and np.isfinite(row["ci_high"])):
        return f"{_label(outcome)} unchanged" if row["diff"] == 0 else None
    unit = vocabulary.outcome(outcome).unit
    if row["diff"] == 0 and row["ci_low"] == row["ci_high"]:
        return f"{_label(outcome)} unchanged"
    return (f"{_label(outcome)} {short(row['diff'], unit, signed=True)} "
            f"(95% CI {interval(row['ci_low'], row['ci_high'], unit)})")


def _credit_cost(comp: Comparison, name: str) -> tuple[str, bool]:
    """Change in credit supplied from ``none`` in % and whether its CI excludes zero."""
    row, base = _row(comp, name, "credit_supplied"), _row(comp, BASELINE, "credit_supplied")
    if row is None or base is None or not base["mean"] or not np.isfinite(row["diff"]):
        return "n/a", False
    return f"{100 * row['diff'] / base['mean']:+.1f}%", significant(row)


def summary_lines(comp: Comparison) -> list[str]:
    """A short plain-language summary, one sentence per policy set, then the verdicts.

    Every statement comes from the comparison table: paired differences from ``none`` with their
    95% confidence intervals, and a plain "not distinguishable from zero" when the interval
    covers zero.
    """
    lines = []
    losses = "investor_losses"
    keys = (losses, "failures", "credit_supplied")
    for name in comp.set_names[1:]:
        clear = [p for o in keys if (p := _change_sentence(comp, name, o))]
        unclear = [p for o in keys if (p := _unclear_part(comp, name, o))]
        if clear:
            text = f"**{name}** " + "; ".join(clear) + "."
            if unclear:
                text += " Not distinguishable from zero: " + ", ".join(unclear) + "."
        else:
            text = f"**{name}** made no change distinguishable from zero" + (
                ": " + ", ".join(unclear) if unclear else "") + "."
        lines.append(text)
    others = comp.set_names[1:]
    base = _row(comp, BASELINE, losses)
    if others and base is not None:
        unit = vocabulary.outcome(losses).unit
        ranked = sorted((r["mean"], n, r) for n in others
                        if (r := _row(comp, n, losses)) is not None and np.isfinite(r["mean"]))
        if ranked and ranked[0][0] < base["mean"]:
            _, name, row = ranked[0]
            qualifier = ("" if significant(row) else
                         ", though its difference from no policy is not distinguishable from zero")
            lines.append(f"Best on investor losses (after protection payouts): **{name}**, "
                         f"{short(row['mean'], unit)} against {short(base['mean'], unit)} with no "
                         f"policy{qualifier}; it changed credit supplied by "
                         f"{_credit_cost(comp, name)[0]}.")
        elif ranked:
            lines.append("No policy set lowered investor losses (after protection payouts) "
                         f"below the {short(base['mean'], unit)} of no policy.")
        costs = [(n, *_credit_cost(comp, n)) for n in others]
        shown = ", ".join(f"{n} {pct}{'*' if sig else ''}" for n, pct, sig in costs)
        if comp.replications < 2:
            note = " (one replication: no confidence intervals)"
        elif any(sig for _, _, sig in costs):
            note = " (* = distinguishable from zero)"
        else:
            note = " (none distinguishable from zero)"
        lines.append(f"Cost in credit supplied, change from no policy{note}: {shown}.")
    if comp.replications < 2:
        lines.append("With one replication there are no confidence intervals: run "
                     "--replications 2 or more to tell effects from noise.")
    return lines


# ----------------------------------------------------------------------------- figures
# Dark, distinct colours that stay readable as thin lines and small labels on white.
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#17becf", "#bcbd22", "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e",
           "#a6761d", "#386cb0", "#f0027f", "#bf5b17")


def set_colours(names: list[str]) -> dict[str, str]:
    """A colour per set, ``none`` dark grey; stable across every figure."""
    colours = {BASELINE: BASELINE_COLOUR}
    for i, name in enumerate(n for n in names if n != BASELINE):
        colours[name] = PALETTE[i % len(PALETTE)]
    return colours


def _shade_shocks(comp: Comparison, ax) -> bool:
    shocks = [s for s in comp.scenario.shocks if s.start <= comp.scenario.run.days]
    for shock in shocks:
        ax.axvspan(shock.start, shock.start + shock.duration, color="grey", alpha=0.07, lw=0,
                   zorder=0)
    return bool(shocks)


def _subtitle(comp: Comparison) -> str:
    return (f"scenario {comp.scenario.name}, {comp.replications} replication"
            f"{'s' if comp.replications != 1 else ''} per set (seeds {comp.seeds[0]}"
            f"{'' if comp.replications == 1 else f'-{comp.seeds[-1]}'}), "
            f"{comp.scenario.run.days:,} days; bands: 95% CI of the mean")


def plot_time_bands(comp: Comparison, column: str, rolling: int, title: str, unit: Unit,
                    path: Path) -> None:
    """Small multiples: one panel per policy set, its mean and 95% band over the baseline's."""
    bands = analysis.series_bands(comp.series, column, rolling=rolling)
    names = comp.set_names[1:] or [BASELINE]
    colours = set_colours(comp.set_names)
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
        shaded = _shade_shocks(comp, ax) or shaded
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
    axes[0].set_xlim(0, comp.scenario.run.days)
    if money:  # money from zero; platform counts zoom in on the changes
        axes[0].set_ylim(bottom=0)
    note = "dashed grey: no policy (none); " + ("grey spans: scheduled shocks; " if shaded else "")
    fig.suptitle(f"{title}\n{_subtitle(comp)}\n{note}coloured: the policy set",
                 fontsize=10)
    fig.savefig(path, dpi=DPI)


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


def plot_frontier(comp: Comparison, path: Path) -> None:
    """Efficiency against stability: credit supplied (x) and investor losses (y) per set.

    Left: levels, mean with 95% CIs of the mean in both directions. Right: paired differences
    from ``none`` with their 95% CIs, which are narrower because replications share seeds.
    """
    x_key, y_key = "credit_supplied", "investor_losses"
    names = comp.set_names
    colours = set_colours(names)
    runs = comp.runs
    fig = Figure(figsize=(13, 6), layout="constrained")
    left, right = fig.subplots(1, 2)
    levels = {n: (analysis.mean_ci(runs.loc[runs["set"] == n, x_key]),
                  analysis.mean_ci(runs.loc[runs["set"] == n, y_key])) for n in names}
    xs_all = [v for (x, _) in levels.values() for v in x[:3]]
    ys_all = [v for (_, y) in levels.values() for v in y[:3]]
    xscale, xunit = money_scale(np.array(xs_all))
    yscale, yunit = money_scale(np.array(ys_all))
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

    table = comp.rows()
    others = names[1:]
    dx = [table[(n, x_key)] for n in others]
    dy = [table[(n, y_key)] for n in others]
    dxs, dxu = money_scale(np.array([abs(r[c]) for r in dx for c in ("diff", "ci_low", "ci_high")]
                                    or [0.0]))
    dys, dyu = money_scale(np.array([abs(r[c]) for r in dy for c in ("diff", "ci_low", "ci_high")]
                                    or [0.0]))
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
                 f"{_subtitle(comp).replace('; bands: 95% CI of the mean', '')}", fontsize=11)
    # Lay the axes out first, freeze the layout, then place labels where they stay.
    FigureCanvasAgg(fig).draw()
    fig.set_layout_engine("none")
    _place_labels(fig, left, px, py, names, [colours[n] for n in names])
    _place_labels(fig, right, qx, qy, others, [colours[n] for n in others])
    fig.savefig(path, dpi=DPI)


def plot_differences(comp: Comparison, path: Path) -> None:
    """Forest plot: each headline outcome's paired difference from ``none`` per set, 95% CI."""
    outcomes = [o for o in vocabulary.HEADLINE_OUTCOMES if o in set(comp.table["outcome"])]
    names = comp.set_names[1:]
    ncols = 4
    nrows = max(1, math.ceil(len(outcomes) / ncols))
    fig = Figure(figsize=(14, 0.28 * max(len(names), 3) * nrows + 1.6 * nrows + 0.8),
                 layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    table = comp.rows()
    y = np.arange(len(names))
    for i, (ax, outcome) in enumerate(zip(axes, outcomes, strict=False)):
        item = vocabulary.outcome(outcome)
        rows = [table[(n, outcome)] for n in names]
        values = [abs(r[c]) for r in rows for c in ("diff", "ci_low", "ci_high")]
        scale, unit = formatting.scale(values, item.unit)
        for j, r in enumerate(rows):
            colour = VERDICT_COLOURS.get(verdict(r, item.better), "#888888")
            if np.isfinite(r["ci_low"]):
                ax.plot([r["ci_low"] / scale, r["ci_high"] / scale], [j, j], color=colour, lw=2)
            ax.plot(r["diff"] / scale, j, "o", color=colour, ms=5)
        ax.axvline(0, color=BASELINE_COLOUR, lw=0.8, ls="--")
        ax.set_yticks(y, names if i % ncols == 0 else [], fontsize=8)
        ax.set_ylim(len(names) - 0.5, -0.5)
        ax.set_title(item.label, fontsize=9, loc="left")
        ax.set_xlabel(f"change vs {BASELINE}" + (f" ({unit})" if unit else ""), fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(True, axis="x", color="#e3e3e3", lw=0.6)
    for ax in axes[len(outcomes):]:
        ax.set_axis_off()
    fig.suptitle("Paired differences from no policy (dot) with 95% CI (bar)\n"
                 f"green: better, red: worse, blue: changed, CI excluding 0; grey: not "
                 f"distinguishable from zero. {_subtitle(comp).split(';')[0]}", fontsize=10)
    fig.savefig(path, dpi=DPI)


def write_figures(comp: Comparison, folder: Path) -> list[Path]:
    """Every PNG of the report into ``folder``; returns their paths in report order."""
    folder = Path(folder)
    paths = []
    plot_differences(comp, folder / DIFF_FIGURE)
    paths.append(folder / DIFF_FIGURE)
    plot_frontier(comp, folder / FRONTIER_FIGURE)
    paths.append(folder / FRONTIER_FIGURE)
    for name, column, rolling, title, unit in TIME_FIGURES:
        plot_time_bands(comp, column, rolling, title, unit, folder / name)
        paths.append(folder / name)
    return paths


# ----------------------------------------------------------------------------- TOML text
def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _is_table_list(value) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _toml_table(lines: list[str], table: dict, path: tuple[str, ...]) -> None:
    for key, value in table.items():
        if value is not None and not isinstance(value, dict) and not _is_table_list(value):
            lines.append(f"{key} = {_toml_value(value)}")
    for key, value in table.items():
        if isinstance(value, dict):
            lines += ["", f"[{'.'.join((*path, key))}]"]
            _toml_table(lines, value, (*path, key))
        elif _is_table_list(value):
            for item in value:
                lines += ["", f"[[{'.'.join((*path, key))}]]"]
                _toml_table(lines, item, (*path, key))


def to_toml(data: dict) -> str:
    """Plain data (a scenario dump) as TOML text; ``None`` values are left out (their default)."""
    lines: list[str] = []
    _toml_table(lines, data, ())
    return "\n".join(lines).lstrip("\n") + "\n"


def scenario_toml(comp: Comparison) -> str:
    """The scenario as run for the baseline (seed = first replication seed, every policy off)."""
    sc = scenario_for(comp.scenario, comp.sets[0], seed=comp.seeds[0])
    return to_toml(sc.model_dump(mode="json"))


def policy_sets_toml(comp: Comparison) -> str:
    """The non-baseline sets as a ``--policies`` file (feed it back to reproduce the sets)."""
    sets = [{"name": s.name, "policies": s.policies} for s in comp.sets[1:]]
    head = "# Policy sets of this comparison; usable as `p2psim compare ... --policies FILE`.\n"
    return head + (to_toml({"set": sets}) if sets else "")


def enabled_policies(policy_set) -> list[str]:
    """Names of the policies a set switches on."""
    return [name for name, table in policy_set.policies.items()
            if isinstance(table, dict) and table.get("enabled")]


# ----------------------------------------------------------------------------- HTML and Markdown
CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1180px; color: #222; line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.1em; } h2 { border-bottom: 1px solid #ddd;
     padding-bottom: 0.2em; margin-top: 1.8em; }
.meta { color: #666; font-size: 0.92em; }
table { border-collapse: collapse; font-size: 0.82em; margin: 0.8em 0; }
th, td { border: 1px solid #ddd; padding: 3px 6px; vertical-align: top; }
th { background: #f4f4f4; text-align: left; }
td.num { text-align: right; white-space: nowrap; }
td .diff, td .ci { display: block; font-size: 0.9em; color: #555; }
td .ci { font-size: 0.8em; color: #777; }
.scroll { overflow-x: auto; }
td.good .diff { color: #1b7f3b; font-weight: bold; } td.bad .diff { color: #b3261e; font-weight: bold; }
td.changed .diff { color: #1f4e9c; font-weight: bold; }
td.good { background: #eef8f0; } td.bad { background: #fbeeee; } td.changed { background: #eef2fa; }
tr.ref td { background: #fafafa; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
details { margin: 0.8em 0; } summary { cursor: pointer; font-weight: bold; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.82em; }
ul.summary li { margin-bottom: 0.35em; }
.legend span { padding: 1px 6px; margin-right: 6px; border: 1px solid #ddd; }
"""


def _md_bold_to_html(text: str) -> str:
    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", html.escape(text))


def _column_scales(comp: Comparison, outcomes: list[str]) -> dict[str, tuple[float, str]]:
    """Divisor and unit of each outcome's column, from the means it shows."""
    table = comp.table
    return {o: formatting.scale(table.loc[table["outcome"] == o, "mean"],
                                vocabulary.outcome(o).unit) for o in outcomes}


def _cell(row, divisor: float, better: int, markdown: bool) -> tuple[str, str]:
    """(text, css class) of one table cell: mean, then the paired difference and its CI."""
    mean = formatting.scaled(row["mean"], divisor)
    if row["set"] == BASELINE:
        return mean, ""
    change = verdict(row, better)
    diff = formatting.scaled(row["diff"], divisor, signed=True)
    ci = formatting.scaled_interval(row["ci_low"], row["ci_high"], divisor)
    mark = "*" if change else ""
    if markdown:
        return f"{mean}<br>Δ {diff}{mark} [{ci}]", change
    return (f"{html.escape(mean)}<span class='diff'>Δ {html.escape(diff)}{mark}</span>"
            f"<span class='ci'>[{html.escape(ci)}]</span>", change)


def _headers(comp: Comparison, outcomes: list[str]) -> list[str]:
    scales = _column_scales(comp, outcomes)
    return [heading(vocabulary.outcome(o).label, scales[o][1]) for o in outcomes]


def _table_rows(comp: Comparison, outcomes: list[str], markdown: bool):
    scales = _column_scales(comp, outcomes)
    table = comp.rows()
    for name in comp.set_names:
        cells = [_cell(table[(name, o)], scales[o][0], vocabulary.outcome(o).better, markdown)
                 for o in outcomes]
        yield name, cells


def html_table(comp: Comparison, outcomes: list[str]) -> str:
    """The comparison table as HTML: one row per set, one column per outcome."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in ["policy set", *_headers(comp, outcomes)])
    body = []
    for name, cells in _table_rows(comp, outcomes, markdown=False):
        tds = "".join(f"<td class='num {cls}'>{text}</td>" for text, cls in cells)
        cls = " class='ref'" if name == BASELINE else ""
        body.append(f"<tr{cls}><th>{html.escape(name)}</th>{tds}</tr>")
    return (f"<div class='scroll'><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")


def markdown_table(comp: Comparison, outcomes: list[str]) -> str:
    """The comparison table as Markdown (``*`` marks a CI that excludes 0)."""
    heads = ["policy set", *_headers(comp, outcomes)]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for name, cells in _table_rows(comp, outcomes, markdown=True):
        lines.append(f"| {name} | " + " | ".join(text for text, _ in cells) + " |")
    return "\n".join(lines)


def _long_rows(comp: Comparison, outcomes: list[str], markdown: bool):
    """Rows of the every-outcome table: one per outcome, one column per set."""
    scales = _column_scales(comp, outcomes)
    table = comp.rows()
    for o in outcomes:
        item = vocabulary.outcome(o)
        cells = [_cell(table[(name, o)], scales[o][0], item.better, markdown)
                 for name in comp.set_names]
        yield heading(item.label, scales[o][1]), cells


def html_long_table(comp: Comparison, outcomes: list[str]) -> str:
    """Every outcome as HTML: one row per outcome, one column per set."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in ["outcome", *comp.set_names])
    body = "".join(f"<tr><th>{html.escape(label)}</th>"
                   + "".join(f"<td class='num {cls}'>{text}</td>" for text, cls in cells)
                   + "</tr>" for label, cells in _long_rows(comp, outcomes, markdown=False))
    return (f"<div class='scroll'><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></div>")


def markdown_long_table(comp: Comparison, outcomes: list[str]) -> str:
    """Every outcome as Markdown: one row per outcome, one column per set."""
    heads = ["outcome", *comp.set_names]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for label, cells in _long_rows(comp, outcomes, markdown=True):
        lines.append(f"| {label} | " + " | ".join(text for text, _ in cells) + " |")
    return "\n".join(lines)


def _scenario_facts(comp: Comparison) -> list[tuple[str, str]]:
    sc = comp.scenario
    channels = [n for n, c in sc.channels.model_dump().items() if c.get("enabled")]
    return [
        ("name", sc.name),
        ("description", sc.description or "-"),
        ("days", f"{sc.run.days:,}"),
        ("platforms at day 0", f"{sc.platforms.count + len(sc.platforms.custom):,} "
                               f"(entry {sc.platforms.entry_per_year:g} a year)"),
        ("investors / borrowers", f"{sc.investors.count:,} / {sc.borrowers.count:,}"),
        ("on-demand share of products, cash buffer target",
         f"{sc.platforms.demand_share:.0%}, {sc.platforms.cash_buffer_target:.0%} of claims"),
        ("contagion channels on", ", ".join(channels) or "none"),
        ("replications, seeds", f"{comp.replications}, seeds "
                                f"{', '.join(str(s) for s in comp.seeds)} (replication r uses "
                                f"base seed + r, the same for every set)"),
    ]


def _shock_rows(comp: Comparison) -> list[list[str]]:
    rows = []
    for s in comp.scenario.shocks:
        target = s.platform or (f"sector {s.sector}" if s.sector is not None else "market")
        rows.append([s.type, str(s.start), str(s.duration), f"{s.size:g}", target])
    return rows


def _set_rows(comp: Comparison) -> list[list[str]]:
    return [[s.name, ", ".join(enabled_policies(s)) or "(every policy off)"] for s in comp.sets]


def _all_outcomes(comp: Comparison) -> list[str]:
    return list(dict.fromkeys(comp.table["outcome"]))


def _img_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _html_simple_table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    trs = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"


def _md_simple_table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines)


FIGURE_TEXT = {
    DIFF_FIGURE: "Paired differences from no policy for the headline outcomes.",
    FRONTIER_FIGURE: "Efficiency against stability: credit supplied and investor losses per "
                     "policy set. Left, levels with 95% CIs of the mean; right, paired "
                     "differences from no policy with their 95% CIs.",
    "ts_platforms_operating.png": "Platforms operating over time.",
    "ts_daily_outflow.png": "Daily outflow to investors over time (7-day mean).",
    "ts_investor_losses.png": "Investor losses after cover over time: claims written off plus "
                              "the expected shortfall of estates still in resolution.",
    "ts_loans_outstanding.png": "Credit outstanding over time.",
}

METHOD = (
    "Every policy set runs the same replications: replication r uses seed base + r "
    "(base = --seed or the scenario's run.seed) in every set, so the sets face the same random "
    "draws (common random numbers) and differences are paired per replication. Δ is the mean of "
    "the per-replication differences from 'none'; its 95% confidence interval is Student-t "
    "(mean ± t(0.975, n−1)·sd/√n of the differences). A difference whose interval excludes 0 "
    "is marked (* and colour). Outcomes a run does not have (e.g. the day a fund ran dry when "
    "it never did) are left out of the mean and of the pairs. The 'none' set switches every "
    "policy off, whatever the scenario file enables; a named set switches on exactly its "
    "policies, with the scenario's parameters for them."
)


def render_html(comp: Comparison, figures: list[Path], toml_text: str) -> str:
    """The self-contained HTML report (inline CSS, images as data URIs, no external links)."""
    sc = comp.scenario
    headline = [o for o in vocabulary.HEADLINE_OUTCOMES if o in set(comp.table["outcome"])]
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Policy comparison: {html.escape(sc.name)}</title><style>{CSS}</style></head><body>",
        f"<h1>Policy comparison: {html.escape(sc.name)}</h1>",
        f"<p class='meta'>{len(comp.sets)} policy sets × {comp.replications} replications, "
        f"{sc.run.days:,} days each; {comp.elapsed_seconds:,.0f} s with {comp.workers} "
        f"worker{'s' if comp.workers != 1 else ''}; p2psim {sim.__version__}, created "
        f"{_utc_now().strftime('%Y-%m-%d %H:%M UTC')}.</p>",
        "<h2>Summary</h2><ul class='summary'>",
        *[f"<li>{_md_bold_to_html(line)}</li>" for line in summary_lines(comp)],
        "</ul>",
        "<h2>Comparison</h2>",
        "<p>Each cell: the mean over replications, then Δ, the paired difference from "
        "<i>none</i> (no policy), with its 95% confidence interval in brackets. Units in the "
        f"column header. {LOSS_NOTE}</p>",
        "<p class='legend'><span style='background:#eef8f0'>better, CI excludes 0</span>"
        "<span style='background:#fbeeee'>worse, CI excludes 0</span>"
        "<span style='background:#eef2fa'>changed, CI excludes 0 (no better direction)</span>"
        "no colour: not distinguishable from zero</p>",
        html_table(comp, headline),
        "<details><summary>Every outcome</summary>",
        html_long_table(comp, _all_outcomes(comp)),
        "</details>",
    ]
    parts.append("<h2>Figures</h2>")
    for path in figures:
        parts.append(f"<p>{html.escape(FIGURE_TEXT.get(path.name, path.name))}</p>")
        parts.append(f"<img alt='{html.escape(path.stem)}' src='{_img_uri(path)}'>")
    parts += [
        "<h2>Scenario</h2>",
        _html_simple_table(["", ""], [list(r) for r in _scenario_facts(comp)]),
        "<h3>Shocks</h3>",
        _html_simple_table(["type", "start (day)", "duration (days)", "size", "target"],
                           _shock_rows(comp)) if sc.shocks else "<p>No shocks.</p>",
        "<h3>Policy sets</h3>",
        _html_simple_table(["set", "policies on"], _set_rows(comp)),
        "<details><summary>Scenario as run (TOML; replication 0, no policy)</summary>",
        f"<pre>{html.escape(toml_text)}</pre></details>",
        "<h2>Method</h2>",
        f"<p>{html.escape(METHOD)}</p>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def render_markdown(comp: Comparison, figures: list[Path], toml_text: str) -> str:
    """The Markdown twin of the HTML report; figures are the PNG files next to it."""
    sc = comp.scenario
    headline = [o for o in vocabulary.HEADLINE_OUTCOMES if o in set(comp.table["outcome"])]
    lines = [
        f"# Policy comparison: {sc.name}", "",
        f"{len(comp.sets)} policy sets × {comp.replications} replications, {sc.run.days:,} days "
        f"each; {comp.elapsed_seconds:,.0f} s with {comp.workers} worker"
        f"{'s' if comp.workers != 1 else ''}; p2psim {sim.__version__}.", "",
        "## Summary", "",
        *[f"- {line}" for line in summary_lines(comp)], "",
        "## Comparison", "",
        "Each cell: the mean over replications, then Δ, the paired difference from *none* (no "
        "policy), with its 95% confidence interval in brackets; `*` marks an interval that "
        f"excludes 0. Units in the column header. {LOSS_NOTE}", "",
        markdown_table(comp, headline), "",
        "<details><summary>Every outcome</summary>", "",
        markdown_long_table(comp, _all_outcomes(comp)), "", "</details>", "",
        "## Figures", "",
    ]
    for path in figures:
        lines += [FIGURE_TEXT.get(path.name, path.name), "", f"![{path.stem}]({path.name})", ""]
    lines += [
        "## Scenario", "",
        _md_simple_table(["", ""], [list(r) for r in _scenario_facts(comp)]), "",
        "### Shocks", "",
        (_md_simple_table(["type", "start (day)", "duration (days)", "size", "target"],
                          _shock_rows(comp)) if sc.shocks else "No shocks."), "",
        "### Policy sets", "",
        _md_simple_table(["set", "policies on"], _set_rows(comp)), "",
        "<details><summary>Scenario as run (TOML; replication 0, no policy)</summary>", "",
        "```toml", toml_text.rstrip("\n"), "```", "", "</details>", "",
        "## Method", "", METHOD, "",
    ]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- the folder
def default_folder(comp: Comparison, root: Path = DEFAULT_ROOT) -> Path:
    """``runs/compare-<scenario name>-<UTC time>``, made unique if it already exists."""
    return unique_folder(root, comp.scenario.name, prefix="compare-")


def manifest(comp: Comparison, files: dict[str, str]) -> dict:
    """Provenance: scenario, seeds, policy sets, versions, timing, a checksum of every file."""
    return {
        "kind": "policy comparison",
        "scenario": comp.scenario.model_dump(mode="json"),
        "scenario_sha256": scenario_fingerprint(comp.scenario),
        "seeds": {"base": comp.seeds[0], "replications": comp.seeds,
                  "rule": "replication r uses base + r in every policy set"},
        "replications": comp.replications,
        "policy_sets": [{"name": s.name, "enabled": enabled_policies(s), "policies": s.policies}
                        for s in comp.sets],
        "workers": comp.workers,
        "elapsed_seconds": round(comp.elapsed_seconds, 3),
        "run_seconds": round(comp.run_seconds, 3),
        "created_utc": _utc_now().isoformat(timespec="seconds"),
        "versions": versions(scipy=scipy.__version__),
        "platform": platform.platform(),
        "command": sys.argv,
        "files": files,
    }


def _write_contents(comp: Comparison, folder: Path) -> None:
    comp.table.to_csv(folder / "comparison.csv", index=False)
    comp.runs.to_csv(folder / "runs.csv", index=False)
    comp.series.to_parquet(folder / "series.parquet", index=False)
    toml_text = scenario_toml(comp)
    (folder / "scenario.toml").write_text(toml_text, encoding="utf-8")
    (folder / "policy_sets.toml").write_text(policy_sets_toml(comp), encoding="utf-8")
    figures = write_figures(comp, folder)
    (folder / "report.md").write_text(render_markdown(comp, figures, toml_text), encoding="utf-8")
    (folder / "report.html").write_text(render_html(comp, figures, toml_text), encoding="utf-8")


def write_comparison(comp: Comparison, out_dir: str | Path | None = None) -> Path:
    """Write the comparison folder atomically and return its path.

    Contents: ``comparison.csv`` (set, outcome, mean, diff, ci_low, ci_high, n), ``runs.csv``
    (one row per set x replication, every summary value), ``series.parquet`` (the daily series
    behind the bands), ``scenario.toml`` and ``policy_sets.toml`` (to reproduce the runs), the
    PNG figures, ``report.md``, ``report.html`` and, last, ``manifest.json``.

    Args:
        comp: the comparison.
        out_dir: target folder; ``None`` means a new folder under ``runs/``. An earlier results
            folder there (one with a ``manifest.json``) is replaced atomically.

    Raises:
        OutputError: ``out_dir`` is not a place results may be written.
        OSError: the disk refused; nothing is left behind.
    """
    return write_folder(default_folder(comp) if out_dir is None else out_dir,
                        lambda folder: _write_contents(comp, folder),
                        lambda files: manifest(comp, files))


__all__ = ["OutputError", "render_html", "render_markdown", "summary_lines", "to_toml",
           "write_comparison", "write_figures"]
