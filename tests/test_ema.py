"""The EMA workbench adapter: a Model factory and the PRIM scenario-discovery example."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from sim.config import ShockConfig
from sim.experiments import ema
from sim.vocabulary import outcome
from tests.helpers import run_scenario


def stressed_market():
    sc = run_scenario(run={"days": 40})
    sc.shocks = [ShockConfig(type="rumour", start=5, duration=5, size=1.0),
                 ShockConfig(type="liquidity", start=5, duration=10, size=1.0)]
    return sc


def test_the_model_names_uncertainties_levers_and_registry_outcomes():
    model = ema.ema_model(stressed_market(), outcomes=("investor_losses", "credit_supplied"))
    names = {u.name for u in model.uncertainties}
    assert {"shocks__0__size", "shocks__1__size", "investors__panic_redemption"} <= names
    levers = {lever.name for lever in model.levers}
    assert {"policies__custody__enabled", "policies__protection_fund__coverage_share"} <= levers
    kinds = {o.name: o.kind for o in model.outcomes}
    assert kinds["investor_losses"] == outcome("investor_losses").better == -1
    assert kinds["credit_supplied"] == 1


def test_an_experiment_applies_its_parameters_by_dotted_key():
    base = stressed_market().model_dump(mode="json")
    calm = ema.run_experiment(base, ("investor_losses",), shocks__0__size=0.0,
                              shocks__1__size=0.0, policies__custody__enabled=True)
    assert set(calm) == {"investor_losses"} and np.isfinite(calm["investor_losses"])


@pytest.mark.slow
def test_scenario_discovery_runs_perform_experiments_and_prim_at_tiny_size():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = ema.scenario_discovery(stressed_market(), scenarios=8, policies=2,
                                       levers=ema.default_levers(["custody"]))
    assert len(found.experiments) == 16 == len(found.outcomes["investor_losses"])
    assert 0 < found.share_of_interest < 1
    assert found.stats["density"] > found.share_of_interest  # the box concentrates the cases
    assert set(found.box.columns) == set(found.stats["restricted"])
