"""Calibration targets and free parameters: the two files ``p2psim calibrate`` reads.

**Targets file** (TOML): which rows of a targets CSV are moments, how each is simulated and
how much it weighs::

    csv = "china_p2p_targets.csv"          # relative to this file (history.load_targets format)
    weighting = "inverse_variance"         # or "identity"
    sd_share = 0.10                        # target's own error: sd as a share of |target|

    [[moments]]
    quantity = "operating_platforms_end_year"   # the CSV's quantity column
    years = [2013, 2014, 2015]                  # the CSV's year column (one moment per year)
    statistic = "level"                         # level | index | summary
    weight = 1.0                                # multiplies this moment's weight
    sd = 20.0                                   # optional: the target's sd (its unit)

``level`` compares a yearly figure of :func:`sim.experiments.history.yearly` as it is (platform
counts scaled by ``history.platforms_per_platform``), ``index`` relative to the reference year
(money: the sample is a scaled market), ``summary`` a run-summary outcome (``outcome``) times
``scale`` (e.g. 100 for percent) against the CSV value, a range ``10-35`` giving its midpoint and
sd ``(high - low) / 4`` (the range read as a 95% interval).

**Params file** (TOML): the free parameters as dotted scenario keys with bounds, and the search::

    [[params]]
    key = "platforms.entry_spread_elasticity"
    bounds = [2.0, 8.0]

    [search]
    popsize = 4       # differential evolution: population = popsize * k
    maxiter = 8       # generations after the initial population
    seed = 1          # of the optimizer: the same seed proposes the same points
    jacobian_step = 0.05   # finite-difference step, share of each parameter's range

Every moment is a row of the CSV: a moment without one is an error, so no target is invented.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.config import ScenarioError
from sim.config.dotted import key_parts
from sim.experiments import history
from sim.experiments.runner import RunResult


class CalibrationError(ScenarioError):
    """A targets or params file that cannot be used; printed as one ``error:`` line."""


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MomentGroup(_Table):
    """One quantity of the CSV over some years (see the module doc)."""

    quantity: str = Field(min_length=1, description="The CSV's quantity column.")
    years: list[int | str] = Field(min_length=1, description="CSV years; 'any' for undated rows.")
    statistic: Literal["level", "index", "summary"] = "level"
    outcome: str | None = Field(None, description="summary: the run-summary outcome key.")
    scale: float = Field(1.0, description="summary: multiplies the simulated value.")
    weight: Annotated[float, Field(gt=0.0)] = 1.0
    sd: Annotated[float, Field(gt=0.0)] | None = Field(None, description="Target sd, its unit.")

    @model_validator(mode="after")
    def _summary_outcome(self) -> MomentGroup:
        if (self.statistic == "summary") != (self.outcome is not None):
            raise ValueError(f"moments '{self.quantity}': give outcome exactly when statistic "
                             "is 'summary'")
        return self


class TargetsSpec(_Table):
    """A targets file."""

    csv: str = Field(description="Targets CSV, relative to the targets file.")
    weighting: Literal["identity", "inverse_variance"] = "inverse_variance"
    sd_share: Annotated[float, Field(gt=0.0, le=1.0)] = 0.10
    moments: list[MomentGroup] = Field(min_length=1)


class Param(_Table):
    """A free parameter: a dotted scenario key and its bounds."""

    key: str
    bounds: tuple[float, float]

    @model_validator(mode="after")
    def _ordered(self) -> Param:
        key_parts(self.key)
        if not self.bounds[0] < self.bounds[1]:
            raise ValueError(f"param '{self.key}': bounds {list(self.bounds)} need low < high")
        return self


class Search(_Table):
    """Settings of the differential-evolution search."""

    popsize: Annotated[int, Field(ge=2)] = 4
    maxiter: Annotated[int, Field(ge=0)] = 8
    seed: Annotated[int, Field(ge=0)] = 1
    jacobian_step: Annotated[float, Field(gt=0.0, le=0.5)] = 0.05


class ParamsSpec(_Table):
    """A params file."""

    params: list[Param] = Field(min_length=1)
    search: Search = Field(default_factory=Search)

    @model_validator(mode="after")
    def _distinct(self) -> ParamsSpec:
        keys = [p.key for p in self.params]
        if len(set(keys)) != len(keys):
            raise ValueError("a param key is given twice")
        return self

    @property
    def keys(self) -> list[str]:
        """The dotted keys, in file order."""
        return [p.key for p in self.params]

    @property
    def bounds(self) -> np.ndarray:
        """The bounds, one row (low, high) per parameter."""
        return np.array([p.bounds for p in self.params], dtype=float)


@dataclass(frozen=True)
class Moment:
    """One moment: a CSV row, its target value and sd, and how to simulate it.

    Attributes:
        name: ``quantity@year``, the store's column for it.
        quantity: the CSV's quantity.
        year: the CSV's year (``any`` for undated rows).
        statistic: ``level``, ``index`` or ``summary``.
        target: the target value (in the moment's unit).
        sd: the target's own error (measurement, tracker disagreement), same unit.
        weight: multiplies its weight.
        unit: the unit as the CSV gives it (or the index's).
        outcome: summary outcome key, or ``None``.
        scale: multiplies a summary outcome.
    """

    name: str
    quantity: str
    year: str
    statistic: str
    target: float
    sd: float
    weight: float
    unit: str
    outcome: str | None = None
    scale: float = 1.0

    def plain(self) -> dict:
        """The moment as plain data (for tasks and manifests)."""
        return dict(self.__dict__)


def _read(path: Path, model: type[BaseModel], what: str):
    if not path.is_file():
        raise CalibrationError(f"{path}: no such {what} file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise CalibrationError(f"{path}: not a valid TOML {what} file ({err})") from None
    try:
        return model.model_validate(data)
    except ValidationError as err:
        item = err.errors()[0]
        where = ".".join(str(p) for p in item["loc"])
        raise CalibrationError(f"{path}: {where + ': ' if where else ''}"
                               f"{item['msg'].removeprefix('Value error, ')}") from None


def load_params(path: str | Path) -> ParamsSpec:
    """Read and validate a params file.

    Raises:
        CalibrationError: unreadable or invalid, one message.
    """
    return _read(Path(path), ParamsSpec, "params")


def load_targets(path: str | Path) -> tuple[TargetsSpec, list[Moment], pd.DataFrame]:
    """Read a targets file and its CSV, and expand it into moments.

    Returns:
        The spec, the moments in file order and the CSV table.

    Raises:
        CalibrationError: unreadable, invalid, or a moment with no CSV row.
    """
    path = Path(path)
    spec = _read(path, TargetsSpec, "targets")
    csv = path.parent / spec.csv
    if not csv.is_file():
        raise CalibrationError(f"{path}: targets CSV {csv} not found")
    table = history.load_targets(csv.name, csv.parent)
    return spec, expand_moments(spec, table, source=str(path)), table


def _row(table: pd.DataFrame, quantity: str, year: str, source: str) -> pd.Series:
    rows = table[(table["quantity"] == quantity) & (table["year"] == year)]
    if rows.empty:
        raise CalibrationError(f"{source}: no row '{quantity}' for year {year} in the targets CSV")
    return rows.iloc[0]


def expand_moments(spec: TargetsSpec, table: pd.DataFrame, source: str = "targets"
                   ) -> list[Moment]:
    """One :class:`Moment` per (quantity, year) of the spec, with target value and sd.

    An ``index`` moment is ``value(year) / value(REFERENCE_YEAR)``; its sd is ``sd_share``
    times that. A range ``low-high`` gives the midpoint and ``(high - low) / 4``.

    Raises:
        CalibrationError: a (quantity, year) not in the CSV, or an index without its
            reference-year row.
    """
    moments = []
    for group in spec.moments:
        for year in group.years:
            row = _row(table, group.quantity, str(year), source)
            low, high = float(row["low"]), float(row["high"])
            target, unit = (low + high) / 2.0, str(row["unit"])
            range_sd = (high - low) / 4.0
            if group.statistic == "index":
                ref = _row(table, group.quantity, str(history.REFERENCE_YEAR), source)
                target /= float(ref["low"])
                unit = f"index, {history.REFERENCE_YEAR} = 1"
            sd = group.sd or range_sd or spec.sd_share * abs(target)
            if not sd > 0:
                raise CalibrationError(f"{source}: moment {group.quantity}@{year} has target 0; "
                                       "give its sd")
            moments.append(Moment(name=f"{group.quantity}@{year}", quantity=group.quantity,
                                  year=str(year), statistic=group.statistic, target=target,
                                  sd=float(sd), weight=group.weight, unit=unit,
                                  outcome=group.outcome, scale=group.scale))
    names = [m.name for m in moments]
    if len(set(names)) != len(names):
        raise CalibrationError(f"{source}: a moment is given twice")
    return moments


def simulated_moments(result: RunResult, moments: list[dict]) -> dict[str, float]:
    """The simulated value of every moment in one run (NaN where the run cannot give it).

    Args:
        result: a run of a scenario with a ``[history]`` table (start date, sampling ratio).
        moments: :meth:`Moment.plain` of each moment.

    Returns:
        Moment name -> value in the target's unit.
    """
    hist = result.scenario.history
    years = history.yearly(result.timeseries, hist.start_date, hist.platforms_per_platform)
    complete = years[years["complete"]]
    out = {}
    for m in moments:
        value = math.nan
        if m["statistic"] == "summary":
            raw = result.summary.get(m["outcome"])
            value = math.nan if raw is None else float(raw) * m["scale"]
        elif int(m["year"]) in complete.index:
            value = float(complete.loc[int(m["year"]), m["quantity"]])
            if m["statistic"] == "index":
                base = (float(complete.loc[history.REFERENCE_YEAR, m["quantity"]])
                        if history.REFERENCE_YEAR in complete.index else math.nan)
                value = value / base if base > 0 else math.nan
        out[m["name"]] = value
    return out
