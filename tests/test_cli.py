"""The command line as a user runs it: run, validate, schema; and the results folder."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sim import cli, results
from sim.config import json_schema

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["--set", "investors.count=300", "--set", "borrowers.count=80",
         "--set", "platforms.count=6", "--steps", "20", "--no-progress"]
EXPECTED = {"timeseries.parquet", "timeseries.csv", "platforms.parquet", "platforms.csv",
            "platform_daily.parquet", "events.csv", "events.parquet", "summary.json",
            "manifest.json", "platforms_by_status.png", "flows.png", "balance_sheet.png",
            "rates.png"}


def test_run_writes_a_complete_folder_and_prints_a_summary(tmp_path, capsys):
    out = tmp_path / "run"
    code = cli.main(["run", str(ROOT / "scenarios/baseline.toml"), *SMALL, "--seed", "3",
                     "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "investor losses (yuan)" in printed and str(out) in printed
    assert {p.name for p in out.iterdir()} >= EXPECTED
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["days"] == 20
    assert manifest["scenario"]["investors"]["count"] == 300
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert list(ts["day"]) == list(range(21))
    pd.testing.assert_frame_equal(ts, pd.read_csv(out / "timeseries.csv"), check_dtype=False)


def test_validate_reports_the_scenario(capsys):
    assert cli.main(["validate", str(ROOT / "scenarios/liquidity_run.toml")]) == 0
    assert capsys.readouterr().out.startswith("OK: liquidity_run (365 days, 21 platforms")


def test_committed_json_schema_is_current():
    committed = (ROOT / "scenarios" / "scenario.schema.json").read_text()
    assert committed == json_schema(), "run: p2psim schema --out scenarios/scenario.schema.json"


def test_interrupted_write_leaves_no_complete_looking_folder(tmp_path, monkeypatch):
    from sim.config import Scenario
    from sim.runner import run_scenario

    sc = Scenario()
    sc.investors.count, sc.borrowers.count, sc.platforms.count, sc.run.days = 200, 50, 4, 5
    result = run_scenario(sc, progress=False)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(results.plots, "plot_run", crash)
    target = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        results.write_run(result, target)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == [], "no partial folder is left behind"
    # A previous complete result survives a crash while it is being replaced.
    monkeypatch.undo()
    results.write_run(result, target)
    monkeypatch.setattr(results.plots, "plot_run", crash)
    with pytest.raises(KeyboardInterrupt):
        results.write_run(result, target)
    assert (target / "manifest.json").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
