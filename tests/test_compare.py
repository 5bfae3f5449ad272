"""Policy comparison: common random numbers, workers, the comparison folder, report, CLI."""

from __future__ import annotations

import json
import math
import re

import pandas as pd
import pytest
from matplotlib.figure import Figure

from sim import cli
from sim.config import load_scenario, validate_scenario
from sim.experiments import analysis, compare, policy_sets
from sim.experiments.runner import run_scenario
from sim.outputs import comparison_plots, report, results
from tests.conftest import run_cli

POLICIES = "custody,liquidity_reserve+redemption_gates"


@pytest.fixture(scope="module")
def compared(scenario_file, tmp_path_factory):
    """The same comparison through the CLI with one worker and with two."""
    root = tmp_path_factory.mktemp("compare")
    folders = {}
    for workers in (1, 2):
        out = root / f"w{workers}"
        code = cli.main(["compare", str(scenario_file), "--policies", POLICIES,
                         "--replications", "2", "--workers", str(workers), "--no-progress",
                         "--out", str(out), "--store", str(root / f"store{workers}")])
        assert code == 0
        folders[workers] = out
    return folders


# ----------------------------------------------------------------------------- running
def test_common_random_numbers_baseline_replication_equals_a_plain_run(scenario_file):
    sc = load_scenario(scenario_file, ["run.days=30"])
    sets = policy_sets.parse_policy_names("custody", sc)
    comp = compare.run_comparison(sc, sets, 2, seed=7, progress=False)
    assert comp.seeds == [7, 8]
    for r, seed in enumerate(comp.seeds):
        plain = run_scenario(sc, seed=seed, progress=False).summary
        row = comp.runs[(comp.runs["set"] == "none") & (comp.runs["replication"] == r)].iloc[0]
        assert row["seed"] == seed
        for key, value in plain.items():
            if value is None:
                assert math.isnan(row[key]), key
            elif isinstance(value, int | float):
                assert row[key] == pytest.approx(value, rel=0, abs=0), key
    custody = comp.runs[comp.runs["set"] == "custody"]
    assert list(custody["seed"]) == [7, 8]
    assert set(comp.series["set"]) == {"none", "custody"}
    assert len(comp.series) == 2 * 2 * 31


@pytest.mark.slow
def test_workers_do_not_change_the_results(compared):
    one = (compared[1] / "comparison.csv").read_bytes()
    two = (compared[2] / "comparison.csv").read_bytes()
    assert one == two
    assert (compared[1] / "runs.csv").read_bytes() == (compared[2] / "runs.csv").read_bytes()


# ----------------------------------------------------------------------------- outputs
@pytest.mark.slow
def test_cli_writes_a_complete_comparison_folder(compared, scenario_file):
    folder = compared[1]
    names = {p.name for p in folder.iterdir()}
    assert {"comparison.csv", "runs.csv", "report.html", "report.md", "manifest.json",
            "scenario.toml", "policy_sets.toml", comparison_plots.DIFF_FIGURE,
            comparison_plots.FRONTIER_FIGURE} <= names
    assert {f for f, *_ in comparison_plots.TIME_FIGURES} <= names
    table = pd.read_csv(folder / "comparison.csv")
    assert list(table.columns) == ["set", "outcome", "mean", "diff", "ci_low", "ci_high", "n"]
    assert list(dict.fromkeys(table["set"])) == ["none", "custody",
                                                 "liquidity_reserve+redemption_gates"]
    assert {"failures", "failures_run", "investor_losses", "investor_losses_gross",
            "credit_supplied", "peak_daily_outflow", "contagion_multiplier",
            "protection_fund_dry_day", "stolen"} <= set(table["outcome"])
    runs = pd.read_csv(folder / "runs.csv")
    assert len(runs) == 3 * 2 and list(runs["replication"]) == [0, 1] * 3
    assert list(runs["seed"]) == [41, 42] * 3

    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["seeds"]["replications"] == [41, 42]
    assert [s["name"] for s in manifest["policy_sets"]] == ["none", "custody",
                                                            "liquidity_reserve+redemption_gates"]
    assert manifest["policy_sets"][2]["enabled"] == ["liquidity_reserve", "redemption_gates"]
    assert set(manifest["files"]) == names - {"manifest.json"}
    assert "scipy" in manifest["versions"]
    # The written files reproduce the comparison: the scenario and the sets load back.
    again = load_scenario(folder / "scenario.toml")
    assert again == policy_sets.scenario_for(load_scenario(scenario_file),
                                         policy_sets.parse_policy_names("")[0], seed=41)
    sets = policy_sets.policy_sets(str(folder / "policy_sets.toml"))
    assert [s.name for s in sets] == ["none", "custody", "liquidity_reserve+redemption_gates"]


def test_cli_prints_the_headline_table(scenario_file, tmp_path, capsys):
    code, out, err = run_cli(["compare", str(scenario_file), "--policies", "custody",
                              "--replications", "2", "--steps", "30", "--seed", "3",
                              "--no-progress", "--out", str(tmp_path / "c")], capsys)
    assert code == 0, err
    assert out.startswith("tiny_compare: 2 policy sets x 2 replications = 4 runs of 30 days, "
                          "seeds 3..4")
    assert re.search(r"^investor losses after cover$", out, re.MULTILINE)
    assert re.search(r"^  none\s+\S.*reference", out, re.MULTILINE)
    assert re.search(r"^  custody\s+", out, re.MULTILINE)
    assert out.rstrip().endswith(f"results: {tmp_path / 'c'}")


