"""PNG plots of a run's main series (matplotlib, Agg backend; figures are always closed)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

if TYPE_CHECKING:
    from sim.runner import RunResult

STATUS_COLOURS = {
    "active": "#4c9f70", "distressed": "#f2b134", "failed": "#d1495b",
    "absconded": "#6a4c93", "exited": "#8d99ae", "closed": "#2b2d42",
}
YUAN_M = 1e6


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_status(ts: pd.DataFrame, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(9, 4.5))
    cols = [f"platforms_{s}" for s in STATUS_COLOURS]
    ax.stackplot(ts["day"], *[ts[c] for c in cols], labels=list(STATUS_COLOURS),
                 colors=list(STATUS_COLOURS.values()), alpha=0.9)
    ax.set(title="Platforms by status", xlabel="day", ylabel="platforms")
    ax.legend(loc="upper left", ncols=3, fontsize=8)
    ax.margins(x=0)
    _save(fig, path)


def plot_flows(ts: pd.DataFrame, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(9, 4.5))
    ax.plot(ts["day"], ts["deposits"] / YUAN_M, lw=0.8, label="deposits", color="#4c9f70")
    ax.plot(ts["day"], ts["payouts"] / YUAN_M, lw=0.8, label="payouts", color="#d1495b")
    net = (ts["net_flow"] / YUAN_M).rolling(7, min_periods=1).mean()
    ax.plot(ts["day"], net, lw=1.6, label="net flow (7-day mean)", color="black")
    ax.fill_between(ts["day"], 0, ts["unpaid_backlog"] / YUAN_M, color="#f2b134", alpha=0.5,
                    label="unpaid backlog")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set(title="Daily flows between investors and platforms", xlabel="day",
           ylabel="million yuan per day (backlog: million yuan)")
    ax.legend(fontsize=8)
    ax.margins(x=0)
    _save(fig, path)


def plot_balance_sheet(ts: pd.DataFrame, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for col, label, colour in [
        ("investor_claims", "investor claims (products)", "#1d3557"),
        ("loans_outstanding", "loans outstanding", "#457b9d"),
        ("platform_cash", "platform cash", "#a8dadc"),
        ("investor_losses", "investor losses (cumulative)", "#d1495b"),
        ("stolen", "stolen / diverted (cumulative)", "#6a4c93"),
    ]:
        ax.plot(ts["day"], ts[col] / YUAN_M, label=label, color=colour)
    ax.set(title="Market balance sheet", xlabel="day", ylabel="million yuan")
    ax.legend(fontsize=8)
    ax.margins(x=0)
    _save(fig, path)


def plot_rates(ts: pd.DataFrame, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(ts["day"], 100 * ts["mean_promised_rate"], label="mean promised rate (open platforms)")
    ax.plot(ts["day"], 100 * ts["outside_rate"], label="outside option", ls="--")
    ax.plot(ts["day"], 100 * ts["transfer_discount"], label="debt-transfer discount", ls=":")
    ax.set(title="Rates", xlabel="day", ylabel="% (annual; discount: % of principal)")
    ax.legend(fontsize=8)
    ax.margins(x=0)
    _save(fig, path)


def plot_run(result: RunResult, folder: Path) -> list[Path]:
    """Write the run's PNGs into ``folder``; returns their paths."""
    ts = result.timeseries
    plots = {"platforms_by_status.png": plot_status, "flows.png": plot_flows,
             "balance_sheet.png": plot_balance_sheet, "rates.png": plot_rates}
    paths = []
    for name, fn in plots.items():
        fn(ts, folder / name)
        paths.append(folder / name)
    return paths
