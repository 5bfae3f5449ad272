"""A sweep gives the same store whatever runs it, and a SIGKILLed sweep finishes on a rerun."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from sim.experiments.executor import DaskExecutor, InProcess, LocalPool
from sim.experiments.records import TIMING_COLUMN
from sim.experiments.sweep import load_sweep, run_sweep
from sim.outputs.store import ParquetStore, read_store
from tests.conftest import ROOT
from tests.test_sweep import write_sweep

pytestmark = pytest.mark.slow


def outcomes_of(runs: pd.DataFrame) -> pd.DataFrame:
    """The stored runs without their wall times (the one column that differs between runs)."""
    return runs.drop(columns=TIMING_COLUMN)


def test_workers_1_workers_2_and_a_dask_local_cluster_store_identical_results(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, 'method = "lhs"\nsamples = 5', "replications = 2"))
    before = os.environ.get("MALLOC_TRIM_THRESHOLD_")
    stored = {}
    for name, executor in (("in process", InProcess()), ("pool", LocalPool(2)),
                           ("dask", DaskExecutor(workers=2))):
        with executor as ex, ParquetStore(tmp_path / name, "sweep", sweep.fingerprint()) as s:
            run_sweep(sweep, store=s, executor=ex, progress=False)
            if name == "dask":
                # Dask's nanny would set it; the LocalCluster starts its workers without it.
                assert set(ex.worker_trim_settings().values()) == {None}
                assert ex.warnings() == []
        stored[name] = outcomes_of(read_store(tmp_path / name))
    assert os.environ.get("MALLOC_TRIM_THRESHOLD_") == before  # nothing leaked into this process
    assert len(stored["pool"]) == 10
    pd.testing.assert_frame_equal(stored["in process"], stored["pool"], check_exact=True)
    pd.testing.assert_frame_equal(stored["in process"], stored["dask"], check_exact=True)


def test_a_sweep_killed_with_sigkill_finishes_on_a_rerun_with_one_row_per_point_and_seed(
        tmp_path):
    path = write_sweep(tmp_path, 'method = "lhs"\nsamples = 16', "replications = 2")
    store = tmp_path / "store"
    command = [sys.executable, "-m", "sim.cli", "sweep", path, "--workers", "2", "--no-progress",
               "--store", str(store), "--out", str(tmp_path / "report")]
    process = subprocess.Popen(command, cwd=ROOT, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    parts = []
    while time.monotonic() < deadline and process.poll() is None:
        parts = list((store / "runs").glob("p*.parquet")) if (store / "runs").is_dir() else []
        if len(parts) >= 4:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the sweep ended before it could be killed"
    os.killpg(process.pid, signal.SIGKILL)  # the sweep, its forkserver and its workers
    process.wait()
    killed_at = len(list((store / "runs").glob("p*.parquet")))
    assert 4 <= killed_at < 32
    assert not (tmp_path / "report").exists()

    rerun = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{killed_at:,} resumed" in rerun.stdout
    runs = read_store(store)
    assert len(runs) == 32
    assert not runs.duplicated(["point", "seed"]).any()
    assert set(runs.groupby("point")["seed"].apply(tuple)) == {(41, 42)}
    # The same numbers as a sweep that was never interrupted.
    clean = run_sweep(load_sweep(path), progress=False).runs
    pd.testing.assert_frame_equal(outcomes_of(runs), outcomes_of(clean), check_exact=True)


def test_an_unreachable_scheduler_is_one_error_line(tmp_path, capsys, monkeypatch):
    from sim.experiments import executor
    from tests.conftest import run_cli

    monkeypatch.setattr(executor.DaskExecutor, "connect_timeout", 2.0)
    path = write_sweep(tmp_path, 'method = "lhs"\nsamples = 2')
    code, out, err = run_cli(["sweep", path, "--scheduler", "tcp://127.0.0.1:9",
                              "--no-progress", "--out", str(tmp_path / "r")], capsys)
    assert code == 2
    assert err.startswith("error: cannot reach the Dask scheduler tcp://127.0.0.1:9")
    assert err.count("\n") == 1