@pytest.mark.slow
def test_report_is_self_contained_and_says_what_it_found(compared):
    text = (compared[1] / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", text)
    assert "http://" not in text and "https://" not in text
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", text)
    assert len(images) == 2 + len(comparison_plots.TIME_FIGURES)
    assert all(len(i) > 1000 for i in images)
    assert "<style>" in text and "<link" not in text and "<script" not in text
    assert "Best on investor losses" in text or "No policy set lowered" in text
    assert "Cost in credit supplied" in text
    assert "[[shocks]]" in text and "rumour" in text, "the scenario as run is shown"
    markdown = (compared[1] / "report.md").read_text(encoding="utf-8")
    for name, *_ in comparison_plots.TIME_FIGURES:
        assert f"]({name})" in markdown
    assert "Cost in credit supplied" in markdown


def test_summary_sentences_come_from_the_numbers():
    runs = pd.DataFrame({
        "set": ["none"] * 3 + ["custody"] * 3, "replication": [0, 1, 2] * 2,
        "investor_losses": [100e6, 120e6, 110e6, 40e6, 58e6, 50e6],
        "failures": [9.0, 10.0, 8.0, 9.0, 8.0, 10.0],
        "credit_supplied": [1e9, 1.1e9, 1.2e9, 0.9e9, 1e9, 1.1e9],
    })
    comp = compare.Comparison(
        scenario=validate_scenario({}), sets=policy_sets.parse_policy_names("custody"),
        seeds=[1, 2, 3], runs=runs, series=pd.DataFrame(),
        table=analysis.compare_outcomes(runs, ["none", "custody"]), workers=1,
        elapsed_seconds=0.0, run_seconds=0.0)
    lines = report.summary_lines(comp)
    assert lines[0] == (
        "**custody** lowered investor losses by 60.7 million yuan (from 110 million yuan to "
        "49.3 million yuan; 95% CI -63.5 to -57.8 million yuan). Not distinguishable from zero: "
        "failures 0.0 (95% CI -5.0 to +5.0), credit supplied -100 million yuan in every "
        "replication (no spread, so no interval).")
    assert lines[1] == ("Best on investor losses (after protection payouts): **custody**, 49.3 "
                        "million yuan against 110 million yuan with no policy; it changed credit "
                        "supplied by -9.1%.")
    assert lines[2] == ("Cost in credit supplied, change from no policy "
                        "(none distinguishable from zero): custody -9.1%.")


def test_the_report_shows_each_policy_s_regulatory_calendar():
    """Dated policies (MODEL.md, regulatory calendar) are listed with their days."""
    scenario = validate_scenario({"policies": {"custody": {"start": 100},
                                               "disclosure": {"start": 30, "end": 61}}})
    comp = compare.Comparison(
        scenario=scenario, sets=policy_sets.parse_policy_names("custody+disclosure,package",
                                                              scenario),
        seeds=[1], runs=pd.DataFrame(), series=pd.DataFrame(), table=pd.DataFrame(),
        workers=1, elapsed_seconds=0.0, run_seconds=0.0)
    rows = dict(report._set_rows(comp))
    assert rows["custody+disclosure"] == "custody (from day 100), disclosure (days 30 to 60)"
    assert "borrowing_caps" in rows["package"] and "borrowing_caps (" not in rows["package"]


def test_a_failure_while_writing_leaves_no_folder(tmp_path, monkeypatch, scenario_file):
    sc = load_scenario(scenario_file, ["run.days=10"])
    comp = compare.run_comparison(sc, policy_sets.parse_policy_names("", sc), 1, progress=False)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(comparison_plots, "comparison_figures", broken)
    with pytest.raises(OSError, match="disk full"):
        results.write_comparison(comp, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_comparison_charts_are_returned_not_saved(tmp_path, monkeypatch, scenario_file):
    sc = load_scenario(scenario_file, ["run.days=10"])
    comp = compare.run_comparison(sc, policy_sets.parse_policy_names("custody", sc), 2,
                                  progress=False)
    monkeypatch.chdir(tmp_path)
    figures = comparison_plots.comparison_figures(comp)
    assert list(figures) == [comparison_plots.DIFF_FIGURE, comparison_plots.FRONTIER_FIGURE,
                             *(name for name, *_ in comparison_plots.TIME_FIGURES)]
    assert all(isinstance(f, Figure) for f in figures.values())
    assert list(tmp_path.iterdir()) == [], "only sim.outputs.results writes files"



@pytest.mark.slow
def test_compare_commits_runs_to_a_store_and_a_rerun_reuses_them(scenario_file, tmp_path,
                                                                   capsys):
    args = ["compare", str(scenario_file), "--policies", "custody", "--replications", "2",
            "--steps", "20", "--no-progress"]
    code, out, err = run_cli([*args, "--out", str(tmp_path / "a")], capsys)
    assert code == 0, err
    stores = list((tmp_path / "store").iterdir())
    assert len(stores) == 1 and stores[0].name.startswith("compare-tiny_compare-")
    parts = sorted((stores[0] / "runs").glob("*.parquet"))
    assert len(parts) == 4 and len(list((stores[0] / "series").glob("*.parquet"))) == 4
    stamps = [p.stat().st_mtime_ns for p in parts]
    part = parts[-1]
    part.unlink()  # as if the comparison had been killed before its last run was committed
    code, out, err = run_cli([*args, "--out", str(tmp_path / "b")], capsys)
    assert code == 0, err
    assert [p.stat().st_mtime_ns for p in parts[:-1]] == stamps[:-1]  # not run again
    assert part.is_file()
    assert ((tmp_path / "a" / "comparison.csv").read_text()
            == (tmp_path / "b" / "comparison.csv").read_text())
