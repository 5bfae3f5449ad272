"""Sweeps: the sweep file, its designs, seeds, the results store and the report."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.config import ScenarioError
from sim.experiments import sensitivity
from sim.experiments.records import TIMING_COLUMN
from sim.experiments.sweep import load_sweep, run_sweep
from sim.outputs.store import ParquetStore, StoreError, read_manifest, read_store
from tests.conftest import run_cli

SCENARIO = """
name = "tiny_sweep"
[run]
days = 20
seed = 41
[platforms]
count = 6
demand_share = 0.6
cash_buffer_target = 0.02
[investors]
count = 200
[borrowers]
count = 50
[[shocks]]
type = "rumour"
start = 5
duration = 5
size = 1.0
"""

FACTORS = """
[[factors]]
key = "shocks.0.size"
range = [0.2, 2.0]
label = "rumour size"
[[factors]]
key = "platforms.cash_buffer_target"
range = [0.01, 0.2]
[[factors]]
key = "policies.protection_fund.enabled"
levels = [false, true]
"""


def write_sweep(folder, design: str, extra: str = "", factors: str = FACTORS,
                outcomes: str = '["investor_losses", "failures"]') -> str:
    """A sweep file over the tiny scenario in ``folder``; returns its path."""
    (folder / "tiny.toml").write_text(SCENARIO, encoding="utf-8")
    path = folder / "sweep.toml"
    path.write_text(textwrap.dedent(f"""
        name = "tiny"
        scenario = "tiny.toml"
        outcomes = {outcomes}
        {extra}
        [design]
        {design}
        """) + factors, encoding="utf-8")
    return str(path)


# ----------------------------------------------------------------------------- the file
@pytest.mark.parametrize("design, runs", [
    ('method = "grid"\npoints = 2', 2 * 2 * 2),
    ('method = "lhs"\nsamples = 5', 5),
    ('method = "sobol"\nsamples = 4', 4 * (3 + 2)),
    ('method = "morris"\nsamples = 3\nlevels = 4', 3 * (3 + 1)),
])
def test_each_design_has_the_size_its_method_defines(tmp_path, design, runs):
    sweep = load_sweep(write_sweep(tmp_path, design, "replications = 2"))
    assert sweep.runs == 2 * runs and len(sweep.points) == runs


def test_replication_r_uses_base_plus_r_at_every_point(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, 'method = "lhs"\nsamples = 3',
                                   "replications = 3\nseed = 100"))
    assert sweep.seeds == [100, 101, 102]
    assert {(t["replication"], t["seed"]) for t in sweep.tasks} == {(0, 100), (1, 101), (2, 102)}
    assert all(t["scenario"]["run"]["seed"] == t["seed"] for t in sweep.tasks)


def test_factors_reach_list_entries_and_policy_parameters(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, 'method = "grid"\npoints = 2'))
    task = sweep.tasks[-1]
    assert task["scenario"]["shocks"][0]["size"] == 2.0
    assert task["scenario"]["policies"]["protection_fund"]["enabled"] is True
    assert task["labels"] == {"shocks.0.size": 2.0, "platforms.cash_buffer_target": 0.2,
                              "policies.protection_fund.enabled": True}


def test_every_design_point_is_validated_before_any_run(tmp_path, capsys):
    bad = FACTORS.replace("range = [0.01, 0.2]", "range = [0.5, 1.5]")  # a share above 1
    path = write_sweep(tmp_path, 'method = "grid"\npoints = 2', factors=bad)
    with pytest.raises(ScenarioError, match=r"design point \d+ .*cash_buffer_target"):
        load_sweep(path)
    code, out, err = run_cli(["sweep", path, "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1
    assert not (tmp_path / "store").exists() and not (tmp_path / "o").exists()


@pytest.mark.parametrize("change, message", [
    (lambda t: t.replace('"failures"', '"failurez"'), "unknown outcome 'failurez'"),
    (lambda t: t.replace("samples = 4", "samples = 5"), "power of 2"),
    (lambda t: t.replace('key = "shocks.0.size"', 'key = "shocks.3.size"'), "out of range"),
    (lambda t: t.replace('range = [0.2, 2.0]', ''), "range = \\[low, high\\] or levels"),
    (lambda t: t + "\nbogus = 1\n", "unknown key '.*bogus'"),
    (lambda t: t.replace('key = "platforms.cash_buffer_target"', 'key = "platforms.cash_bufer"'),
     "cash_bufer"),
])
def test_a_bad_sweep_file_is_one_error_line(tmp_path, capsys, change, message):
    path = write_sweep(tmp_path, 'method = "sobol"\nsamples = 4')
    file = Path(path)
    file.write_text(change(file.read_text(encoding="utf-8")), encoding="utf-8")
    code, out, err = run_cli(["sweep", path, "--dry-run"], capsys)
    assert code == 2, out
    assert err.startswith("error: ") and re.search(message, err), err


# ----------------------------------------------------------------------------- the store
@pytest.mark.slow
def test_store_resumes_without_running_a_run_twice(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, 'method = "lhs"\nsamples = 4'))
    with ParquetStore(tmp_path / "s", "sweep", sweep.fingerprint()) as store:
        first = run_sweep(sweep, store=store, progress=False)
    parts = sorted((tmp_path / "s" / "runs").glob("*.parquet"))
    assert len(parts) == 4
    for part in parts[1:3]:
        part.unlink()
    (tmp_path / "s" / "runs" / ".p000009-r0000.parquet.abc.tmp").write_bytes(b"half")
    with ParquetStore(tmp_path / "s", "sweep", sweep.fingerprint()) as store:
        again = run_sweep(sweep, store=store, progress=False)
    assert (again.progress.skipped, again.progress.ran) == (2, 2)
    assert not list((tmp_path / "s" / "runs").glob(".*.tmp"))  # a killed writer's temp file
    pd.testing.assert_frame_equal(first.runs.drop(columns=TIMING_COLUMN),
                                  again.runs.drop(columns=TIMING_COLUMN))


def test_read_store_gives_one_row_per_point_and_replication(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, 'method = "lhs"\nsamples = 3', "replications = 2"))
    with ParquetStore(tmp_path / "s", "sweep", sweep.fingerprint()) as store:
        run_sweep(sweep, store=store, progress=False)
    runs = read_store(tmp_path / "s")
    assert list(runs[["point", "replication"]].itertuples(index=False, name=None)) == [
        (p, r) for p in range(3) for r in range(2)]
    assert {"seed", "shocks.0.size", "investor_losses", "failures", TIMING_COLUMN} <= set(runs)
    assert read_manifest(tmp_path / "s")["experiment_sha256"] == sweep.fingerprint()


def test_a_store_refuses_another_experiment_and_a_second_writer(tmp_path):
    with ParquetStore(tmp_path / "s", "sweep", "a" * 64), pytest.raises(StoreError,
                                                                       match="another"):
        ParquetStore(tmp_path / "s", "sweep", "a" * 64).open()
    with pytest.raises(StoreError, match="different"):
        ParquetStore(tmp_path / "s", "sweep", "b" * 64).open()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="not a p2psim results store"):
        ParquetStore(tmp_path / "other", "sweep", "a" * 64).open()


# ----------------------------------------------------------------------------- SALib
@pytest.mark.slow
def test_sobol_indices_with_confidence_intervals_at_tiny_size(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, 'method = "sobol"\nsamples = 4'))
    table, missing = sensitivity.indices(run_sweep(sweep, progress=False))
    sobol = table[table["index"].isin(["S1", "ST"])]
    assert set(table["index"]) == {"S1", "ST", "spearman"}  # rank correlations come with it
    assert len(sobol) == 2 * 2 * 3  # outcomes x indices x factors
    assert np.isfinite(sobol["value"]).all() and (sobol["conf"] >= 0).all()
    assert missing["analysed"].all()


@pytest.mark.slow
def test_morris_mu_star_and_sigma_at_tiny_size(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, 'method = "morris"\nsamples = 3'))
    table, _ = sensitivity.indices(run_sweep(sweep, progress=False))
    mu = table[table["index"] == "mu_star"]
    assert len(mu) == 2 * 3 and (mu["value"] >= 0).all()
    assert set(table["index"]) == {"mu_star", "sigma", "spearman"}


@pytest.mark.slow
def test_cli_sweep_writes_a_report_and_resumes(tmp_path, capsys):
    path = write_sweep(tmp_path, 'method = "sobol"\nsamples = 4',
                       outcomes='["investor_losses", "contagion_multiplier"]')
    code, out, err = run_cli(["sweep", path, "--no-progress", "--out", str(tmp_path / "r")],
                             capsys)
    assert code == 0, err
    assert "20 runs now, 0 resumed" in out
    folder = tmp_path / "r"
    for name in ("report.html", "report.md", "indices.csv", "design.csv", "runs.csv",
                 "sobol.png", "scatter.png", "sweep.toml", "manifest.json"):
        assert (folder / name).is_file(), name
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "src='data:image/png;base64," in page and "http" not in page.split("<body>")[1]
    assert "S1" in page and "rumour size" in page
    # Again into the same report folder: refused without --overwrite (nothing run), then the
    # store resumes every run and the report is replaced.
    code, out, err = run_cli(["sweep", path, "--no-progress", "--out", str(tmp_path / "r")],
                             capsys)
    assert code == 2 and "--overwrite" in err
    code, out, err = run_cli(["sweep", path, "--no-progress", "--out", str(tmp_path / "r"),
                              "--overwrite"], capsys)
    assert code == 0 and "0 runs now, 20 resumed" in out


def test_a_two_factor_grid_gets_an_interaction_plot_with_one_line_per_level():
    """The grid's effects figure: x is the numeric factor, a line per level of the other one."""
    from sim.outputs import sweep_plots

    rng = np.random.default_rng(0)
    points = pd.DataFrame({"platforms.leverage_median": [3.0, 10.0, 3.0, 10.0],
                           "policies.protection_fund.enabled": [False, False, True, True]})
    runs = points.loc[points.index.repeat(3)].reset_index(drop=True)
    runs["failures"] = runs["platforms.leverage_median"] + rng.normal(0, 1, len(runs))
    means = runs.groupby(list(points.columns), sort=False)[["failures"]].mean().reset_index(
        drop=True)
    figures = sweep_plots.sweep_figures("grid", pd.DataFrame(), points, means, {}, "test",
                                        runs=runs)
    ax = figures[sweep_plots.EFFECTS_FIGURE].axes[0]
    assert len(ax.lines) >= 2 and len(ax.get_legend().get_texts()) == 2
    assert ax.get_xlabel() == "platforms.leverage_median"
    three = pd.concat([points, points.rename(columns=lambda c: c + "x")], axis=1)
    assert sweep_plots.sweep_figures("lhs", pd.DataFrame(), points, means, {}, "t", runs=runs
                                     ).keys().isdisjoint({sweep_plots.EFFECTS_FIGURE})
    assert sweep_plots.plot_grid_effects(three.assign(failures=1.0), list(three.columns),
                                         ["failures"], {}, "t") is None


def test_a_rank_correlation_interval_stays_inside_minus_one_to_one():
    """Fisher's z interval of Spearman's rho is asymmetric near +-1 and never leaves [-1, 1]."""
    from sim.experiments.sensitivity import _spearman

    x = np.arange(10.0)
    y = -x
    y[[0, 1]] = y[[1, 0]]  # one pair out of order: rho = -0.988 on 10 points
    row = _spearman(x, y)
    assert row["value"] == pytest.approx(-0.988, abs=1e-3)
    assert -1.0 <= row["low"] < row["value"] < row["high"] <= 1.0
    assert row["high"] - row["value"] > row["value"] - row["low"]  # longer towards zero
    assert row["conf"] == pytest.approx((row["high"] - row["low"]) / 2)
