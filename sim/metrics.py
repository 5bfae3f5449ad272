"""What a run records: daily market series, a per-platform panel, events and end-of-run outcomes.

Daily series go through Mesa's :class:`~mesa.DataCollector` (model reporters), which the model
exposes as ``model.datacollector`` for ``mesa.batch_run`` and SolaraViz. The same collector
gains one ``summary.<outcome>`` column per summary value on the scenario's last day
(:meth:`Recorder.record_summary`): the summary on that day, ``None`` on the days before. So
``batch_run`` returns the daily series and the summary together, and the days before the last
pay nothing for it. The per-platform panel is
kept in preallocated arrays because it is platforms x days numbers.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import mesa
import numpy as np
import pandas as pd

from sim.vocabulary import (
    DISORDERLY_CAUSES,
    EXIT_CAUSES,
    FAILURE_CAUSES,
    STRESS_SOURCES,
    Carrier,
    EventKind,
    FailureCause,
    Owner,
    Status,
)

if TYPE_CHECKING:
    from sim.model import P2PModel


def _status_count(status: Status):
    return lambda m: int((m.platforms.status[: m.platforms.n] == status).sum())


def _flow(name: str):
    return lambda m: float(m.flows_today[name])


def _daily_reporters() -> dict:
    """Model reporters: name -> function of the model. Money in yuan, rates annual."""
    reporters = {"day": lambda m: m.day}
    for s in Status:
        reporters[f"platforms_{s.name.lower()}"] = _status_count(s)
    # Operating and taking new money (not winding down): "normal operating" in the trackers.
    reporters["platforms_open"] = lambda m: int(m.platforms.open_mask().sum())
    reporters.update({
        "deposits": _flow("deposits"),
        "payouts": lambda m: m.flows_today["payouts"] + m.flows_today["estate_payouts"],
        "net_flow": lambda m: m.flows_today["deposits"] - m.flows_today["payouts"],
        "requests": _flow("requests"),
        "unpaid_backlog": lambda m: float(m.platforms.backlog[: m.platforms.n].sum()),
        "investor_claims": lambda m: float(m.platforms.products[: m.platforms.n].sum()),
        "platform_cash": lambda m: float(m.platforms.cash[: m.platforms.n].sum()),
        "loans_outstanding": lambda m: float(m.platforms.loans[: m.platforms.n].sum()),
        "fake_loans": lambda m: float(m.platforms.fake_loans[: m.platforms.n].sum()),
        "credit_supplied": _flow("credit"),
        # Principal-weighted mean term of the loans made today, days (NaN without lending).
        "mean_loan_term_days": lambda m: (m.flows_today["credit_term_days"] / m.flows_today["credit"]
                                          if m.flows_today["credit"] > 0 else float("nan")),
        "loan_defaults": _flow("defaults"),
        "fire_sold": _flow("fire_sold"),
        "fire_sale_loss": _flow("fire_sale_loss"),
        "transfer_discount": lambda m: m.transfer_market.discount,
        "mean_promised_rate": _mean_open_rate,
        "outside_rate": lambda m: m.conditions.outside_rate,
        "investor_losses": lambda m: float(m.ledger.total("claims_written_off")),
        # Written off plus what open estates are expected to fall short by (see summarize).
        "investor_losses_expected": lambda m: float(m.ledger.total("claims_written_off")
                                                    + estate_shortfalls(m).sum()),
        "stolen": lambda m: float(m.ledger.stolen),
        "mean_fear": lambda m: m.investors.mean_fear(),
        "investors_participating": lambda m: float(m.investors.participating.mean()),
    })
    return reporters


def _mean_open_rate(model: P2PModel) -> float:
    p = model.platforms
    open_ = p.open_mask()
    weights = p.products[: p.n][open_]
    if weights.sum() <= 0:
        return float("nan")
    return float(np.average(p.rate[: p.n][open_], weights=weights))


PANEL_FIELDS = ("status", "products", "cash", "loans", "rate", "backlog")
SUMMARY_PREFIX = "summary."


def _not_yet(model: P2PModel) -> None:
    """A summary column's value before the last day: nothing yet."""
    return None


