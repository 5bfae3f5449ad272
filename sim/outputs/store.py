"""The results store: one Parquet file per finished run, plus a manifest, resumable after a kill.

A store is a folder::

    manifest.json                    what the experiment is (written once, when created)
    runs/p000012-r0003.parquet       one row: design point 12, replication 3, seed, labels,
                                     every numeric summary value and the run time
    series/p000012-r0003.parquet     that run's daily series (comparisons; sweeps keep none)
    .lock                            held while a process writes to the store

**Commit rule.** Each finished run is written as its own files, each to a hidden temp file that
is renamed into place (:func:`sim.outputs.results.write_parquet`); the series file first, the run
file last, so a run file marks a complete run. SIGKILL at any moment therefore loses at most the
runs in flight: a half-written file is only ever a hidden temp file, removed when the store is
opened next. Run files are named by (point, replication), so a run is stored at most once, and an
experiment run again skips every run already there (:meth:`ParquetStore.done`) and finishes the
rest: exactly one row per design point and seed.

**Which experiment.** The manifest holds the experiment's fingerprint (its scenarios and seeds,
:func:`sim.experiments.records.experiment_fingerprint`) and the code's
(:func:`code_fingerprint`). Opening a store with either different is refused: its runs would not
be the runs asked for. :func:`default_store` names the store after both, so the same command run
again finds its store, and a changed sweep or changed model code starts a new one.

Every file is written through :mod:`sim.outputs.results`, the one module that writes files. Read a
store back with :func:`read_store`.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from sim.experiments.records import RunRecord, runs_frame, sort_series
from sim.outputs import results
from sim.outputs.folders import STORE_KIND, signature

MANIFEST = "manifest.json"
RUNS = "runs"
SERIES = "series"
LOCK = ".lock"
STORE_ROOT = results.DEFAULT_ROOT / "store"
_PART = re.compile(r"^p(\d{6,})-r(\d{4,})\.parquet$")
# Source files that decide a run's numbers: the model side and the runner (not the outputs, the
# CLI, the benchmarks or the experiment plumbing around runs).
_CODE_FINGERPRINT = ("config", "market", "mechanisms", "model.py", "metrics.py", "schema.py",
                     "vocabulary.py", "experiments/runner.py")


class StoreError(results.OutputError):
    """A store that cannot be used for this experiment; the message is meant for the user."""


def code_fingerprint() -> str:
    """sha256 of the p2psim sources that decide a run's numbers.

    Every ``.py`` file of the ``sim`` package under :data:`_CODE_FINGERPRINT`, in path order. A model change (a recalibration, a new rule) gives a new fingerprint, so a store made
    by older code is never silently resumed.

    Returns:
        The hex digest.
    """
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package)
        if not any(relative.as_posix() == p or relative.as_posix().startswith(p + "/")
                   for p in _CODE_FINGERPRINT):
            continue
        digest.update(str(relative.as_posix()).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def part_name(point: int, replication: int) -> str:
    """File name of a run: ``p000012-r0003.parquet``.

    Args:
        point: design point.
        replication: replication.

    Returns:
        The name.
    """
    return f"p{point:06d}-r{replication:04d}.parquet"


def default_store(kind: str, name: str, experiment: str, out: str | Path | None = None) -> Path:
    """``<root>/store/<kind>-<name>-<12 hex digits>``, named by the experiment and the code.

    ``<root>`` is the folder the results folder goes in: ``runs``, or the parent of ``--out``.
    The same command run again therefore finds the same store and resumes (or reuses) its runs.

    Args:
        kind: ``sweep`` or ``compare``.
        name: the sweep's or scenario's name.
        experiment: the experiment fingerprint.
        out: the ``--out`` folder, if one was given.

    Returns:
        The folder (it may already hold runs of this very experiment).
    """
    both = hashlib.sha256(f"{experiment}:{code_fingerprint()}".encode()).hexdigest()[:12]
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "experiment"
    root = STORE_ROOT if out is None else Path(out).expanduser().absolute().parent / "store"
    return root / f"{kind}-{safe}-{both}"


class ParquetStore:
    """A results store on disk (see the module doc); a context manager holding the lock.

    Args:
        folder: the store folder (created if missing).
        kind: ``sweep`` or ``comparison``.
        experiment: the experiment fingerprint.
        description: more plain data for the manifest (the sweep, the policy sets, ...).

    Raises:
        StoreError: the folder holds another experiment's store, or code fingerprint differs,
            or another process is writing to it.
    """

    def __init__(self, folder: str | Path, kind: str, experiment: str,
                 description: dict | None = None) -> None:
        self.folder = Path(folder)
        self.kind = kind
        self.experiment = experiment
        self.description = description or {}
        self._lock = None
        self._done: set[tuple[int, int]] = set()

    def __enter__(self) -> ParquetStore:
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def open(self) -> None:
        """Take the lock, check or write the manifest, clear killed writers' temp files."""
        folder = results.make_folder(self.folder)
        if any(folder.iterdir()) and not (folder / MANIFEST).is_file():
            raise StoreError(f"{folder}: not empty and not a p2psim results store (no "
                             f"{MANIFEST}); choose another --store")
        if (folder / MANIFEST).is_file():  # before the lock file: a wrong folder stays untouched
            try:
                known = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                known = {}
            if not isinstance(known, dict) or "experiment_sha256" not in known:
                raise StoreError(f"{folder}: not a p2psim results store (its {MANIFEST} is not "
                                 "a store's); choose another --store")
        try:
            self._lock = results.lock_file(folder / LOCK)
        except results.OutputError as err:
            raise StoreError(str(err)) from None
        try:
            code = code_fingerprint()
            manifest_path = folder / MANIFEST
            if manifest_path.is_file():
                known = json.loads(manifest_path.read_text(encoding="utf-8"))
                if known.get("experiment_sha256") != self.experiment:
                    raise StoreError(f"{folder}: holds the runs of a different {known.get('kind')}"
                                     " (other scenarios or seeds); choose another --store")
                if known.get("code_sha256") != code:
                    raise StoreError(f"{folder}: was made by different p2psim code, so its runs "
                                     "would not match; choose another --store")
            else:
                results.write_json(manifest_path, {
                    "kind": self.kind, "experiment_sha256": self.experiment,
                    "code_sha256": code, "created_utc": results.utc_now().isoformat(
                        timespec="seconds"),
                    "versions": results.versions(), "layout": {
                        RUNS: "one Parquet file per finished run: p<point>-r<replication>",
                        SERIES: "that run's daily series, written before its run file"},
                    **self.description, **signature(STORE_KIND)})
            for sub in (RUNS, SERIES):
                results.make_folder(folder / sub)
                results.remove_stale_temps(folder / sub)
            self._done = _keys(folder / RUNS)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Release the lock."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def done(self) -> set[tuple[int, int]]:
        """The (point, replication) pairs with a run file."""
        return set(self._done)

    def commit(self, record: RunRecord) -> None:
        """Write one finished run: its series file (if any), then its run file.

        Args:
            record: the run.
        """
        if self._lock is None:
            raise RuntimeError("open the store first")
        name = part_name(record.point, record.replication)
        series = record.series_frame()
        if series is not None:
            results.write_parquet(series, self.folder / SERIES / name)
        results.write_parquet(pd.DataFrame([record.row()]), self.folder / RUNS / name)
        self._done.add(record.key)

    def runs(self) -> pd.DataFrame:
        """One row per stored run (see :func:`read_store`)."""
        return read_store(self.folder)

    def series(self) -> pd.DataFrame | None:
        """The stored daily series of every run, or ``None`` when runs keep none."""
        return read_series(self.folder)


