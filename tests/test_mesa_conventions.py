"""P2PModel follows Mesa's conventions: flat parameters, seed=None, running, datacollector."""

from __future__ import annotations

import warnings

import mesa
import pytest

from sim.config import ScenarioError
from sim.config.dotted import get_dotted, normalise_key, set_dotted
from sim.model import P2PModel
from tests.helpers import small_scenario


def test_dotted_keys_reach_tables_list_entries_and_policies():
    sc = small_scenario()
    sc.shocks = [{"type": "rumour", "start": 5, "duration": 2, "size": 1.0}]
    data = sc.model_dump(mode="json")
    set_dotted(data, "shocks.0.size", 2.5)
    set_dotted(data, "policies__protection_fund__coverage_share", 0.5)
    set_dotted(data, "investors.count", 123)
    assert get_dotted(data, "shocks.0.size") == 2.5
    assert get_dotted(data, "policies.protection_fund.coverage_share") == 0.5
    assert get_dotted(data, "investors.count") == 123
    assert normalise_key("a__b__0") == "a.b.0"


def test_a_list_index_must_name_an_existing_entry():
    data = small_scenario().model_dump(mode="json")
    with pytest.raises(ScenarioError, match="out of range"):
        set_dotted(data, "shocks.0.size", 1.0)
    with pytest.raises(ScenarioError, match="is a value"):
        set_dotted(data, "investors.count.x", 1)


def test_flat_parameters_as_dotted_keys_or_double_underscores():
    base = small_scenario()
    by_mapping = P2PModel(base, parameters={"investors.count": 250})
    by_keyword = P2PModel(base, investors__count=260)
    by_dotted_kwarg = P2PModel(base, **{"investors.count": 270})
    assert by_mapping.investors.count == 250
    assert by_keyword.investors.count == 260
    assert by_dotted_kwarg.investors.count == 270
    assert base.investors.count == 400  # the base scenario is not changed


def test_a_bad_flat_parameter_is_a_scenario_error_naming_the_field():
    with pytest.raises(ScenarioError, match="investors.count"):
        P2PModel(small_scenario(), investors__count=-5)


def test_seed_none_is_fresh_and_the_scenario_seed_is_the_default():
    sc = small_scenario()
    assert P2PModel(sc).seed == sc.run.seed
    assert P2PModel(sc, seed=7).seed == 7
    assert P2PModel(sc, rng=8).seed == 8
    fresh = {P2PModel(sc, seed=None).seed for _ in range(3)}
    assert len(fresh) == 3 and sc.run.seed not in fresh
    with pytest.raises(ValueError):
        P2PModel(sc, seed=1, rng=2)


def test_running_turns_false_at_the_horizon_and_the_summary_is_collected():
    sc = small_scenario(run={"days": 12})
    model = P2PModel(sc)
    model.run_model()  # Mesa's own loop: stops when running turns False
    assert model.day == 12 and not model.running
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == 13
    summary = model.summary()
    assert frame["summary.investor_losses"].iloc[-1] == summary["investor_losses"]
    assert frame["summary.failures"].iloc[:-1].isna().all()
    assert not any(c.startswith("summary.") for c in model.timeseries().columns)


def test_mesa_batch_run_two_values_two_iterations():
    base = small_scenario(run={"days": 10})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # iterations= is deprecated in 3.5
        rows = mesa.batch_run(P2PModel, parameters={"config": [base],
                                                    "investors.count": [200, 300]},
                              iterations=2, max_steps=100, number_processes=1,
                              data_collection_period=1, display_progress=False)
    last = [r for r in rows if r["Step"] == 10]
    assert len(last) == 4  # 2 values x 2 iterations, each stopped at the horizon
    assert {r["investors.count"] for r in last} == {200, 300}
    assert all("deposits" in r and "summary.credit_supplied" in r for r in last)
    for count in (200, 300):
        runs = [r for r in last if r["investors.count"] == count]
        # seed=None per iteration: the two iterations are different runs
        assert runs[0]["summary.credit_supplied"] != runs[1]["summary.credit_supplied"]
