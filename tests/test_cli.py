"""The command line as a user runs it: run, validate, schema and bench, in process."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from sim import cli
from sim.config import json_schema
from sim.outputs import plots
from tests.conftest import BASELINE, ROOT, TINY_SETS

EXPECTED = {"cascade.csv", "timeseries.parquet", "timeseries.csv", "platforms.parquet", "platforms.csv",
            "platform_daily.parquet", "events.csv", "events.parquet", "summary.json",
            "manifest.json", *plots.PLOTS}


def test_run_writes_a_complete_folder_and_prints_a_summary(tmp_path, capsys):
    out = tmp_path / "run"
    code = cli.main(["run", str(BASELINE), *TINY_SETS, "--seed", "3", "--check",
                     "--no-progress", "--out", str(out)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert {p.name for p in out.iterdir()} == EXPECTED
    lines = printed.out.splitlines()
    assert lines[0].startswith("baseline: 20 days, seed 3, ")
    assert re.search(r"^outcome\s+value$", printed.out, re.MULTILINE)
    assert re.search(r"^credit supplied \(yuan\)\s+\d{1,3}(,\d{3})+$", printed.out, re.MULTILINE)
    assert re.search(r"^  share of investors who lost money\s+\d+\.\d\d%$", printed.out,
                     re.MULTILINE)
    assert lines[-1] == f"results: {out}"

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["days"] == 20
    assert manifest["scenario"]["investors"]["count"] == 300
    assert manifest["scenario"]["run"]["check_invariants"] is True
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert list(ts["day"]) == list(range(21))
    pd.testing.assert_frame_equal(ts, pd.read_csv(out / "timeseries.csv"), check_dtype=False)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["days"] == 20


def test_run_no_plots_writes_the_tables_without_charts_or_matplotlib(tmp_path):
    import subprocess
    import sys

    # A fresh interpreter, so that "matplotlib was never imported" means something.
    code = ("import sys; from sim import cli; "
            f"rc = cli.main(['run', {str(BASELINE)!r}, '--set', 'run.days=3', '--set', "
            "'investors.count=300', '--set', 'borrowers.count=60', '--no-progress', "
            f"'--no-plots', '--out', {str(tmp_path / 'run')!r}]); "
            "print('matplotlib' in sys.modules); sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"
    assert {p.name for p in (tmp_path / "run").iterdir()} == EXPECTED - set(plots.PLOTS)


def test_run_defaults_to_a_new_folder_under_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(plots, "run_figures", lambda result: {})  # charts: tested above
    assert cli.main(["run", str(BASELINE), *TINY_SETS, "--no-progress"]) == 0
    (folder,) = (tmp_path / "runs").iterdir()
    assert re.fullmatch(r"baseline-seed20130601-\d{8}T\d{6}Z", folder.name)
    assert (folder / "manifest.json").exists()
    assert f"results: {folder}\n" in capsys.readouterr().out


def test_bad_out_is_refused_before_running(tmp_path, monkeypatch, capsys):
    import sim.experiments.runner

    def must_not_run(*args, **kwargs):
        raise AssertionError("ran a scenario whose results could not be written")

    monkeypatch.setattr(sim.experiments.runner, "run_scenario", must_not_run)
    (tmp_path / "notes.txt").write_text("keep me")
    assert cli.main(["run", str(BASELINE), "--out", str(tmp_path)]) == 2
    assert "not a p2psim results folder" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_ctrl_c_exits_130_without_a_folder(tmp_path, monkeypatch, capsys):
    import sim.experiments.runner

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.experiments.runner, "run_scenario", interrupted)
    assert cli.main(["run", str(BASELINE), "--out", str(tmp_path / "run")]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_validate_reports_the_scenario(capsys):
    assert cli.main(["validate", str(BASELINE)]) == 0
    assert capsys.readouterr().out == (
        "OK: baseline (730 days, 100 platforms, 100000 investors, 20000 borrowers)\n")


def test_validate_applies_overrides(capsys):
    assert cli.main(["validate", str(BASELINE), *TINY_SETS[:6]]) == 0
    assert capsys.readouterr().out.startswith("OK: baseline (730 days, 6 platforms, 300 investors")


def test_validate_counts_custom_platforms_and_shocks(capsys):
    assert cli.main(["validate", str(ROOT / "scenarios/liquidity_run.toml")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: liquidity_run (365 days, 21 platforms") and "shock" in out


def test_committed_json_schema_is_current():
    committed = (ROOT / "scenarios" / "scenario.schema.json").read_text()
    assert committed == json_schema(), "regenerate: p2psim schema --out scenarios/scenario.schema.json"


def test_schema_prints_and_writes(tmp_path, capsys):
    assert cli.main(["schema"]) == 0
    assert capsys.readouterr().out == json_schema()
    out = tmp_path / "schema.json"
    assert cli.main(["schema", "--out", str(out)]) == 0
    assert out.read_text() == json_schema()
    assert json.loads(out.read_text())["title"] == "Scenario"


def test_bench_is_delegated_with_its_own_flags(monkeypatch):
    import sim.bench.main

    seen = []
    monkeypatch.setattr(sim.bench.main, "main", lambda argv: seen.append(argv) or 0)
    assert cli.main(["bench", "--quick", "--days", "2"]) == 0
    assert seen == [["--quick", "--days", "2"]]


def test_summary_table_formats_yuan_shares_and_missing_values():
    table = cli.summary_table({
        "investor_losses": np.float64(1234567.8), "investor_loss_share": 0.0123,
        "first_failure_day": None, "mean_promised_rate_end": float("nan"),
        "failures": np.int64(12), "brand_new_outcome_share": 0.5, "not_a_number": "text",
        "reserve_fees": 0.0, "ew_hits": None,
    })
    rows = dict(re.split(r"\s{2,}", line.strip(), maxsplit=1)
                for line in table.splitlines()[2:])
    assert rows["investor losses after cover (yuan)"] == "1,234,568"
    assert rows["investor losses, share invested"] == "1.23%"
    assert rows["first failure (day)"] == "none"
    assert rows["mean promised rate at end"] == "n/a"
    assert rows["failures (left an estate owing investors)"] == "12"
    assert rows["brand new outcome share"] == "50.00%"
    assert "not a number" not in rows
    assert "reserve fees" not in rows and "ew hits" not in rows, "empty policy outcomes hidden"
    assert len({len(line) for line in table.splitlines()}) == 1, "columns are aligned"


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["run", "--steps", "ten"]])
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    assert "usage: p2psim" in capsys.readouterr().err
