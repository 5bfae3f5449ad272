"""Parameter sweeps: a sweep file, its design (drawn by SALib), its runs and their store.

A sweep file (TOML, validated by pydantic like a scenario) names a base scenario, the factors
to vary, a design, the replications and the outcomes wanted::

    name = "stress_sensitivity"
    scenario = "../stress_2018.toml"        # relative to the sweep file
    set = { "investors.count" = 20000 }      # fixed changes to the base scenario (optional)
    replications = 1                         # runs per design point (common random numbers)
    outcomes = ["contagion_multiplier", "investor_losses"]

    [design]
    method = "sobol"                         # grid, lhs, sobol or morris
    samples = 64                             # see below
    seed = 1                                 # of the sampler

    [[factors]]
    key = "shocks.0.size"                    # a dotted scenario key (sim.config.dotted)
    range = [0.01, 0.03]                     # continuous, uniform; integer = true rounds
    [[factors]]
    key = "policies.protection_fund.enabled"
    levels = [false, true]                   # discrete: equally likely levels

**Designs.** Samples come from SALib (``SALib.sample``) for the sampled designs, so they are the
field's standard designs with its standard estimators behind them:

* ``grid``: every combination of the factors' ``levels`` (a ``range`` gives ``design.points``
  evenly spaced values); ``prod(levels)`` points.
* ``lhs``: a Latin hypercube of ``samples`` points (``SALib.sample.latin``).
* ``sobol``: Saltelli's scheme with a scrambled Sobol' sequence (``SALib.sample.sobol``),
  ``samples * (D + 2)`` points for ``D`` factors (``* (2D + 2)`` with ``second_order``);
  ``samples`` should be a power of 2. Indices: :mod:`sim.experiments.sensitivity`.
* ``morris``: ``samples`` elementary-effect trajectories on a ``levels``-level grid
  (``SALib.sample.morris``), ``samples * (D + 1)`` points.

Sampled designs draw each factor on [0, 1] and map it to its ``range`` (or to one of its
``levels``: level ``floor(u * n)``), so discrete factors work in every design.

**Seeds.** Replication ``r`` of every design point runs with seed ``base + r`` (``base`` is
``seed`` in the file, else the scenario's ``run.seed``), the rule ``compare`` follows: every
point faces the same random draws (common random numbers), so differences between points come
from the factors, not from luck. Sensitivity indices use the mean over replications of each
point. The design's own randomness is seeded by ``design.seed``. Nothing depends on the
executor or the number of workers.

**Validation.** Every design point is built (the base scenario's JSON data, the ``set``
changes, then the factor values, :func:`sim.config.dotted.apply_dotted`) and validated like a
scenario file before any run starts; a bad key or an out-of-range value names the point.

Nothing here prints or writes files: runs are committed to a store (:mod:`sim.outputs.store`
on disk), and :mod:`sim.outputs.results` writes the report.
"""

from __future__ import annotations

import itertools
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.config import Scenario, ScenarioError, load_scenario, validate_scenario
from sim.config.dotted import apply_dotted, key_parts
from sim.experiments.records import (
    MemoryStore,
    Progress,
    RunRecord,
    RunStore,
    experiment_fingerprint,
    numeric_outcomes,
    run_pending,
)
from sim.experiments.runner import run_scenario
from sim.vocabulary import outcomes

METHODS = ("grid", "lhs", "sobol", "morris")
Scalar = bool | int | float | str


class SweepError(ScenarioError):
    """A sweep file or design that cannot be run; printed as one ``error:`` line."""


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Factor(_Table):
    """One factor: a scenario field by dotted key, with a range or levels.

    Attributes:
        key: dotted scenario key, e.g. ``shocks.0.size`` or
            ``policies.protection_fund.coverage_share``.
        range: [low, high] of a continuous factor (uniform).
        levels: the values of a discrete factor (equally likely), any scalars.
        integer: round a ``range`` factor's values to integers.
        label: shown in tables and plots (default the key).
    """

    key: str = Field(description="Dotted scenario key, e.g. shocks.0.size.")
    range: tuple[float, float] | None = Field(None, description="[low, high], continuous.")
    levels: list[Scalar] | None = Field(None, min_length=1, description="Discrete values.")
    integer: bool = Field(False, description="Round a range factor to integers.")
    label: str | None = Field(None, description="Name in tables and plots (default the key).")

    @field_validator("key")
    @classmethod
    def _dotted(cls, key: str) -> str:
        key_parts(key)
        return key

    @model_validator(mode="after")
    def _range_or_levels(self) -> Factor:
        if (self.range is None) == (self.levels is None):
            raise ValueError(f"factor '{self.key}': give either range = [low, high] or levels")
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError(f"factor '{self.key}': range {list(self.range)} must have low < high")
        return self

    @property
    def name(self) -> str:
        """Label, or the key."""
        return self.label or self.key

    def value(self, u: float) -> Scalar:
        """The factor's value at ``u`` in [0, 1] (a uniform draw or a grid position).

        Args:
            u: position in [0, 1].

        Returns:
            ``low + u * (high - low)`` (rounded if ``integer``), or level ``floor(u * n)``.
        """
        if self.levels is not None:
            return self.levels[min(int(u * len(self.levels)), len(self.levels) - 1)]
        low, high = self.range
        x = low + float(u) * (high - low)
        return int(round(x)) if self.integer else x

    def grid(self, points: int) -> list[Scalar]:
        """The factor's values in a full grid: its levels, or ``points`` evenly spaced values."""
        if self.levels is not None:
            return list(self.levels)
        values = np.linspace(self.range[0], self.range[1], points)
        return [int(round(v)) for v in values] if self.integer else [float(v) for v in values]


