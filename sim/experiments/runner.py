"""Run a scenario from day 0 to its last day and hand back every table, in memory.

Nothing here prints or writes files: :mod:`sim.cli` prints and :mod:`sim.outputs.results`
writes. The only output is the optional tqdm progress bar, which goes to stderr and switches
itself off when stderr is not a terminal (so logs and pipes stay clean).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pandas as pd
from tqdm import tqdm

from sim.config import Scenario, validate_scenario
from sim.model import P2PModel


@dataclass
class RunResult:
    """Everything one run produced.

    Attributes:
        scenario: the scenario as run; ``run.days`` and ``run.seed`` are the values actually used,
            so re-running this scenario reproduces the result.
        seed: seed of the model's generator.
        timeseries: one row per day (day 0 is the initial state); money in yuan, rates annual.
        platforms: one row per platform ever created, state at the end of the run.
        platform_daily: day x platform panel; ``status`` is categorical.
        events: failures, exits, shocks and other events (``details`` holds JSON).
        cascade: one row per failure with the contagion channel and parent failure.
        summary: end-of-run outcomes; values may be numpy scalars, NaN or None.
        elapsed_seconds: wall-clock time of set-up plus simulation, seconds.
    """

    scenario: Scenario
    seed: int
    timeseries: pd.DataFrame
    platforms: pd.DataFrame
    platform_daily: pd.DataFrame
    events: pd.DataFrame
    summary: dict
    elapsed_seconds: float
    cascade: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def days(self) -> int:
        """Simulated days."""
        return self.scenario.run.days


def _as_run(scenario: Scenario, seed: int | None, days: int | None) -> Scenario:
    """The scenario with the seed and length actually used, validated like a scenario file.

    Going through :func:`validate_scenario` means a bad ``days`` or ``seed`` is reported as a
    :class:`~sim.config.ScenarioError` naming the field, as it would be in a file.
    """
    if seed is None and days is None:
        return scenario
    data = scenario.model_dump(mode="json")
    if seed is not None:
        data["run"]["seed"] = seed
    if days is not None:
        data["run"]["days"] = days
    return validate_scenario(data, source="run_scenario()")


def run_scenario(scenario: Scenario, seed: int | None = None, days: int | None = None,
                 progress: bool = True) -> RunResult:
    """Build the model, step it day by day and collect its outputs.

    Args:
        scenario: validated scenario.
        seed: overrides ``scenario.run.seed``.
        days: overrides ``scenario.run.days`` (one step is one day).
        progress: show a progress bar on stderr (only when stderr is a terminal).

    Returns:
        The run's tables and summary.

    Raises:
        ScenarioError: a bad ``seed`` or ``days``, or a scenario the model cannot set up
            (e.g. a shock naming no platform).
    """
    scenario = _as_run(scenario, seed, days)
    start = time.perf_counter()
    model = P2PModel(scenario, seed=scenario.run.seed)  # explicit: seed=None would be fresh
    # disable=None lets tqdm turn itself off when stderr is not a TTY (pipes, CI logs, tests).
    with tqdm(total=scenario.run.days, unit="day", desc=scenario.name, leave=False,
              disable=None if progress else True, dynamic_ncols=True) as bar:
        model.run(progress=bar.update)
    return RunResult(
        scenario=scenario,
        seed=model.seed,
        timeseries=model.timeseries(),
        platforms=model.platform_table(),
        platform_daily=model.platform_daily(),
        events=model.events_table(), cascade=model.cascade_table(),
        summary=model.summary(),
        elapsed_seconds=time.perf_counter() - start,
    )