class Recorder:
    """Collects the daily series (Mesa DataCollector) and the per-platform panel.

    Args:
        model: the model being recorded.
    """

    def __init__(self, model: P2PModel) -> None:
        daily = _daily_reporters()
        self.daily_columns = list(daily)
        self.collector = mesa.DataCollector(model_reporters=daily)
        self.panel_capacity = model.config.run.days + 1  # days the panel records
        # Each day's row holds the platforms that exist that day only, not every slot of
        # ``max_platforms``: a (days x max_platforms) float array per field came to 35 MB in a
        # one-year run with 80 of 2,000 slots in use.
        self.panel_rows: dict[str, list[np.ndarray]] = {f: [] for f in PANEL_FIELDS}
        self.panel_days = 0

    def collect(self, model: P2PModel) -> None:
        """Record today's series and panel row."""
        self.collector.collect(model)
        if self.panel_days < self.panel_capacity:
            n = model.platforms.n
            for f in PANEL_FIELDS:
                self.panel_rows[f].append(getattr(model.platforms, f)[:n].astype(np.float64))
            self.panel_days += 1
        self.model = model

    def record_summary(self, model: P2PModel) -> None:
        """Write the end-of-run summary into the collector's ``summary.*`` columns of today.

        Called by the model on its last day, after today's collection. Each summary value
        becomes a column (``None`` on earlier days); a column is also registered as a reporter
        that reports ``None``, so any later day still lines up.

        Args:
            model: the model at its horizon.
        """
        summary = summarize(model)
        columns = self.collector.model_vars
        days = len(columns[self.daily_columns[0]])
        for key, value in summary.items():
            column = SUMMARY_PREFIX + key
            if column not in columns:
                columns[column] = [None] * days
                self.collector.model_reporters[column] = _not_yet
            columns[column][-1] = value.item() if isinstance(value, np.generic) else value

    def timeseries(self) -> pd.DataFrame:
        """The daily series, one row per day from day 0 (without the summary columns)."""
        data = self.collector.model_vars
        return pd.DataFrame({name: data[name] for name in self.daily_columns})

    def platform_daily(self) -> pd.DataFrame:
        """The platform x day panel, from each platform's entry day."""
        model = self.model
        n = model.platforms.n
        days = self.panel_days
        entry = model.platforms.entry_day[:n]
        day_grid = np.repeat(np.arange(days), n)
        plat_grid = np.tile(np.arange(n), days)
        frame = {"day": day_grid, "platform": plat_grid}
        for f in PANEL_FIELDS:
            table = np.zeros((days, n))
            for day, row in enumerate(self.panel_rows[f][:days]):
                table[day, : len(row)] = row
            frame[f] = table.ravel()
        df = pd.DataFrame(frame)
        df = df[df["day"].to_numpy() >= entry[df["platform"].to_numpy()]]
        df["status"] = pd.Categorical.from_codes(df["status"].astype(int),
                                                 [s.name for s in Status])
        return df.reset_index(drop=True)


def platform_table(model: P2PModel) -> pd.DataFrame:
    """One row per platform ever created: owner, status, cause, dates, balance sheet."""
    p = model.platforms
    n = p.n
    causes = {f["platform"]: f["cause"] for f in model.failures}
    for e in model.events:
        if e["event"] == EventKind.EXIT:
            causes[e["platform"]] = e["cause"]
    return pd.DataFrame({
        "platform": np.arange(n),
        "name": [a.name for a in model.platform_agents[:n]],
        "owner": [Owner(int(o)).name.lower() for o in p.owner[:n]],
        "status": [Status(int(s)).name for s in p.status[:n]],
        "cause": [causes.get(i, "") for i in range(n)],
        "entry_day": p.entry_day[:n],
        "exit_day": p.exit_day[:n],
        "capital": p.capital[:n],
        "registered_capital": p.registered_capital[:n],
        "business_model": p.business_model[:n],
        "promised_rate": p.rate[:n],
        "screening": p.screening[:n],
        "demand_share": p.demand_share[:n],
        "cash": p.cash[:n],
        "loans": p.loans[:n],
        "fake_loans": p.fake_loans[:n],
        "products": p.products[:n],
        "equity": p.equity(),
    })