class Design(_Table):
    """How design points are drawn.

    Attributes:
        method: ``grid``, ``lhs``, ``sobol`` or ``morris``.
        samples: lhs points; sobol base samples N; morris trajectories.
        points: grid values of a ``range`` factor.
        levels: morris grid levels.
        second_order: sobol second-order indices too (more runs).
        seed: of the sampler.
    """

    method: Literal[METHODS] = Field(description="The design: " + ", ".join(METHODS) + ".")
    samples: Annotated[int, Field(ge=1)] = Field(
        16, description="lhs: points; sobol: base samples N (a power of 2); morris: trajectories.")
    points: Annotated[int, Field(ge=2)] = Field(3, description="grid: values per range factor.")
    levels: Annotated[int, Field(ge=2)] = Field(4, description="morris: grid levels.")
    second_order: bool = Field(False, description="sobol: second-order indices too.")
    seed: Annotated[int, Field(ge=0)] = Field(1, description="Seed of the sampler.")

    @model_validator(mode="after")
    def _power_of_two(self) -> Design:
        if self.method == "sobol" and self.samples & (self.samples - 1):
            raise ValueError(f"sobol samples must be a power of 2 (Sobol' sequence balance); "
                             f"got {self.samples}")
        return self


class SweepSpec(_Table):
    """A sweep file (see the module doc).

    Attributes:
        name: names the sweep's folders.
        description: one line on what it asks.
        scenario: the base scenario file, relative to the sweep file.
        set: fixed changes to the base scenario, by dotted key.
        factors: what varies.
        design: how points are drawn.
        replications: runs per point; replication r uses seed base + r.
        seed: the base seed (default the scenario's run.seed).
        outcomes: registered outcomes to analyse (every numeric outcome is stored anyway).
    """

    name: str = Field(min_length=1, description="Name of the sweep.")
    description: str = Field("", description="What the sweep asks.")
    scenario: str = Field(description="Base scenario file, relative to the sweep file.")
    set: dict[str, Any] = Field(default_factory=dict, description="Fixed changes, dotted keys.")
    factors: list[Factor] = Field(min_length=1, description="The factors.")
    design: Design
    replications: Annotated[int, Field(ge=1)] = Field(1, description="Runs per design point.")
    seed: Annotated[int, Field(ge=0)] | None = Field(None, description="Base seed.")
    outcomes: list[str] = Field(min_length=1, description="Outcomes to analyse.")

    @field_validator("outcomes")
    @classmethod
    def _registered(cls, keys: list[str]) -> list[str]:
        known = {o.key for o in outcomes()}
        for key in keys:
            if key not in known:
                raise ValueError(f"unknown outcome '{key}'; known outcomes: "
                                 + ", ".join(sorted(known)))
        return keys

    @model_validator(mode="after")
    def _distinct(self) -> SweepSpec:
        keys = [f.key for f in self.factors]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise ValueError(f"factor '{twice[0]}' is given twice")
        if self.design.method == "grid":
            return self
        if len(self.factors) < 2 and self.design.method in ("sobol", "morris"):
            raise ValueError(f"{self.design.method} needs at least 2 factors")
        return self


