"""Policy sets: names, combinations, policy files, the scenario each set runs and its seeds."""

from __future__ import annotations

import re

import pytest

from sim.config import PoliciesConfig, ScenarioError, load_scenario, validate_scenario
from sim.experiments import policy_sets
from tests.conftest import run_cli


def test_policy_names_come_from_the_schema():
    names = policy_sets.policy_names()
    assert names == [n for n in PoliciesConfig.model_fields
                     if "enabled" in PoliciesConfig.model_fields[n].annotation.model_fields]
    assert {"protection_fund", "custody", "liquidity_reserve"} <= set(names)


def enabled(policy_set):
    return {n for n, table in policy_set.policies.items() if table.get("enabled")}


def test_all_single_package_and_plus_combinations():
    names = policy_sets.policy_names()
    sets = policy_sets.parse_policy_names(" all-single , package,custody+liquidity_reserve,custody")
    assert [s.name for s in sets] == ["none", *names, "package", "custody+liquidity_reserve"]
    by_name = {s.name: s for s in sets}
    assert enabled(by_name["none"]) == set()
    for name in names:
        assert enabled(by_name[name]) == {name}
    assert enabled(by_name["package"]) == set(names)
    assert enabled(by_name["custody+liquidity_reserve"]) == {"custody", "liquidity_reserve"}
    for s in sets:  # each is a valid scenario
        policy_sets.scenario_for(validate_scenario({}), s)


def test_baseline_switches_off_policies_the_scenario_enables(scenario_file):
    sc = load_scenario(scenario_file, ["policies.custody.enabled=true",
                                       "policies.custody.share=0.5"])
    none, liquidity = policy_sets.parse_policy_names("liquidity_reserve", sc)
    assert not policy_sets.scenario_for(sc, none).policies.custody.enabled
    run = policy_sets.scenario_for(sc, liquidity)
    assert run.policies.liquidity_reserve.enabled and not run.policies.custody.enabled
    assert run.policies.custody.share == 0.5, "parameters come from the scenario"


def test_unknown_policy_name_lists_the_known_names(scenario_file, capsys):
    with pytest.raises(policy_sets.PolicySetError, match="unknown policy 'custdy'"):
        policy_sets.parse_policy_names("custody+custdy")
    code, out, err = run_cli(["compare", str(scenario_file), "--policies", "custody,custdy",
                              "--replications", "1", "--no-progress"], capsys)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("error: --policies: unknown policy 'custdy'")
    for name in [*policy_sets.policy_names(), "all-single", "package"]:
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
    sets = policy_sets.policy_sets(str(path), sc)
    assert [s.name for s in sets] == ["none", "backed fund", "nothing"]
    backed = policy_sets.scenario_for(sc, sets[1]).policies
    assert backed.protection_fund.enabled and backed.protection_fund.public_backstop
    assert not backed.custody.enabled, "the set replaces the scenario's [policies]"
    assert not policy_sets.scenario_for(sc, sets[2]).policies.custody.enabled


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
        policy_sets.policy_sets(str(path))
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


def test_seeds_are_base_plus_replication():
    assert policy_sets.replication_seeds(2018, 3) == [2018, 2019, 2020]


def test_a_shipped_policy_file_is_found_by_name_from_any_folder(tmp_path, monkeypatch):
    from sim.experiments.policy_sets import policy_sets

    monkeypatch.chdir(tmp_path)
    sets = policy_sets("directions.toml")
    assert [s.name for s in sets] == ["none", "custody", "entry_threshold", "risk_reserve",
                                      "guarantee_backed", "guarantee_levy_only", "disclosure"]
    assert sets[4].policies["protection_fund"]["public_backstop"] is True
