"""Policy comparison: policy sets, common random numbers, paired statistics, report, CLI."""

from __future__ import annotations

import json
import math
import re
import tomllib

import numpy as np
import pandas as pd
import pytest

from sim import cli
from sim.config import PoliciesConfig, ScenarioError, load_scenario, validate_scenario
from sim.experiments import compare
from sim.experiments.runner import run_scenario
from sim.outputs import report

# A tiny market with a rumour, so runs differ between policies and the report has shocks.
TINY_TOML = """
name = "tiny_compare"
description = "A tiny market for the comparison tests."
[run]
days = 60
seed = 41
[platforms]
count = 8
capital_median = 1.5e5
fixed_cost = 1.5e3
abscond_min_cash = 1e4
demand_share = 0.6
cash_buffer_target = 0.02
[investors]
count = 300
[borrowers]
count = 60
[[shocks]]
type = "rumour"
start = 20
duration = 5
size = 1.0
"""
POLICIES = "custody,liquidity_reserve+redemption_gates"


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("scenario") / "tiny.toml"
    path.write_text(TINY_TOML, encoding="utf-8")
    return path


def run_cli(args, capsys):
    code = cli.main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def compared(scenario_file, tmp_path_factory):
    """The same comparison through the CLI with one worker and with two."""
    root = tmp_path_factory.mktemp("compare")
    folders = {}
    for workers in (1, 2):
        out = root / f"w{workers}"
        code = cli.main(["compare", str(scenario_file), "--policies", POLICIES,
                         "--replications", "2", "--workers", str(workers), "--no-progress",
                         "--out", str(out)])
        assert code == 0
        folders[workers] = out
    return folders


# ----------------------------------------------------------------------------- policy sets
def test_policy_names_come_from_the_schema():
    names = compare.policy_names()
    assert names == [n for n in PoliciesConfig.model_fields
                     if "enabled" in PoliciesConfig.model_fields[n].annotation.model_fields]
    assert {"protection_fund", "custody", "liquidity_reserve"} <= set(names)


def enabled(policy_set):
    return {n for n, table in policy_set.policies.items() if table.get("enabled")}


def test_all_single_package_and_plus_combinations():
    names = compare.policy_names()
    sets = compare.parse_policy_names(" all-single , package,custody+liquidity_reserve,custody")
    assert [s.name for s in sets] == ["none", *names, "package", "custody+liquidity_reserve"]
    by_name = {s.name: s for s in sets}
    assert enabled(by_name["none"]) == set()
    for name in names:
        assert enabled(by_name[name]) == {name}
    assert enabled(by_name["package"]) == set(names)
    assert enabled(by_name["custody+liquidity_reserve"]) == {"custody", "liquidity_reserve"}
    for s in sets:  # each is a valid scenario
        compare.scenario_for(validate_scenario({}), s)


def test_baseline_switches_off_policies_the_scenario_enables(scenario_file):
    sc = load_scenario(scenario_file, ["policies.custody.enabled=true",
                                       "policies.custody.share=0.5"])
    none, liquidity = compare.parse_policy_names("liquidity_reserve", sc)
    assert not compare.scenario_for(sc, none).policies.custody.enabled
    run = compare.scenario_for(sc, liquidity)
    assert run.policies.liquidity_reserve.enabled and not run.policies.custody.enabled
    assert run.policies.custody.share == 0.5, "parameters come from the scenario"


def test_unknown_policy_name_lists_the_known_names(scenario_file, capsys):
    with pytest.raises(compare.PolicySetError, match="unknown policy 'custdy'"):
        compare.parse_policy_names("custody+custdy")
    code, out, err = run_cli(["compare", str(scenario_file), "--policies", "custody,custdy",
                              "--replications", "1", "--no-progress"], capsys)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("error: --policies: unknown policy 'custdy'")
    for name in [*compare.policy_names(), "all-single", "package"]:
        assert name in err


def test_policy_file_sets_replace_the_scenario_policies(tmp_path):
    path = tmp_path / "sets.toml"
    path.write_text("""
[[set]]
name = "backed fund"
[set.policies.protection_fund]
enabled = true
public_backstop = true

[[set]]
name = "nothing"
""", encoding="utf-8")
    sc = validate_scenario({"policies": {"custody": {"enabled": True}}})
    sets = compare.policy_sets(str(path), sc)
    assert [s.name for s in sets] == ["none", "backed fund", "nothing"]
    backed = compare.scenario_for(sc, sets[1]).policies
    assert backed.protection_fund.enabled and backed.protection_fund.public_backstop
    assert not backed.custody.enabled, "the set replaces the scenario's [policies]"
    assert not compare.scenario_for(sc, sets[2]).policies.custody.enabled


@pytest.mark.parametrize(("body", "message"), [
    ('[[set]]\nname = "x"\n[set.policies.custody]\nshare = 2.0\n',
     r"set 'x': field 'policies\.custody\.share' = 2\.0 is invalid"),
    ('[[set]]\nname = "x"\n[set.policies.custdy]\nenabled = true\n',
     r"unknown key 'policies\.custdy'"),
    ('[[set]]\n[set.policies.custody]\nenabled = true\n', r"set 1: needs a name"),
    ('[[set]]\nname = "none"\n', r"reserved for the baseline"),
    ('name = "x"\n', r"unknown key 'name'"),
])
def test_bad_policy_file_names_the_problem(tmp_path, capsys, scenario_file, body, message):
    path = tmp_path / "bad.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ScenarioError, match=message):
        compare.policy_sets(str(path))
    code, out, err = run_cli(["compare", str(scenario_file), "--policies", str(path),
                              "--replications", "1", "--no-progress"], capsys)
    assert code == 2 and out == ""
    assert "Traceback" not in err
    assert re.search(message, err)
    assert err.startswith("error: ")