@dataclass
class Sweep:
    """A sweep ready to run: the spec, its base scenario, design and tasks (all validated).

    Attributes:
        spec: the sweep file's content.
        scenario: the base scenario with the ``set`` changes.
        unit: design points on [0, 1] (rows x factors), in SALib's order.
        points: design points as factor values (one row per point, columns by key).
        seeds: replication seeds.
        tasks: one per point x replication, each with its full scenario as JSON data.
        source: where the spec came from (for messages).
    """

    spec: SweepSpec
    scenario: Scenario
    unit: np.ndarray
    points: pd.DataFrame
    seeds: list[int]
    tasks: list[dict]
    source: str = "sweep"

    @property
    def keys(self) -> list[str]:
        """The factors' dotted keys, in file order."""
        return [f.key for f in self.spec.factors]

    @property
    def runs(self) -> int:
        """Runs in the sweep: points x replications."""
        return len(self.tasks)

    def fingerprint(self) -> str:
        """The experiment fingerprint (scenarios and seeds of every run)."""
        return experiment_fingerprint("sweep", self.tasks)

    def problem(self) -> dict:
        """The SALib problem: factors on [0, 1] (the unit design's space)."""
        return salib_problem(self.spec)


def _format_error(err: ValidationError, source: str) -> str:
    item = err.errors()[0]
    where = ".".join(str(p) for p in item["loc"])
    message = item["msg"].removeprefix("Value error, ")
    if item["type"] == "extra_forbidden":
        return f"{source}: unknown key '{where}'"
    if item["type"] == "missing":
        return f"{source}: '{where}' is missing"
    return f"{source}: {where + ': ' if where else ''}{message}"


def parse_spec(data: dict, source: str = "sweep") -> SweepSpec:
    """Validate sweep data.

    Args:
        data: the sweep file's tables.
        source: named in messages.

    Returns:
        The spec.

    Raises:
        SweepError: one message naming the key and what is allowed.
    """
    try:
        return SweepSpec.model_validate(data)
    except ValidationError as err:
        raise SweepError(_format_error(err, source)) from None


def salib_problem(spec: SweepSpec) -> dict:
    """SALib's problem dict: every factor on [0, 1], mapped to its values by :meth:`Factor.value`.

    Args:
        spec: the sweep.

    Returns:
        ``num_vars``, ``names`` (the dotted keys) and ``bounds``.
    """
    return {"num_vars": len(spec.factors), "names": [f.key for f in spec.factors],
            "bounds": [[0.0, 1.0]] * len(spec.factors)}


def unit_design(spec: SweepSpec) -> np.ndarray:
    """The design on [0, 1]^D, drawn by SALib (``grid``: positions of every combination).

    Args:
        spec: the sweep.

    Returns:
        Points x factors, in the order SALib's analysis expects.
    """
    design, problem = spec.design, salib_problem(spec)
    if design.method == "grid":
        sizes = [len(f.grid(design.points)) for f in spec.factors]
        # Position i of n levels -> the middle of its cell, so Factor.value gives level i back.
        return np.array([[(i + 0.5) / n for i, n in zip(combo, sizes, strict=True)]
                         for combo in itertools.product(*(range(n) for n in sizes))])
    from SALib.sample import latin, morris, sobol  # the sweep extra; imported when used

    if design.method == "lhs":
        return latin.sample(problem, design.samples, seed=design.seed)
    if design.method == "sobol":
        return sobol.sample(problem, design.samples, calc_second_order=design.second_order,
                            seed=design.seed)
    return morris.sample(problem, design.samples, num_levels=design.levels, seed=design.seed)


def point_values(spec: SweepSpec, unit: np.ndarray) -> pd.DataFrame:
    """Factor values of every design point.

    Args:
        spec: the sweep.
        unit: the design on [0, 1].

    Returns:
        One row per point, one column per factor key.
    """
    if spec.design.method == "grid":
        grids = [f.grid(spec.design.points) for f in spec.factors]
        rows = [dict(zip([f.key for f in spec.factors], combo, strict=True))
                for combo in itertools.product(*grids)]
        return pd.DataFrame(rows)
    return pd.DataFrame([{f.key: f.value(u) for f, u in zip(spec.factors, row, strict=True)}
                         for row in unit])


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def build_sweep(spec: SweepSpec, base: Scenario, source: str = "sweep") -> Sweep:
    """Draw the design and build and validate every design point's scenario.

    Args:
        spec: the sweep.
        base: the base scenario (before the spec's ``set`` changes).
        source: named in messages.

    Returns:
        The sweep, every task validated.

    Raises:
        SweepError: the design cannot be drawn (the sweep extra is missing).
        ScenarioError: a ``set`` change or a design point that does not validate; the message
            names the point and its factor values.
    """
    try:
        unit = unit_design(spec)
    except ImportError:
        raise SweepError("SALib is not installed: pip install 'p2psim[sweep]'") from None
    data = apply_dotted(base.model_dump(mode="json"), spec.set)
    scenario = validate_scenario(data, source=f"{source}: set")
    points = point_values(spec, unit)
    base_seed = scenario.run.seed if spec.seed is None else spec.seed
    seeds = [base_seed + r for r in range(spec.replications)]
    base_data = scenario.model_dump(mode="json")
    tasks = []
    for i, row in enumerate(points.to_dict("records")):
        values = {k: _plain(v) for k, v in row.items()}
        where = f"{source}: design point {i} (" + ", ".join(
            f"{k} = {v!r}" for k, v in values.items()) + ")"
        point_data = apply_dotted(_copy(base_data), values)
        point_scenario = validate_scenario(point_data, source=where)
        for r, seed in enumerate(seeds):
            run_data = point_scenario.model_dump(mode="json")
            run_data["run"]["seed"] = seed
            tasks.append({"point": i, "replication": r, "seed": seed, "labels": values,
                          "scenario": run_data})
    return Sweep(spec=spec, scenario=scenario, unit=unit, points=points, seeds=seeds,
                 tasks=tasks, source=source)


