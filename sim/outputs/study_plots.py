"""Figures of the studies in :mod:`sim.experiments.studies` (DataFrames in, Figures out)."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

GROUP_COLOURS = {"peers": "#d1495b", "others": "#1d3557"}
GROUP_LABELS = {"peers": "peers (same business model and rate class)",
                "others": "other platforms"}


def plot_peer_news(table: pd.DataFrame, scenario: str, fraud_day: int) -> Figure:
    """After a fraud: rate changes and claims of peers and others, against the same run without it.

    Args:
        table: :func:`sim.experiments.studies.peer_news`.
        scenario: name shown in the title.
        fraud_day: the day of the fraud (a vertical line).
    """
    fig = Figure(figsize=(11, 7), layout="constrained")
    top, low = fig.subplots(2, 1, sharex=True)
    for name, group in table.groupby("group"):
        label = f"{GROUP_LABELS[name]} ({int(group['platforms'].iloc[0])})"
        top.plot(group["day"], group["rate_change_pp"], color=GROUP_COLOURS[name], lw=1.8,
                 label=label)
        low.plot(group["day"], group["claims_ratio"], color=GROUP_COLOURS[name], lw=1.8,
                 label=label)
    for ax in (top, low):
        ax.axvline(fraud_day, color="grey", lw=1, ls="--")
        ax.grid(True, color="#dddddd", lw=0.6)
        ax.legend(fontsize=8)
    top.axhline(0, color="grey", lw=0.8)
    low.axhline(1, color="grey", lw=0.8)
    top.set_ylabel("promised rate, with fraud\nminus without (points)")
    low.set_ylabel("investor claims, with fraud\n/ without")
    low.set_xlabel("day (dashed: the fraud)")
    fig.suptitle(f"{scenario}: a fraud at the largest platform, against the same seed without it",
                 fontsize=11)
    return fig
