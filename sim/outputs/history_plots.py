"""A run of a historical scenario against the yearly facts of China's P2P sector.

The figure takes the yearly table of :func:`sim.experiments.history.yearly` and the targets of
:func:`sim.experiments.history.load_targets`, and returns a matplotlib Figure with four panels:
platforms operating at each year's end (scaled by the sampling ratio), mean promised yield,
lending volume and loan balance as an index (2017 = 1), and mean loan term.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.experiments.history import REFERENCE_YEAR

SIMULATED, TARGET = "#1d3557", "#d1495b"


def _target_series(targets: pd.DataFrame, quantity: str) -> pd.Series:
    facts = targets[(targets["quantity"] == quantity) & targets["year"].str.isdigit()]
    return pd.Series(facts["low"].to_numpy(), index=facts["year"].astype(int).to_numpy())


def _panel(ax, years: pd.Series, simulated: pd.Series, target: pd.Series, title: str,
           ylabel: str) -> None:
    ax.plot(years, simulated, "o-", color=SIMULATED, lw=1.8, label="simulated")
    if not target.empty:
        ax.plot(target.index, target.to_numpy(), "s--", color=TARGET, lw=1.4,
                label="history (targets)")
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_ylabel(ylabel)
    ax.grid(True, color="#dddddd", lw=0.6)
    ax.set_axisbelow(True)
    ax.legend(fontsize=8)


def plot_history_fit(years: pd.DataFrame, targets: pd.DataFrame, scenario: str,
                     seed: int) -> Figure:
    """Simulated yearly figures against the targets (four panels).

    Args:
        years: :func:`sim.experiments.history.yearly`, complete years only are drawn.
        targets: :func:`sim.experiments.history.load_targets`.
        scenario: name shown in the title.
        seed: seed shown in the title.
    """
    fig = Figure(figsize=(12, 8), layout="constrained")
    (a, b), (c, d) = fig.subplots(2, 2)
    done = years[years["complete"]]
    x = pd.Series(done.index, index=done.index)
    _panel(a, x, done["operating_platforms_end_year"],
           _target_series(targets, "operating_platforms_end_year"),
           "Platforms operating normally at the year's end (simulated x sampling ratio)",
           "platforms")
    _panel(b, x, done["mean_promised_yield"], _target_series(targets, "mean_promised_yield"),
           "Mean promised yield (the year's mean)", "% a year")
    for column, style in (("lending_volume", "-"), ("loan_balance_end_year", ":")):
        if REFERENCE_YEAR in done.index and done.loc[REFERENCE_YEAR, column] > 0:
            sim_index = done[column] / done.loc[REFERENCE_YEAR, column]
            facts = _target_series(targets, column)
            target_index = (facts / facts.get(REFERENCE_YEAR, np.nan)
                            if REFERENCE_YEAR in facts.index else facts * np.nan)
            c.plot(x, sim_index, "o" + style, color=SIMULATED, lw=1.8,
                   label=f"simulated {column.replace('_', ' ')}")
            c.plot(target_index.index, target_index.to_numpy(), "s" + style, color=TARGET,
                   lw=1.4, label=f"history {column.replace('_', ' ')}")
    c.set_title(f"Lending and loan balance, index ({REFERENCE_YEAR} = 1)", fontsize=10,
                loc="left")
    c.set_ylabel(f"index, {REFERENCE_YEAR} = 1")
    c.grid(True, color="#dddddd", lw=0.6)
    c.legend(fontsize=7)
    _panel(d, x, done["mean_loan_term"], _target_series(targets, "mean_loan_term"),
           "Mean term of the loans made in the year", "months")
    for ax in (a, b, c, d):
        ax.set_xlabel("year")
    fig.suptitle(f"{scenario} (seed {seed}) against China's P2P sector, 2013-2020", fontsize=12)
    return fig