def _copy(data):
    if isinstance(data, dict):
        return {k: _copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_copy(v) for v in data]
    return data


def load_sweep(path: str | Path, overrides: list[str] | None = None) -> Sweep:
    """Read, validate and build a sweep file (every design point validated).

    Args:
        path: the sweep TOML file.
        overrides: ``dotted.key=value`` changes to the *base scenario* (like ``--set``), applied
            before the file's own ``set``.

    Returns:
        The sweep.

    Raises:
        SweepError: an unreadable or invalid sweep file.
        ScenarioError: a base scenario or design point that does not validate.
    """
    path = Path(path)
    if not path.is_file():
        raise SweepError(f"{path}: no such sweep file" + (" (it is a folder)" if path.is_dir()
                                                          else ""))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))  # a BOM is not an error
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise SweepError(f"{path}: not a valid TOML sweep file ({err})") from None
    if not data:
        raise SweepError(f"{path}: the sweep file is empty (or only comments); it needs name, "
                         "scenario, [design] and [[factors]]")
    spec = parse_spec(data, source=str(path))
    scenario_path = (path.parent / spec.scenario)
    base = load_scenario(scenario_path, overrides or [])
    return build_sweep(spec, base, source=str(path))


def run_point(task: dict) -> RunRecord:
    """Run one design point's replication (top level: workers import it by name).

    Args:
        task: from :attr:`Sweep.tasks`.

    Returns:
        The run: its factor values as labels and every numeric summary value.
    """
    scenario = validate_scenario(task["scenario"], source=f"design point {task['point']}")
    result = run_scenario(scenario, progress=False)
    return RunRecord(point=task["point"], replication=task["replication"], seed=task["seed"],
                     labels=dict(task["labels"]), outcomes=numeric_outcomes(result.summary),
                     run_seconds=result.elapsed_seconds)


@dataclass
class SweepResult:
    """A finished sweep: every run, one row per (point, replication).

    Attributes:
        sweep: the sweep.
        runs: from the store (:func:`sim.outputs.store.read_store`'s columns).
        progress: how the runs went (resumed, ran now, time, executor).
    """

    sweep: Sweep
    runs: pd.DataFrame
    progress: Progress

    def point_means(self, key: str) -> np.ndarray:
        """The mean of outcome ``key`` over replications at each design point, in design order.

        Args:
            key: an outcome.

        Returns:
            One value per point (NaN where no replication has a value).
        """
        means = self.runs.groupby("point")[key].mean()
        return means.reindex(range(len(self.sweep.points))).to_numpy(dtype=float)


def run_sweep(sweep: Sweep, store: RunStore | None = None, executor=None, workers: int = 1,
              progress: bool = True) -> SweepResult:
    """Run every design point x replication not yet in ``store``, committing each as it ends.

    Args:
        sweep: from :func:`load_sweep` or :func:`build_sweep`.
        store: where runs go; a :class:`sim.outputs.store.ParquetStore` makes the sweep
            resumable. Default in memory.
        executor: an executor already entered (:func:`sim.experiments.executor.make_executor`).
        workers: local processes when no executor is given.
        progress: a tqdm bar with ETA on stderr (only when stderr is a terminal).

    Returns:
        The sweep's runs, read back from the store.
    """
    store = MemoryStore() if store is None else store
    done = run_pending(run_point, sweep.tasks, store, executor=executor, workers=workers,
                       progress=progress, desc=sweep.spec.name)
    return SweepResult(sweep=sweep, runs=store.runs(), progress=done)


__all__ = ["METHODS", "Design", "Factor", "Sweep", "SweepError", "SweepResult", "SweepSpec",
           "build_sweep", "load_sweep", "parse_spec", "point_values", "run_point",
           "run_sweep", "salib_problem", "unit_design"]
