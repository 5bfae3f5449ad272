"""p2psim calibrate: the MSM formulas, recovery of known parameters, resuming, bad input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.config import load_scenario
from sim.experiments import msm
from sim.experiments.calibrate import Calibration, calibrate
from sim.experiments.moments import load_params, load_targets
from tests.calibration_helpers import TINY, TRUE, write_case

ROOT = Path(__file__).resolve().parents[1]


def test_sandwich_is_the_inverse_information_when_w_is_optimal():
    rng = np.random.default_rng(0)
    g = rng.normal(size=(6, 2))
    v = np.diag(rng.uniform(0.5, 2.0, 6))
    w = np.linalg.inv(v)
    inf = msm.inference(np.zeros(6), g, w, v)
    np.testing.assert_allclose(inf.covariance, np.linalg.inv(g.T @ w @ g), rtol=1e-10)
    assert inf.df == 4 and inf.j == 0.0 and inf.p_chi2 == 1.0


def test_j_law_is_chi2_m_minus_k_when_w_is_optimal():
    rng = np.random.default_rng(1)
    g = rng.normal(size=(8, 3))
    v = np.diag(rng.uniform(0.5, 2.0, 8))
    gap = rng.normal(size=8)
    inf = msm.inference(gap, g, np.linalg.inv(v), v, seed=2)
    assert abs(inf.p_weighted - inf.p_chi2) < 0.01


def test_moment_variance_adds_simulation_and_target_error():
    runs = np.array([[1.0, 10.0], [3.0, 10.0]])
    v = msm.moment_variance(runs, np.array([0.5, 2.0]))
    # S = var over 2 runs (2.0 and 0), times 1 + 1/R = 1.5, plus sd^2.
    np.testing.assert_allclose(np.diag(v), [1.5 * 2.0 + 0.25, 4.0])


def _case(tmp_path, replications=2):
    params, targets, scenario = write_case(tmp_path / "case", replications)
    spec, moments, _ = load_targets(targets)
    return Calibration(load_scenario(scenario, TINY), load_params(params), spec, moments,
                       replications=replications)


def test_calibration_recovers_known_parameters_within_their_standard_errors(tmp_path):
    cal = _case(tmp_path)
    result = calibrate(cal)
    truth = np.array(list(TRUE.values()))
    se = result.inference.se
    assert np.all(se > 0) and np.all(np.isfinite(se))
    assert np.all(np.abs(result.theta - truth) <= 2.0 * se), (result.theta, truth, se)
    # The search improved on its start, and every moment is in the table.
    start_q = msm.objective(result.start_runs.mean(axis=0) - result.targets, result.weighting)
    assert result.objective <= start_q
    assert list(result.moments_table()["moment"]) == cal.names
    assert result.inference.df == len(cal.moments) - len(TRUE)


def _command(case: Path, out: Path, store: Path) -> list[str]:
    sets = [a for t in TINY for a in ("--set", t)]
    return ["calibrate", str(case / "scenario.toml"), "--targets", str(case / "targets.toml"),
            "--params", str(case / "params.toml"), *sets, "--replications", "1",
            "--maxiter", "1", "--out", str(out), "--store", str(store), "--no-progress"]


@pytest.mark.slow
def test_a_calibration_killed_with_sigkill_resumes_without_rerunning_and_ends_the_same(
        tmp_path, capsys):
    params, targets, scenario = write_case(tmp_path / "case", replications=1)
    case = tmp_path / "case"
    store = tmp_path / "store"
    args = _command(case, tmp_path / "out", store)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", *args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    runs = store / "runs"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if runs.is_dir() and len(list(runs.glob("p*.parquet"))) >= 6:
            break
        time.sleep(0.05)
    assert proc.poll() is None, proc.stderr.read().decode()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = {p.name: p.stat().st_mtime_ns for p in runs.glob("p*.parquet")}
    assert len(before) >= 6 and not (tmp_path / "out").exists()

    assert main(args) == 0
    resumed_text = capsys.readouterr().out
    after = {p.name: p.stat().st_mtime_ns for p in runs.glob("p*.parquet")}
    assert all(after[name] == mtime for name, mtime in before.items())  # none run again
    assert f"{len(after) - len(before)} runs now, {len(before)} read back" in resumed_text

    fresh = _command(case, tmp_path / "fresh", tmp_path / "fresh_store")
    assert main(fresh) == 0
    capsys.readouterr()
    resumed = pd.read_csv(tmp_path / "out" / "params.csv")
    uninterrupted = pd.read_csv(tmp_path / "fresh" / "params.csv")
    pd.testing.assert_frame_equal(resumed, uninterrupted)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "out" / "evaluations.csv"),
                                  pd.read_csv(tmp_path / "fresh" / "evaluations.csv"))
    for name in ("report.md", "fit.png", "convergence.png", "fitted_scenario.toml",
                 "moments.csv", "manifest.json"):
        assert (tmp_path / "out" / name).is_file()


def _bad(tmp_path, capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_calibrate_bad_input_is_one_error_line_and_exit_2(tmp_path, capsys):
    cal = ROOT / "scenarios" / "calibration"
    china = str(ROOT / "scenarios" / "china_2013_2020.toml")
    good = ["--targets", str(cal / "china_targets.toml"), "--params", str(cal / "china_params.toml")]
    assert "no such targets file" in _bad(tmp_path, capsys, [
        "calibrate", china, "--targets", str(tmp_path / "none.toml"), "--params",
        str(cal / "china_params.toml")])
    bad_params = tmp_path / "params.toml"
    bad_params.write_text('[[params]]\nkey = "platforms.entry_per_year"\nbounds = [5.0, 1.0]\n')
    assert "low < high" in _bad(tmp_path, capsys, [
        "calibrate", china, "--targets", str(cal / "china_targets.toml"), "--params",
        str(bad_params)])
    bad_params.write_text('[[params]]\nkey = "platforms.no_such_key"\nbounds = [0.0, 1.0]\n')
    assert "no_such_key" in _bad(tmp_path, capsys, [
        "calibrate", china, "--targets", str(cal / "china_targets.toml"), "--params",
        str(bad_params)])
    bad_params.write_text('[[params]]\nkey = "resolution.collection_rate"\nbounds = [0.5, 2.0]\n')
    assert "upper bounds" in _bad(tmp_path, capsys, [
        "calibrate", china, "--targets", str(cal / "china_targets.toml"), "--params",
        str(bad_params)])
    bad_targets = tmp_path / "targets.toml"
    bad_targets.write_text(f'csv = "{ROOT / "scenarios/data/china_p2p_targets.csv"}"\n'
                           '[[moments]]\nquantity = "mean_promised_yield"\nyears = [2030]\n')
    assert "no row 'mean_promised_yield' for year 2030" in _bad(tmp_path, capsys, [
        "calibrate", china, "--targets", str(bad_targets), "--params",
        str(cal / "china_params.toml")])
    assert "[history]" in _bad(tmp_path, capsys, [
        "calibrate", str(ROOT / "scenarios" / "baseline.toml"), *good])
    assert "--replications 0" in _bad(tmp_path, capsys, [
        "calibrate", china, *good, "--replications", "0"])