def events_table(model: P2PModel) -> pd.DataFrame:
    """Events with their fixed columns; anything else goes into a JSON ``details`` column."""
    fixed = ("day", "event", "platform", "name", "cause")
    rows = []
    for e in model.events:
        extra = {k: v for k, v in e.items() if k not in fixed}
        rows.append({**{k: e.get(k, "") for k in fixed},
                     "details": json.dumps(extra, sort_keys=True, default=float)})
    return pd.DataFrame(rows, columns=[*fixed, "details"])


def cascade_table(model: P2PModel) -> pd.DataFrame:
    """One row per failure, in order: what failed, why, and which channel carried the stress.

    ``channel`` is the channel that contributed most to the platform's stress in the days before
    it failed (``shock`` = hit directly, ``own`` = its owner's choice with no outside stress,
    ``none`` = no outside stress: bad loans or a Ponzi book). ``parent`` is the failure before it
    when a contagion channel carried the stress. ``stress_*`` columns hold every channel's
    contribution (perceived expected loss or loss share; a simple attribution).
    """
    names = [a.name for a in model.platform_agents]
    rows = []
    for order, f in enumerate(model.failures):
        parent = f.get("parent")
        row = {"order": order, "day": f["day"], "platform": f["platform"],
               "name": names[f["platform"]], "cause": f["cause"], "channel": f["channel"],
               "parent": -1 if parent is None else parent,
               "parent_name": "" if parent is None else names[parent],
               "promised_rate": f["rate"]}
        for channel in STRESS_SOURCES:
            row[f"stress_{channel}"] = f["contributions"].get(channel, 0.0)
        rows.append(row)
    columns = ["order", "day", "platform", "name", "cause", "channel", "parent", "parent_name",
               "promised_rate", *[f"stress_{c}" for c in STRESS_SOURCES]]
    return pd.DataFrame(rows, columns=columns)


def contagion_outcomes(model: P2PModel, ts: pd.DataFrame) -> dict:
    """Cascade size, contagion multiplier, shock-to-peak-outflow time, failures by channel.

    * contagion multiplier = all failures / failures hit directly by a shock (None without one);
    * time to peak outflow = days from the first shock to the largest daily payout after it.
    """
    failures = model.failures
    by_channel = {str(c): 0 for c in Carrier}
    for f in failures:
        by_channel[f["channel"]] = by_channel.get(f["channel"], 0) + 1
    direct = by_channel[Carrier.SHOCK]
    starts = [s.start for s in model.config.shocks]
    peak_after = None
    if starts and len(ts) > min(starts):
        after = ts[ts["day"] >= min(starts)]
        peak_after = int(after.loc[after["payouts"].idxmax(), "day"]) - min(starts)
    contagious = sum(n for c, n in by_channel.items()
                     if c not in (Carrier.SHOCK, Carrier.OWN, Carrier.NONE))
    return {
        "contagion_multiplier": len(failures) / direct if direct else None,
        "failures_direct": direct,
        "failures_by_contagion": contagious,
        "days_shock_to_peak_outflow": peak_after,
        **{f"failures_via_{c}": n for c, n in by_channel.items()},
    }


def estate_shortfalls(model: P2PModel) -> np.ndarray:
    """Expected shortfall of each platform's estate still in resolution, yuan (0 elsewhere).

    Per estate: ``max(claims - cash - collection_rate * loans - cover still due, 0)``, where
    the cover still due is protection-fund compensation scheduled but not yet paid. Without
    it, a run that ends while estates are open would report only the losses already written
    off (resolution can take years [S2]).
    """
    plats = model.platforms
    n = plats.n
    open_estates = plats.in_resolution[:n]
    if not open_estates.any():
        return np.zeros(n)
    due = model.policies.cover_due(n) + model.channels.cover_due(n)
    shortfall = (plats.products[:n] - plats.cash[:n]
                 - model.config.resolution.collection_rate * plats.loans[:n] - due)
    return np.where(open_estates, np.maximum(shortfall, 0.0), 0.0)


