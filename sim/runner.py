"""Run a scenario from start to end and hand back every table (no file I/O here)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pandas as pd
from tqdm import tqdm

from sim.config import Scenario
from sim.model import P2PModel


@dataclass
class RunResult:
    """Everything one run produced, in memory."""

    scenario: Scenario
    seed: int
    timeseries: pd.DataFrame
    platforms: pd.DataFrame
    platform_daily: pd.DataFrame
    events: pd.DataFrame
    summary: dict
    elapsed_seconds: float
    extra: dict = field(default_factory=dict)


def run_scenario(scenario: Scenario, seed: int | None = None, progress: bool = True) -> RunResult:
    """Build the model, step it ``scenario.run.days`` days and collect the outputs.

    Args:
        scenario: validated scenario.
        seed: overrides ``scenario.run.seed``.
        progress: show a tqdm progress bar on stderr.
    """
    start = time.perf_counter()
    model = P2PModel(scenario, seed=seed)
    days = scenario.run.days
    with tqdm(total=days, unit="day", desc=scenario.name, disable=not progress,
              leave=False) as bar:
        model.run(days, progress=bar.update)
    return RunResult(
        scenario=scenario, seed=model.seed, timeseries=model.timeseries(),
        platforms=model.platform_table(), platform_daily=model.platform_daily(),
        events=model.events_table(), summary=model.summary(),
        elapsed_seconds=time.perf_counter() - start)
