"""Charts of a run: platforms by status, daily flows, the balance sheet, rates, the cascade.

Each chart takes the run's table it draws (a DataFrame) and a :class:`RunInfo`, and returns a
:class:`matplotlib.figure.Figure`; nothing here saves (:mod:`sim.outputs.results` writes the
PNGs). Figures are bare ``Figure`` objects, never made through ``pyplot``: nothing is registered
in pyplot's global figure list and the process-wide backend is left alone, so importing this
module in a notebook changes nothing and no figure can leak. Saving a bare Figure renders with
the Agg (PNG) canvas.

Conventions: x is the simulated day; money is in yuan, scaled to thousand/million/billion yuan to
keep tick labels short (the axis label says which); rates are annual, shown in %. Scheduled shocks
are shaded grey on every chart. Day 0 is the initial state, so daily flows start at day 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.experiments import history
from sim.outputs.formatting import money_scale
from sim.outputs.history_plots import plot_history_fit

if TYPE_CHECKING:
    from sim.experiments.runner import RunResult

# Status colours: healthy green, distress amber, the bad exits red/purple, quiet exits grey.
STATUS_COLOURS = {
    "active": "#4c9f70", "distressed": "#f2b134", "failed": "#d1495b",
    "absconded": "#6a4c93", "exited": "#8d99ae", "closed": "#2b2d42",
}
DEPOSIT_COLOUR, PAYOUT_COLOUR, BACKLOG_COLOUR = "#2a9d8f", "#d1495b", "#f2b134"
ROLLING_DAYS = 7
HISTORY_FIGURE = "history_fit.png"


@dataclass(frozen=True)
class RunInfo:
    """What a run's charts say about the run besides its tables.

    Attributes:
        scenario: the scenario's name.
        seed: the run's seed.
        days: days simulated.
        shocks: (first day, duration in days) of every scheduled shock, shaded on the charts.
        contagion_multiplier: from the summary, for the cascade's title (``None`` if undefined).
    """

    scenario: str
    seed: int
    days: int
    shocks: tuple[tuple[int, int], ...] = ()
    contagion_multiplier: float | None = None

    @classmethod
    def of(cls, result: RunResult) -> RunInfo:
        """The facts the charts need from a finished run."""
        return cls(scenario=result.scenario.name, seed=result.seed, days=result.days,
                   shocks=tuple((s.start, s.duration) for s in result.scenario.shocks),
                   contagion_multiplier=result.summary.get("contagion_multiplier"))


def shade_shocks(ax: Axes, shocks, days: int, alpha: float, zorder: float) -> bool:
    """Grey spans over the days each scheduled shock (first day, duration) is active.

    Args:
        ax: the axes.
        shocks: (first day, duration) pairs; those starting after ``days`` are not drawn.
        days: the last day shown.
        alpha: opacity of one span (overlapping shocks shade darker).
        zorder: drawing order (0 behind lines, 3 on top of filled areas).

    Returns:
        True if any span was drawn.
    """
    shown = [(start, duration) for start, duration in shocks if start <= days]
    for start, duration in shown:
        ax.axvspan(start, start + duration, color="grey", alpha=alpha, lw=0, zorder=zorder)
    return bool(shown)


def _subtitle(info: RunInfo) -> str:
    return f"scenario {info.scenario}, seed {info.seed}, {info.days:,} days"


def _shade_shocks(info: RunInfo, axes: list[Axes], on_top: bool) -> bool:
    """Shock spans on every axes; True if any was drawn.

    Behind lines (so they keep their colour), but on top of filled areas, which would hide them.
    """
    shaded = False
    for ax in axes:
        shaded = shade_shocks(ax, info.shocks, info.days, alpha=0.3 if on_top else 0.18,
                              zorder=3 if on_top else 0) or shaded
    return shaded


def _finish(fig: Figure, info: RunInfo, title: str, axes: list[Axes],
            shocks_on_top: bool = False) -> Figure:
    """Shared layout: title and subtitle, x limits, shock shading, grid."""
    fig.suptitle(f"{title}\n{_subtitle(info)}", fontsize=11)
    shaded = _shade_shocks(info, axes, shocks_on_top)
    for ax in axes:
        ax.set_xlim(0, max(info.days, 1))
        ax.grid(True, color="#dddddd", lw=0.6)
        ax.set_axisbelow(True)
    axes[-1].set_xlabel("day" + ("  (grey: scheduled shock)" if shaded else ""))
    return fig


def _flows_only(ts: pd.DataFrame) -> pd.DataFrame:
    """Rows of simulated days: day 0 is the initial state and carries no flows."""
    return ts[ts["day"] >= 1]


def plot_status(ts: pd.DataFrame, info: RunInfo) -> Figure:
    """Stacked area of platform counts by status (exits accumulate at the top).

    Args:
        ts: the run's daily series (``platforms_<status>`` columns).
        info: the run.

    Returns:
        The figure.
    """
    fig = Figure(figsize=(10, 4.8), layout="constrained")
    ax = fig.add_subplot()
    statuses = [c.removeprefix("platforms_") for c in ts.columns if c.startswith("platforms_")]
    colours = [STATUS_COLOURS.get(s, "#bbbbbb") for s in statuses]
    ax.stackplot(ts["day"], *[ts[f"platforms_{s}"] for s in statuses], labels=statuses,
                 colors=colours, alpha=0.95, lw=0)
    ax.set_ylabel("platforms (count)")
    ax.set_ylim(0, None)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9, frameon=False,
              title="status", reverse=True)
    return _finish(fig, info, "Platforms by status", [ax], shocks_on_top=True)


def plot_flows(ts: pd.DataFrame, info: RunInfo) -> Figure:
    """Deposits and payouts, net flow, and the unpaid backlog, per day.

    Args:
        ts: the run's daily series.
        info: the run.

    Returns:
        The figure.
    """
    ts = _flows_only(ts)
    fig = Figure(figsize=(10, 8), layout="constrained")
    top, mid, low = fig.subplots(3, 1, sharex=True, height_ratios=[3, 2, 1.5])
    day = ts["day"]

    scale, unit = money_scale(pd.concat([ts["deposits"], ts["payouts"]]))
    for col, label, colour in (("deposits", "deposits", DEPOSIT_COLOUR),
                               ("payouts", "payouts (incl. estate payouts)", PAYOUT_COLOUR)):
        daily = ts[col] / scale
        top.plot(day, daily, color=colour, lw=0.7, alpha=0.45)
        top.plot(day, daily.rolling(ROLLING_DAYS, min_periods=1).mean(), color=colour, lw=1.8,
                 label=f"{label}, {ROLLING_DAYS}-day mean (thin: daily)")
    top.set_ylabel(f"{unit} per day")
    top.set_ylim(0, None)
    top.legend(fontsize=8, loc="upper right")

    scale, unit = money_scale(ts["net_flow"])
    net = ts["net_flow"] / scale
    mid.bar(day, net, width=1.0, color=np.where(net >= 0, DEPOSIT_COLOUR, PAYOUT_COLOUR),
            alpha=0.35, lw=0)
    mid.plot(day, net.rolling(ROLLING_DAYS, min_periods=1).mean(), color="black", lw=1.6,
             label=f"net flow (deposits - payouts excl. estate payouts), {ROLLING_DAYS}-day mean "
                   "(bars: daily)")
    mid.axhline(0, color="grey", lw=0.8)
    mid.set_ylabel(f"{unit} per day")
    mid.legend(fontsize=8, loc="upper right")

    scale, unit = money_scale(ts["unpaid_backlog"])
    low.fill_between(day, 0, ts["unpaid_backlog"] / scale, color=BACKLOG_COLOUR, alpha=0.7,
                     lw=0, label="unpaid redemption backlog (end of day)")
    low.set_ylabel(unit)
    low.set_ylim(0, None)
    low.legend(fontsize=8, loc="upper right")
    return _finish(fig, info, "Daily flows between investors and platforms", [top, mid, low])


def plot_balance_sheet(ts: pd.DataFrame, info: RunInfo) -> Figure:
    """Market stocks (claims, loans, cash) above cumulative losses and theft.

    Args:
        ts: the run's daily series.
        info: the run.

    Returns:
        The figure.
    """
    fig = Figure(figsize=(10, 7), layout="constrained")
    top, low = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])

    stocks = (("investor_claims", "investor claims (products outstanding)", "#1d3557"),
              ("loans_outstanding", "loans outstanding", "#457b9d"),
              ("platform_cash", "platform cash", "#8ecae6"))
    scale, unit = money_scale(pd.concat([ts[c] for c, _, _ in stocks]))
    for col, label, colour in stocks:
        top.plot(ts["day"], ts[col] / scale, label=label, color=colour, lw=1.8)
    top.set_ylabel(unit)
    top.set_ylim(0, None)
    top.set_title("Stocks at the end of each day", fontsize=10, loc="left")
    top.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)

    losses = (("investor_losses_expected",
               "investor losses incl. open estates' expected shortfall", "#f4a259"),
              ("investor_losses", "investor losses (claims written off)", "#d1495b"),
              ("stolen", "stolen or diverted by owners", "#6a4c93"))
    scale, unit = money_scale(pd.concat([ts[c] for c, _, _ in losses]))
    for col, label, colour in losses:
        low.plot(ts["day"], ts[col] / scale, label=label, color=colour, lw=1.8)
    if not (ts["investor_losses_expected"].any() or ts["stolen"].any()):
        low.set_ylim(0, 1)  # not matplotlib's +-0.05 "yuan" around an all-zero line
        low.text(0.5, 0.5, "no investor losses and nothing stolen in this run",
                 transform=low.transAxes, ha="center", va="center", color="grey")
    else:
        low.set_ylim(0, None)
    low.set_ylabel(unit)
    low.set_title("Cumulative since day 0", fontsize=10, loc="left")
    low.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return _finish(fig, info, "Market balance sheet", [top, low])


def plot_rates(ts: pd.DataFrame, info: RunInfo) -> Figure:
    """Mean promised rate against the outside option; the debt-transfer discount below.

    Args:
        ts: the run's daily series.
        info: the run.

    Returns:
        The figure.
    """
    fig = Figure(figsize=(10, 6), layout="constrained")
    top, low = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1.5])

    promised, outside = 100 * ts["mean_promised_rate"], 100 * ts["outside_rate"]
    top.plot(ts["day"], promised, color="#1d3557", lw=1.8,
             label="mean promised rate (open platforms, weighted by claims)")
    top.plot(ts["day"], outside, color="#e76f51", lw=1.6, ls="--",
             label="outside option (bank deposit / money market)")
    top.fill_between(ts["day"], outside, promised, where=promised >= outside, color="#1d3557",
                     alpha=0.08, lw=0, label="premium over the outside option")
    top.set_ylabel("% a year")
    top.set_ylim(0, None)
    top.legend(fontsize=8, loc="lower right")

    low.plot(ts["day"], 100 * ts["transfer_discount"], color="#6a4c93", lw=1.6,
             label="debt-transfer discount (secondary loan market)")
    low.set_ylabel("% of principal")
    low.set_ylim(0, None)
    low.legend(fontsize=8, loc="upper right")
    return _finish(fig, info, "Rates", [top, low])


CHANNEL_COLOURS = {
    "shock": "#d1495b", "information": "#edae49", "herding": "#66a182",
    "shared_investors": "#00798c", "common_borrowers": "#8d6a9f", "fire_sales": "#2e4057",
    "shared_guarantors": "#c97064", "own": "#7f7f7f", "none": "#bdbdbd",
}


def plot_cascade(cascade: pd.DataFrame, info: RunInfo) -> Figure:
    """The failure cascade as a timeline: one row per failed platform, arrows parent -> child.

    Each failure is a dot at its day, coloured by the channel that carried the stress to it;
    an arrow from an earlier failure shows which failure it followed.

    Args:
        cascade: the run's failures in order (``platform``, ``name``, ``day``, ``cause``,
            ``channel``, ``parent``).
        info: the run; the title shows its contagion multiplier.

    Returns:
        The figure.
    """
    fig = Figure(figsize=(10, max(3.0, 0.32 * len(cascade) + 1.6)), layout="constrained")
    ax = fig.add_subplot()
    if cascade.empty:
        ax.text(0.5, 0.5, "no failures in this run", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
    else:
        row = {p: i for i, p in enumerate(cascade["platform"])}
        for _, f in cascade.iterrows():
            if f["parent"] >= 0 and f["parent"] in row:
                parent = cascade[cascade["platform"] == f["parent"]].iloc[0]
                ax.annotate("", xy=(f["day"], row[f["platform"]]),
                            xytext=(parent["day"], row[f["parent"]]),
                            arrowprops={"arrowstyle": "->", "lw": 1.0,
                                        "color": CHANNEL_COLOURS.get(f["channel"], "black"),
                                        "alpha": 0.7, "shrinkA": 4, "shrinkB": 4})
        for channel, group in cascade.groupby("channel"):
            ax.scatter(group["day"], [row[p] for p in group["platform"]], s=60, zorder=3,
                       color=CHANNEL_COLOURS.get(channel, "black"), label=channel,
                       edgecolor="black", linewidth=0.5)
        ax.set_yticks(range(len(cascade)),
                      [f"{n} ({c})" for n, c in zip(cascade["name"], cascade["cause"],
                                                    strict=True)], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, info.days)
        ax.set_xlabel("day")
        ax.grid(axis="x", alpha=0.3)
        ax.legend(title="stress carried by", fontsize=8, title_fontsize=8, loc="upper left",
                  bbox_to_anchor=(1.01, 1.0))
        _shade_shocks(info, [ax], on_top=False)
    multiplier = info.contagion_multiplier
    ax.set_title(f"Failure cascade: {len(cascade)} failures, contagion multiplier "
                 f"{'-' if multiplier is None else f'{multiplier:.1f}'}", fontsize=11)
    return fig


# File name -> (chart, the run table it draws), in the order the files are written.
PLOTS: dict[str, tuple[Callable[[pd.DataFrame, RunInfo], Figure], str]] = {
    "cascade.png": (plot_cascade, "cascade"),
    "platforms_by_status.png": (plot_status, "timeseries"),
    "flows.png": (plot_flows, "timeseries"),
    "balance_sheet.png": (plot_balance_sheet, "timeseries"),
    "rates.png": (plot_rates, "timeseries"),
}


def run_figures(result: RunResult) -> dict[str, Figure]:
    """Every chart of :data:`PLOTS` for a run.

    Args:
        result: the run.

    Returns:
        File name -> figure, in :data:`PLOTS` order.
    """
    info = RunInfo.of(result)
    figures = {name: plot(getattr(result, table), info) for name, (plot, table) in PLOTS.items()}
    past = result.scenario.history
    if past is not None:  # a historical scenario: its yearly figures against the facts
        years = history.yearly(result.timeseries, past.start_date, past.platforms_per_platform)
        figures[HISTORY_FIGURE] = plot_history_fit(years, history.load_targets(past.targets),
                                                   result.scenario.name, result.seed)
    return figures
