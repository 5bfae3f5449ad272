"""The array form of every rule decides exactly what the one-object-per-agent form decides."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import P2PModel
from sim.config import ShockConfig
from tests.conftest import tiny_scenario

CASES = {
    "calm": tiny_scenario(),
    "runs": tiny_scenario(platforms={"demand_share": 0.8, "cash_buffer_target": 0.01},
                          investors={"liquidity_need_per_year": 8.0}),
    "fraud": tiny_scenario(platforms={"share_ponzi": 0.3, "share_fraud": 0.3,
                                      "entry_per_year": 40.0}),
}
CASES["runs"].shocks = [ShockConfig(type="liquidity", start=5, duration=10, size=30.0)]
CASES["rumour"] = tiny_scenario(platforms={"demand_share": 0.7})
CASES["rumour"].shocks = [ShockConfig(type="rumour", platform="P0002", start=10, duration=4,
                                      size=1.5)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_array_and_object_engines_are_identical(name):
    config = CASES[name]
    a = P2PModel(config, engine="array")
    a.run()
    b = P2PModel(config, engine="object")
    b.run()
    pd.testing.assert_frame_equal(a.timeseries(), b.timeseries(), check_exact=True)
    pd.testing.assert_frame_equal(a.events_table(), b.events_table(), check_exact=True)
    for field, values in a.investors.arrays().items():
        assert np.array_equal(values, getattr(b.investors, field)), field
    for field in ("cash", "loans", "products", "rate", "status"):
        assert np.array_equal(getattr(a.platforms, field), getattr(b.platforms, field)), field


def test_the_cases_exercise_the_rules():
    """Guard against equality of two idle models: the cases must redeem, roll and fail."""
    runs = P2PModel(CASES["runs"])
    runs.run()
    ts = runs.timeseries()
    assert ts["payouts"].sum() > 0 and ts["deposits"].sum() > 0
    assert runs.events_table()["event"].isin(["distress", "failure"]).any()
