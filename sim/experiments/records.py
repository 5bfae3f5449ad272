"""What one run of an experiment hands back, and where finished runs are kept while it goes on.

An experiment (a sweep, a comparison) is a list of tasks, each a design point (or policy set)
``point`` and a replication ``replication`` run with one ``seed``. Each finished run becomes a
:class:`RunRecord`, committed to a :class:`RunStore` as soon as it comes back. A store knows which
(point, replication) pairs are done, so an experiment run again skips them: with a store on disk
(:class:`sim.outputs.store.ParquetStore`) a killed sweep resumes where it stopped.
:class:`MemoryStore` keeps records in memory (no resuming), the default from Python.

:func:`experiment_fingerprint` names an experiment by what its runs are (scenarios and seeds), so
a store is never resumed with runs of another experiment.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd
from tqdm import tqdm

KEY_COLUMNS = ("point", "replication", "seed")
TIMING_COLUMN = "run_seconds"  # wall time of the run: the only column that differs between reruns


@dataclass
class RunRecord:
    """One finished run.

    Attributes:
        point: design point (or policy set) number, from 0.
        replication: replication number, from 0.
        seed: the seed it ran with.
        labels: what names the point: factor values by dotted key, a set name, ...
        outcomes: every numeric summary value (NaN where the summary has ``None``).
        run_seconds: wall time of the run.
        series: daily series (name -> array over days, with ``day``), or ``None``.
    """

    point: int
    replication: int
    seed: int
    labels: dict = field(default_factory=dict)
    outcomes: dict = field(default_factory=dict)
    run_seconds: float = 0.0
    series: dict | None = None

    @property
    def key(self) -> tuple[int, int]:
        """(point, replication): what a store keys runs by."""
        return (self.point, self.replication)

    def row(self) -> dict:
        """The record as one row: keys, labels, outcomes and the run time."""
        return {"point": self.point, "replication": self.replication, "seed": self.seed,
                **self.labels, **self.outcomes, TIMING_COLUMN: self.run_seconds}

    def series_frame(self) -> pd.DataFrame | None:
        """The daily series as a frame with ``point`` and ``replication``, or ``None``."""
        if self.series is None:
            return None
        return pd.DataFrame({"point": self.point, "replication": self.replication,
                             **self.series})


class RunStore(Protocol):
    """Where an experiment commits its finished runs (see :class:`MemoryStore`)."""

    def done(self) -> set[tuple[int, int]]:
        """The (point, replication) pairs already committed."""

    def commit(self, record: RunRecord) -> None:
        """Keep one finished run (atomically, for a store on disk)."""

    def runs(self) -> pd.DataFrame:
        """One row per committed run, sorted by point and replication."""

    def series(self) -> pd.DataFrame | None:
        """The committed daily series, or ``None`` if runs carry none."""


class MemoryStore:
    """A store in memory: no resuming, nothing written.

    Attributes:
        records: committed records by (point, replication).
    """

    def __init__(self) -> None:
        self.records: dict[tuple[int, int], RunRecord] = {}

    def done(self) -> set[tuple[int, int]]:
        """The (point, replication) pairs committed so far."""
        return set(self.records)

    def commit(self, record: RunRecord) -> None:
        """Keep ``record`` (a second record of the same key replaces the first)."""
        self.records[record.key] = record

    def runs(self) -> pd.DataFrame:
        """One row per run, sorted by point and replication."""
        return runs_frame(r.row() for r in self.records.values())

    def series(self) -> pd.DataFrame | None:
        """The daily series of every run, sorted by point, replication and day."""
        frames = [r.series_frame() for r in self.records.values() if r.series is not None]
        return sort_series(pd.concat(frames, ignore_index=True)) if frames else None


def runs_frame(rows: Iterable[dict]) -> pd.DataFrame:
    """Rows of runs as a frame sorted by point and replication, the keys first.

    Args:
        rows: from :meth:`RunRecord.row`.

    Returns:
        The frame (empty with the key columns when there are no rows).
    """
    frame = pd.DataFrame(list(rows))
    if frame.empty:
        return pd.DataFrame(columns=[*KEY_COLUMNS, TIMING_COLUMN])
    return frame.sort_values(["point", "replication"], kind="stable").reset_index(drop=True)


def sort_series(frame: pd.DataFrame) -> pd.DataFrame:
    """Daily series sorted by point, replication and day.

    Args:
        frame: long daily series with those columns.

    Returns:
        The sorted frame with a fresh index.
    """
    return frame.sort_values(["point", "replication", "day"], kind="stable").reset_index(drop=True)


def is_number(value) -> bool:
    """Whether a summary value is a number (or ``None``, a number that did not happen)."""
    return value is None or (isinstance(value, int | float | np.number)
                             and not isinstance(value, bool | np.bool_))


def numeric_outcomes(summary: dict) -> dict[str, float]:
    """The numeric values of a run summary as floats, ``None`` as NaN.

    Args:
        summary: a run's summary.

    Returns:
        Outcome key -> float.
    """
    return {k: math.nan if v is None else float(v) for k, v in summary.items() if is_number(v)}


def experiment_fingerprint(kind: str, tasks: Iterable[dict]) -> str:
    """sha256 of what an experiment's runs are: its kind and every task's key, seed and scenario.

    Args:
        kind: ``"sweep"`` or ``"comparison"``.
        tasks: dicts with ``point``, ``replication``, ``seed`` and ``scenario`` (JSON data).

    Returns:
        The hex digest.
    """
    digest = hashlib.sha256(kind.encode())
    for task in tasks:
        identity = {k: task[k] for k in ("point", "replication", "seed", "scenario")}
        digest.update(json.dumps(identity, sort_keys=True, separators=(",", ":")).encode())
    return digest.hexdigest()


@dataclass
class Progress:
    """How an experiment's runs went.

    Attributes:
        total: runs in the experiment.
        skipped: runs already in the store (resumed).
        ran: runs done now.
        elapsed_seconds: wall time of the runs done now.
        workers: workers of the executor.
        executor: its name (``in process``, ``local pool``, ``dask``).
        warnings: what the executor warned about (e.g. slow Dask workers).
    """

    total: int
    skipped: int
    ran: int
    elapsed_seconds: float
    workers: int
    executor: str
    warnings: list[str] = field(default_factory=list)


def run_pending(function: Callable[[dict], RunRecord], tasks: list[dict], store: RunStore,
                executor=None, workers: int = 1, progress: bool = True,
                desc: str = "runs") -> Progress:
    """Run every task whose (point, replication) is not in ``store`` and commit each as it ends.

    Results are committed in the order they finish; what a store holds does not depend on that
    order, nor on the executor (each run depends on its task alone).

    Args:
        function: module-level; runs one task and returns its :class:`RunRecord`.
        tasks: dicts with at least ``point`` and ``replication``.
        store: where finished runs go (and which are done already).
        executor: an executor already entered (:func:`sim.experiments.executor.make_executor`);
            default one made from ``workers``.
        workers: local processes when no executor is given.
        progress: a tqdm bar with rate and ETA on stderr (only when stderr is a terminal).
        desc: the bar's label.

    Returns:
        The counts and the time taken.

    Raises:
        Exception: the first error a run raised; the runs committed before it stay committed.
    """
    from sim.experiments import executor as executors  # lazy: keeps this module light

    done = store.done()
    pending = [t for t in tasks if (t["point"], t["replication"]) not in done]
    start = time.perf_counter()
    own = executor is None
    if own:
        executor = executors.make_executor(min(workers, max(1, len(pending))))
        executor.__enter__()
    try:
        with tqdm(total=len(tasks), initial=len(tasks) - len(pending), unit="run", desc=desc,
                  disable=None if progress else True, dynamic_ncols=True, smoothing=0.1) as bar:
            for _, record in executor.imap(function, pending):
                store.commit(record)
                bar.update()
        warnings = executor.warnings()
    finally:
        if own:
            executor.__exit__(*sys.exc_info())
    return Progress(total=len(tasks), skipped=len(tasks) - len(pending), ran=len(pending),
                    elapsed_seconds=time.perf_counter() - start, workers=executor.workers,
                    executor=executor.name, warnings=warnings)