def test_missing_policy_file(capsys, scenario_file, tmp_path):
    code, _, err = run_cli(["compare", str(scenario_file), "--policies",
                            str(tmp_path / "nope.toml"), "--no-progress"], capsys)
    assert code == 2 and "no such policy file" in err


# ----------------------------------------------------------------------------- statistics
def test_paired_difference_and_t_interval_by_hand():
    diff, low, high, n = compare.paired_difference(np.array([3.0, 5.0, 7.0]),
                                                   np.array([1.0, 2.0, 3.0]))
    # differences 2, 3, 4: mean 3, sd 1, se 1/sqrt(3), t(0.975, 2) = 4.302653
    half = 4.302652729911275 / math.sqrt(3)
    assert (diff, n) == (3.0, 3)
    assert low == pytest.approx(3 - half) and high == pytest.approx(3 + half)


def test_missing_values_are_left_out_of_the_pairs_and_one_pair_has_no_interval():
    diff, low, high, n = compare.paired_difference(np.array([2.0, np.nan, 4.0]),
                                                   np.array([1.0, 1.0, np.nan]))
    assert (diff, n) == (1.0, 1)
    assert math.isnan(low) and math.isnan(high)


def test_comparison_table_on_a_hand_made_example():
    runs = pd.DataFrame({
        "set": ["none", "none", "a", "a"], "replication": [0, 1, 0, 1],
        "failures": [4.0, 6.0, 1.0, 5.0], "contagion_multiplier": [np.nan, 2.0, 1.5, 1.0],
    })
    table = compare.compare_outcomes(runs, ["none", "a"]).set_index(["set", "outcome"])
    row = table.loc[("a", "failures")]
    # differences -3 and -1: mean -2, sd sqrt(2), se 1, t(0.975, 1) = 12.7062
    assert row["mean"] == 3.0 and row["diff"] == -2.0 and row["n"] == 2
    assert row["ci_low"] == pytest.approx(-2 - 12.706204736174707)
    assert row["ci_high"] == pytest.approx(-2 + 12.706204736174707)
    assert not compare.significant(row)
    multiplier = table.loc[("a", "contagion_multiplier")]
    assert multiplier["mean"] == 1.25 and multiplier["diff"] == -1.0 and multiplier["n"] == 1
    assert table.loc[("none", "failures")][["diff", "ci_low", "ci_high"]].tolist() == [0, 0, 0]


def test_seeds_are_base_plus_replication():
    assert compare.replication_seeds(2018, 3) == [2018, 2019, 2020]


# ----------------------------------------------------------------------------- running
def test_common_random_numbers_baseline_replication_equals_a_plain_run(scenario_file):
    sc = load_scenario(scenario_file, ["run.days=30"])
    sets = compare.parse_policy_names("custody", sc)
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
            "scenario.toml", "policy_sets.toml", report.DIFF_FIGURE,
            report.FRONTIER_FIGURE} <= names
    assert {f for f, *_ in report.TIME_FIGURES} <= names
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
    assert again == compare.scenario_for(load_scenario(scenario_file),
                                         compare.parse_policy_names("")[0], seed=41)
    sets = compare.policy_sets(str(folder / "policy_sets.toml"))
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
    assert len(images) == 2 + len(report.TIME_FIGURES)
    assert all(len(i) > 1000 for i in images)
    assert "<style>" in text and "<link" not in text and "<script" not in text
    assert "Best on investor losses" in text or "No policy set lowered" in text
    assert "Cost in credit supplied" in text
    assert "[[shocks]]" in text and "rumour" in text, "the scenario as run is shown"
    markdown = (compared[1] / "report.md").read_text(encoding="utf-8")
    for name, *_ in report.TIME_FIGURES:
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
        scenario=validate_scenario({}), sets=compare.parse_policy_names("custody"),
        seeds=[1, 2, 3], runs=runs, series=pd.DataFrame(),
        table=compare.compare_outcomes(runs, ["none", "custody"]), workers=1,
        elapsed_seconds=0.0, run_seconds=0.0)
    lines = report.summary_lines(comp)
    assert lines[0] == (
        "**custody** lowered investor losses by 60.7 million yuan (from 110 million yuan to "
        "49.3 million yuan; 95% CI -63.5 to -57.8 million yuan); lowered credit supplied by 100 "
        "million yuan (from 1.10 billion yuan to 1.00 billion yuan; 95% CI -100 to -100 million "
        "yuan). Not distinguishable from zero: failures 0.0 (95% CI -5.0 to +5.0).")
    assert lines[1] == ("Best on investor losses (after protection payouts): **custody**, 49.3 "
                        "million yuan against 110 million yuan with no policy; it changed credit "
                        "supplied by -9.1%.")
    assert lines[2] == ("Cost in credit supplied, change from no policy "
                        "(* = distinguishable from zero): custody -9.1%*.")


def test_scenario_toml_round_trips():
    sc = load_scenario("scenarios/stress_2018.toml")
    assert validate_scenario(tomllib.loads(report.to_toml(sc.model_dump(mode="json")))) == sc


def test_a_failure_while_writing_leaves_no_folder(tmp_path, monkeypatch, scenario_file):
    sc = load_scenario(scenario_file, ["run.days=10"])
    comp = compare.run_comparison(sc, compare.parse_policy_names("", sc), 1, progress=False)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(report, "write_figures", broken)
    with pytest.raises(OSError, match="disk full"):
        report.write_comparison(comp, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []
