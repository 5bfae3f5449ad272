"""Policy comparison: every policy set, ``N`` replications each, compared with ``none``.

A comparison runs one scenario under several *policy sets* (the levers, see
:mod:`sim.experiments.policy_sets`), ``N`` replications each, and compares every outcome with the
no-policy baseline ``none`` (statistics in :mod:`sim.experiments.analysis`).

* **Common random numbers.** Replication ``r`` of every set runs with seed ``base + r``, where
  ``base`` is ``--seed`` or the scenario's ``run.seed``. Replication 0 of ``none`` is therefore
  exactly ``p2psim run SCENARIO`` with every policy off. The model turns the integer into its
  generator through numpy's ``SeedSequence``, so neighbouring seeds give independent streams.
  Every set sees the same seeds, so differences from ``none`` are paired per replication.
* **Tasks.** One task per set x replication (:func:`make_tasks`), each a plain-data scenario, run
  by :func:`run_task` in this process or in a process pool (:mod:`sim.experiments.executor`).
  Results are put in set and replication order, so they do not depend on the number of workers.

Nothing here prints or writes files: :mod:`sim.cli` prints and :mod:`sim.outputs.results`
writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.config import Scenario, validate_scenario
from sim.experiments.analysis import compare_outcomes
from sim.experiments.policy_sets import BASELINE, PolicySet, replication_seeds, scenario_for
from sim.experiments.records import (
    TIMING_COLUMN,
    MemoryStore,
    RunRecord,
    RunStore,
    numeric_outcomes,
    run_pending,
)
from sim.experiments.runner import run_scenario

# Daily series kept from every run for confidence bands: name -> function of the timeseries.
SERIES: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "platforms_operating": lambda ts: ts["platforms_active"] + ts["platforms_distressed"],
    "platforms_failed": lambda ts: sum(ts[c] for c in ("platforms_failed", "platforms_absconded",
                                                       "platforms_closed") if c in ts),
    "payouts": lambda ts: ts["payouts"],
    "deposits": lambda ts: ts["deposits"],
    "unpaid_backlog": lambda ts: ts["unpaid_backlog"],
    "investor_claims": lambda ts: ts["investor_claims"],
    "loans_outstanding": lambda ts: ts["loans_outstanding"],
    "credit_supplied_cum": lambda ts: ts["credit_supplied"].cumsum(),
    "investor_losses": lambda ts: ts["investor_losses_expected"],
}


def run_task(task: dict) -> RunRecord:
    """Run one (set, replication) and return its summary and daily series (small, picklable).

    Top level and fed plain JSON data, so it works in worker processes and on Dask workers.

    Args:
        task: ``point`` (the set's number), ``set``, ``replication``, ``seed`` and ``scenario``
            (the scenario as JSON data, with its policies and seed already set).

    Returns:
        The run: labelled with its set, every numeric summary value (``None`` as NaN) and the
        daily :data:`SERIES`.
    """
    scenario = validate_scenario(task["scenario"], source=f"set '{task['set']}'")
    result = run_scenario(scenario, progress=False)
    ts = result.timeseries
    return RunRecord(
        point=task["point"], replication=task["replication"], seed=task["seed"],
        labels={"set": task["set"]}, outcomes=numeric_outcomes(result.summary),
        run_seconds=result.elapsed_seconds,
        series={"day": ts["day"].to_numpy(dtype=np.int64),
                **{name: np.asarray(f(ts), dtype=np.float64) for name, f in SERIES.items()}})


@dataclass
class Comparison:
    """Everything a comparison produced.

    Attributes:
        scenario: the scenario as given (its own policies are replaced by each set's).
        sets: the policy sets, ``none`` first.
        seeds: replication seeds (the same for every set).
        runs: one row per set x replication: ``set``, ``replication``, ``seed`` and every
            numeric summary value (NaN for ``None``), sorted by set order then replication.
        series: long daily table: ``set``, ``replication``, ``day`` and the :data:`SERIES`.
        table: one row per set x outcome: ``set``, ``outcome``, ``mean``, ``diff``, ``ci_low``,
            ``ci_high``, ``n`` (see :func:`sim.experiments.analysis.compare_outcomes`).
        workers: processes used.
        elapsed_seconds: wall time of all runs.
        run_seconds: summed run times (CPU-bound work, whatever the number of workers).
    """

    scenario: Scenario
    sets: list[PolicySet]
    seeds: list[int]
    runs: pd.DataFrame
    series: pd.DataFrame
    table: pd.DataFrame
    workers: int
    elapsed_seconds: float
    run_seconds: float

    @property
    def replications(self) -> int:
        """Replications per set."""
        return len(self.seeds)

    def rows(self) -> dict[tuple[str, str], pd.Series]:
        """The comparison table keyed by (set, outcome); each row keeps every column."""
        return {(r["set"], r["outcome"]): r for _, r in self.table.iterrows()}

    @property
    def set_names(self) -> list[str]:
        """Set names in order, ``none`` first."""
        return [s.name for s in self.sets]

    @property
    def outcomes(self) -> list[str]:
        """The outcomes compared, in table order."""
        return list(dict.fromkeys(self.table["outcome"]))


def make_tasks(scenario: Scenario, sets: list[PolicySet], seeds: list[int]) -> list[dict]:
    """One task per set x replication, each with its full scenario as JSON data.

    Args:
        scenario: the scenario as given.
        sets: the policy sets; each replaces the scenario's ``[policies]``.
        seeds: replication seeds, the same for every set.

    Returns:
        Tasks for :func:`run_task`, set by set, replication by replication.

    Raises:
        ScenarioError: a set whose policies do not validate.
    """
    tasks = []
    for policy_set in sets:
        for r, seed in enumerate(seeds):
            sc = scenario_for(scenario, policy_set, seed=seed, source=f"set '{policy_set.name}'")
            tasks.append({"point": len(tasks) // len(seeds), "set": policy_set.name,
                          "replication": r, "seed": seed, "scenario": sc.model_dump(mode="json")})
    return tasks


def run_comparison(scenario: Scenario, sets: list[PolicySet], replications: int,
                   seed: int | None = None, workers: int = 1, progress: bool = True,
                   store: RunStore | None = None, executor=None) -> Comparison:
    """Run every policy set ``replications`` times with common random numbers and compare.

    Runs already in ``store`` are not run again, so a comparison killed part-way and started
    again with the same store finishes only the rest (see :mod:`sim.outputs.store`).

    Args:
        scenario: validated scenario (``run.days`` as it should run).
        sets: from :func:`sim.experiments.policy_sets.policy_sets`; ``none`` must be first.
        replications: runs per set (at least 1; 2 or more for confidence intervals).
        seed: base seed (default the scenario's ``run.seed``); replication ``r`` uses ``seed + r``.
        workers: local processes when no ``executor`` is given; 1 runs in this process.
        progress: tqdm bar over all runs on stderr (only when stderr is a terminal).
        store: where finished runs are committed (default in memory: nothing resumes).
        executor: an executor already entered (:func:`sim.experiments.executor.make_executor`).

    Returns:
        The comparison.

    Raises:
        ScenarioError: a set that does not validate or a model that cannot be set up.
        ValueError: ``replications`` or ``workers`` below 1, or ``none`` not first.
    """
    if replications < 1:
        raise ValueError("replications must be at least 1")
    if workers < 1:
        raise ValueError("workers must be at least 1")
    if not sets or sets[0].name != BASELINE:
        raise ValueError(f"the first policy set must be the baseline '{BASELINE}'")
    base = scenario.run.seed if seed is None else int(seed)
    seeds = replication_seeds(base, replications)
    tasks = make_tasks(scenario, sets, seeds)
    store = MemoryStore() if store is None else store
    done = run_pending(run_task, tasks, store, executor=executor, workers=workers,
                       progress=progress, desc="compare")
    stored = store.runs()
    names = {i: s.name for i, s in enumerate(sets)}
    runs = stored.drop(columns=["point", TIMING_COLUMN])
    runs = runs[["set", "replication", "seed",
                 *[c for c in runs.columns if c not in ("set", "replication", "seed")]]]
    series = store.series()
    series.insert(0, "set", series.pop("point").map(names))
    table = compare_outcomes(runs, [s.name for s in sets])
    return Comparison(scenario=scenario, sets=sets, seeds=seeds, runs=runs, series=series,
                      table=table, workers=done.workers, elapsed_seconds=done.elapsed_seconds,
                      run_seconds=float(stored[TIMING_COLUMN].sum()))