def _keys(folder: Path) -> set[tuple[int, int]]:
    keys = set()
    for path in folder.glob("p*-r*.parquet"):
        match = _PART.match(path.name)
        if match:
            keys.add((int(match.group(1)), int(match.group(2))))
    return keys


def _read_parts(folder: Path) -> list[pd.DataFrame]:
    return [pq.read_table(path).to_pandas() for path in sorted(folder.glob("p*-r*.parquet"))
            if _PART.match(path.name)]


def read_store(folder: str | Path) -> pd.DataFrame:
    """A store's runs as one DataFrame: one row per (design point, replication).

    Columns: ``point``, ``replication``, ``seed``, the labels of the point (a sweep's factors by
    dotted key, e.g. ``shocks.0.size``; a comparison's ``set``), every numeric summary value
    (NaN where the run had ``None``), and ``run_seconds``. Rows are sorted by point, then
    replication, whatever order the runs finished in.

    Args:
        folder: the store folder (``runs/store/...`` or ``--store``).

    Returns:
        The runs (no rows if none has finished yet).

    Raises:
        StoreError: the folder is not a store.
    """
    folder = Path(folder)
    if not (folder / MANIFEST).is_file():
        raise StoreError(f"{folder}: not a p2psim results store (no {MANIFEST})")
    parts = _read_parts(folder / RUNS)
    if not parts:
        return runs_frame([])
    return (pd.concat(parts, ignore_index=True)
            .sort_values(["point", "replication"], kind="stable").reset_index(drop=True))


def read_series(folder: str | Path) -> pd.DataFrame | None:
    """A store's daily series: ``point``, ``replication``, ``day`` and the series columns.

    Only runs whose run file exists are included (a series file without one belongs to a run
    that was killed between its two files and will be run again).

    Args:
        folder: the store folder.

    Returns:
        The series sorted by point, replication and day, or ``None`` when runs keep none.
    """
    folder = Path(folder)
    done = _keys(folder / RUNS)
    parts = [pq.read_table(path).to_pandas() for path in sorted((folder / SERIES).glob("*.parquet"))
             if (m := _PART.match(path.name)) and (int(m.group(1)), int(m.group(2))) in done]
    return sort_series(pd.concat(parts, ignore_index=True)) if parts else None


def read_manifest(folder: str | Path) -> dict:
    """A store's manifest.

    Args:
        folder: the store folder.

    Returns:
        The manifest as plain data.
    """
    return json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
