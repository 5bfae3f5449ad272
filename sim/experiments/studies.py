"""Small studies behind the README's figures, each a function from scenarios to a table.

* :func:`peer_news`: after a fraud, how rates and money move at the fraudster's peers (same
  business model and rate class) and at the other platforms, against the same run without the
  fraud (common random numbers).

The tables go to :mod:`sim.outputs.study_plots` for figures.
"""

from __future__ import annotations

import pandas as pd

from sim.config import Scenario
from sim.experiments.runner import RunResult, run_scenario


def _paired(scenario: Scenario, seed: int | None) -> tuple[RunResult, RunResult]:
    shocked = run_scenario(scenario, seed=seed, progress=False)
    calm_config = scenario.model_copy(deep=True)
    calm_config.shocks = []
    calm = run_scenario(calm_config, seed=seed, progress=False)
    return shocked, calm


def peer_news(scenario: Scenario, seed: int | None = None, rate_band: float = 0.01) -> pd.DataFrame:
    """Rates and claims of the fraudster's peers and of the other platforms, shock minus calm.

    The scenario's first shock must be a fraud. Peers share the fraudster's business model and
    promise a rate within ``rate_band`` of its rate on the fraud's day; the others are every
    other platform open that day. For each day and group: the mean promised rate in the run
    with the fraud minus the run without it (percentage points), and the group's claims with
    the fraud over its claims without it.

    Returns:
        Columns ``day``, ``group`` (``peers`` or ``others``), ``rate_change_pp``,
        ``claims_ratio``, ``platforms``.
    """
    fraud = scenario.shocks[0]
    if fraud.type != "fraud":
        raise ValueError("peer_news needs a scenario whose first shock is a fraud")
    shocked, calm = _paired(scenario, seed)
    victim = int(shocked.events.query("event == 'absconded'")["platform"].iloc[0])
    day0 = fraud.start
    table = shocked.platforms.set_index("platform")
    panel_s = shocked.platform_daily.set_index(["day", "platform"])
    panel_c = calm.platform_daily.set_index(["day", "platform"])
    before = panel_s.xs(day0 - 1, level="day")
    open_then = before.index[before["status"].isin(["ACTIVE", "DISTRESSED"])].difference([victim])
    model_of = table.loc[open_then, "business_model"]
    rate_gap = (before.loc[open_then, "rate"] - before.loc[victim, "rate"]).abs()
    peers = open_then[(model_of == table.loc[victim, "business_model"]).to_numpy()
                      & (rate_gap <= rate_band).to_numpy()]
    others = open_then.difference(peers)
    rows = []
    for day in range(day0 - 30, int(shocked.timeseries["day"].max()) + 1):
        if day < 0:
            continue
        s, c = panel_s.xs(day, level="day"), panel_c.xs(day, level="day")
        for name, group in (("peers", peers), ("others", others)):
            ids = group.intersection(s.index).intersection(c.index)
            if len(ids) == 0:
                continue
            rows.append({"day": day, "group": name,
                         "rate_change_pp": 100 * float(s.loc[ids, "rate"].mean()
                                                       - c.loc[ids, "rate"].mean()),
                         "claims_ratio": float(s.loc[ids, "products"].sum()
                                               / max(c.loc[ids, "products"].sum(), 1.0)),
                         "platforms": len(ids)})
    return pd.DataFrame(rows)


def summarise_peer_news(table: pd.DataFrame, days_after: int = 60) -> dict:
    """Mean rate change and claims ratio per group over ``days_after`` days after the fraud."""
    start = int(table["day"].min()) + 30
    window = table[(table["day"] >= start) & (table["day"] < start + days_after)]
    out = {}
    for name, group in window.groupby("group"):
        out[name] = {"rate_change_pp": float(group["rate_change_pp"].mean()),
                     "claims_ratio": float(group["claims_ratio"].mean()),
                     "platforms": int(group["platforms"].iloc[0])}
    return out


__all__ = ["peer_news", "summarise_peer_news"]