def investors_with_loss(model: P2PModel, shortfall: np.ndarray) -> np.ndarray:
    """Investors who lost money.

    A claim written off, or a claim on an estate expected to fall short (see
    :func:`estate_shortfalls`).
    """
    inv = model.investors
    lost = inv.loss > 0
    for platform in np.flatnonzero(shortfall > 1e-6):
        slots = model.holdings.at(platform)
        lost[slots[inv.pos_principal[slots] > 0] // inv.slots] = True
    return lost


def summarize(model: P2PModel) -> dict:
    """End-of-run outcomes (MODEL.md, "Outcomes every run reports"). Money in yuan."""
    ts = model.timeseries()
    led = model.ledger
    inv = model.investors
    failures = model.failures
    # A failure leaves an estate in resolution (claims unpaid); an exit leaves owing nothing
    # (orderly exits, and closures by order of platforms that had repaid everyone). They are
    # counted apart, so platforms_ever = platforms_open_end + failures + exits.
    by_cause = {str(c): 0 for c in FAILURE_CAUSES}
    exits_by_cause = {str(c): 0 for c in EXIT_CAUSES}
    for f in failures:
        by_cause[f["cause"]] = by_cause.get(f["cause"], 0) + 1
    for e in model.events:
        if e["event"] == EventKind.EXIT:
            exits_by_cause[e["cause"]] = exits_by_cause.get(e["cause"], 0) + 1
    left = {c: by_cause.get(c, 0) + exits_by_cause.get(c, 0) for c in FailureCause}
    invested = led.total("deposits") + led.total("interest_capitalised")
    written_off = led.total("claims_written_off")
    shortfall = estate_shortfalls(model)
    pending = float(shortfall.sum())
    lost = investors_with_loss(model, shortfall)
    losses = written_off + pending
    covered = model.policies.cover_paid() + led.total("claims_guaranteed")
    first = min((f["day"] for f in failures), default=None)
    lent = led.total("loans_made")
    owed = sum(f["claims"] for f in failures)
    estates = [f["platform"] for f in failures]
    lost_in_estates = float(led.flows["claims_written_off"][estates].sum() + shortfall[estates].sum())
    interest = led.total("interest_received")
    return {
        "days": model.day,
        "platforms_ever": int(model.platforms.n),
        "platforms_open_end": int(model.platforms.open_mask().sum()),
        # Still paying investors, whether taking new money or not (winding down, an outage):
        # platforms_ever = platforms_operating_end + failures + exits.
        "platforms_operating_end": int(model.platforms.operating_mask().sum()),
        "failures": len(failures),
        **{f"failures_{c}": n for c, n in by_cause.items()},
        "exits": sum(exits_by_cause.values()),
        **{f"exits_{c}": n for c, n in exits_by_cause.items()},
        "failures_disorderly": sum(by_cause[c] for c in DISORDERLY_CAUSES),
        "first_failure_day": first,
        "cascade_size": sum(1 for f in failures if first is not None and f["day"] > first),
        # Losses investors bear, after protection and guarantees: written off, plus what estates
        # still in resolution are expected to fall short by.
        "investor_losses": losses,
        "investor_losses_written_off": written_off,
        "investor_losses_pending": pending,
        # Before cover: what investors would have lost had nobody paid their claims off.
        "investor_losses_gross": losses + covered,
        "investor_loss_share": losses / invested if invested > 0 else 0.0,
        # What investors get back, after cover, of what failed and closed estates owed them.
        "investor_recovery_rate": 1.0 - lost_in_estates / owed if owed > 0 else None,
        "investors_with_loss": int(lost.sum()),
        "investors_with_loss_share": float(lost.mean()) if inv.count else 0.0,
        "guarantee_payouts": led.total("claims_guaranteed"),
        **model.policies.outcomes(),
        "credit_supplied": lent,
        "borrower_interest_paid": interest,
        "loan_defaults": float(ts["loan_defaults"].sum()),
        "stolen": led.stolen,
        "peak_daily_outflow": float(ts["payouts"].max()),
        "peak_unpaid_backlog": float(ts["unpaid_backlog"].max()),
        "final_investor_claims": float(ts["investor_claims"].iloc[-1]),
        "mean_promised_rate_end": float(ts["mean_promised_rate"].iloc[-1]),
        # Shares of all exits from the market by cause (failures, closures and orderly exits).
        **{f"failure_share_{c}": (n / sum(left.values()) if sum(left.values()) else 0.0)
           for c, n in left.items()},
        **contagion_outcomes(model, ts),
    }
