"""A run's yearly figures against the facts of China's P2P sector.

The targets are ``scenarios/data/china_p2p_targets.csv`` (a copy of the project's calibration
facts, with units and sources in its header and ``seeds/calibration.md``). A simulated market is
a sample of the real one, so counts are scaled by the scenario's sampling ratio
(``history.platforms_per_platform``) and money is compared as an index (each year against the
same year's target, relative to a reference year); rates and terms are compared as they are.

:func:`yearly` turns a run's daily series into calendar years; :func:`moments` puts them beside
the targets. Both work on the DataFrames a run returns, so they serve plots, reports and the
calibration alike.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from sim import shipped

TARGETS_DIR = shipped.folder() / "data"  # the shipped data, installed or in a checkout
REFERENCE_YEAR = 2017  # money is indexed to this year (the peak of lending)
DAYS_PER_MONTH = 365.0 / 12.0


def load_targets(name: str = "china_p2p_targets.csv", folder: Path | None = None) -> pd.DataFrame:
    """The targets file as a table: year, quantity, value, unit, note.

    Lines starting with ``#`` are comments. A value given as a range (``10-35``) is kept as text
    in ``value`` and split into ``low`` and ``high``; single values have ``low == high``.
    """
    path = Path(folder or TARGETS_DIR) / name
    table = pd.read_csv(path, comment="#", dtype={"year": str, "value": str})
    # A plain number first (so 1e-05 is not read as a range), then "low-high".
    number = pd.to_numeric(table["value"], errors="coerce")
    parts = table["value"].str.split("-", n=1, expand=True).reindex(columns=[0, 1])
    table["low"] = number.fillna(pd.to_numeric(parts[0], errors="coerce"))
    table["high"] = number.fillna(pd.to_numeric(parts[1], errors="coerce")).fillna(table["low"])
    return table


def calendar_years(days: pd.Series, start: date) -> pd.Series:
    """The calendar year of each simulated day (day 0 is ``start``)."""
    base = pd.Timestamp(start)
    return (base + pd.to_timedelta(days.astype(int), unit="D")).dt.year


def yearly(timeseries: pd.DataFrame, start: date, platforms_per_platform: float) -> pd.DataFrame:
    """A run's figures by calendar year, in the units of the targets.

    Columns: ``operating_platforms_end_year`` (platforms operating normally, that is taking new
    money and not winding down, on the last simulated day of the year, times the sampling
    ratio); ``mean_promised_yield`` (percent a year, mean of the
    daily claims-weighted rate); ``lending_volume`` (yuan lent in the year, simulated scale);
    ``loan_balance_end_year`` (loans outstanding at the year's end, simulated scale);
    ``mean_loan_term`` (months, principal-weighted over the year's loans); ``complete`` (the
    whole year was simulated).
    """
    ts = timeseries.copy()
    ts["year"] = calendar_years(ts["day"], start)
    ts["operating"] = ts["platforms_open"]
    ts["term_x_credit"] = ts["mean_loan_term_days"].fillna(0.0) * ts["credit_supplied"]
    grouped = ts.groupby("year")
    last_day = grouped["day"].max()
    end_of_year = {y: (pd.Timestamp(date(y, 12, 31)) - pd.Timestamp(start)).days
                   for y in last_day.index}
    out = pd.DataFrame({
        "operating_platforms_end_year": grouped["operating"].last() * platforms_per_platform,
        "mean_promised_yield": 100.0 * grouped["mean_promised_rate"].mean(),
        "lending_volume": grouped["credit_supplied"].sum(),
        "loan_balance_end_year": grouped["loans_outstanding"].last(),
        "mean_loan_term": (grouped["term_x_credit"].sum() / grouped["credit_supplied"].sum()
                           / DAYS_PER_MONTH),
        "complete": [last_day[y] >= end_of_year[y] for y in last_day.index],
    })
    out.index.name = "year"
    return out


# The quantities compared, how, and in which unit (the targets' own).
COMPARED = {
    "operating_platforms_end_year": "level",
    "mean_promised_yield": "level",
    "mean_loan_term": "level",
    "lending_volume": "index",
    "loan_balance_end_year": "index",
}


def moments(years: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """Every yearly target the run can be held against, beside the simulated value.

    Levels are compared as they are (platform counts already scaled). Money is compared as an
    index: ``simulated(year) / simulated(REFERENCE_YEAR)`` against the same ratio of targets.
    Only complete simulated years are used.

    Returns:
        Columns ``quantity``, ``year``, ``target``, ``simulated``, ``unit``, ``how``.
    """
    rows = []
    complete = years[years["complete"]]
    for quantity, how in COMPARED.items():
        facts = targets[(targets["quantity"] == quantity) & targets["year"].str.isdigit()]
        for _, fact in facts.iterrows():
            year = int(fact["year"])
            if year not in complete.index:
                continue
            simulated = float(complete.loc[year, quantity])
            target = float(fact["low"])
            unit = fact["unit"]
            if how == "index":
                ref = facts[facts["year"] == str(REFERENCE_YEAR)]
                if ref.empty or REFERENCE_YEAR not in complete.index:
                    continue
                base = float(complete.loc[REFERENCE_YEAR, quantity])
                target = target / float(ref["low"].iloc[0])
                simulated = simulated / base if base > 0 else np.nan
                unit = f"index, {REFERENCE_YEAR} = 1"
            rows.append({"quantity": quantity, "year": year, "target": target,
                         "simulated": simulated, "unit": unit, "how": how})
    return pd.DataFrame(rows, columns=["quantity", "year", "target", "simulated", "unit", "how"])


def recovery_target(targets: pd.DataFrame) -> tuple[float, float]:
    """The range of investor recovery after failure in the targets, as shares (0.10, 0.35)."""
    row = targets[targets["quantity"] == "investor_recovery_after_failure"].iloc[0]
    return float(row["low"]) / 100.0, float(row["high"]) / 100.0


def day_of(start: date, when: date) -> int:
    """The simulated day of a calendar date."""
    return (when - start).days


def date_of(start: date, day: int) -> date:
    """The calendar date of a simulated day."""
    return start + timedelta(days=int(day))
