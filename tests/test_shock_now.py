"""A shock fired on a running model (``ShockSchedule.add``, the app's "shock now").

Firing a shock on day ``d`` to start on ``d + 1`` gives exactly the run whose scenario had
scheduled it from day 0: the same daily series and the same events, day by day.
"""

from __future__ import annotations

import pandas as pd
import pytest

from sim import P2PModel
from sim.config import CustomPlatform, ScenarioError, ShockConfig
from tests.helpers import run_scenario, with_custom

FIRE_DAY = 6  # the shock is added at the end of this day and starts the next
DAYS = 20

NOW = {
    "rumour_named": {"type": "rumour", "duration": 5, "size": 1.0, "platform": "Big"},
    "liquidity": {"type": "liquidity", "duration": 8, "size": 2.0},
    "fraud_largest": {"type": "fraud", "duration": 1},
    "funding": {"type": "funding", "duration": 10, "size": 0.05},
}


def market():
    sc = run_scenario(run={"days": DAYS, "seed": 3})
    return with_custom(sc, CustomPlatform(name="Big", leverage=20.0, demand_share=0.9,
                                          cash_buffer_target=0.01, visibility=4.0))


def shock(kind: str) -> ShockConfig:
    return ShockConfig(start=FIRE_DAY + 1, **NOW[kind])


@pytest.mark.parametrize("kind", sorted(NOW))
def test_a_shock_fired_now_runs_like_the_same_shock_scheduled_from_day_zero(kind):
    scheduled = market()
    scheduled.shocks = [shock(kind)]
    planned = P2PModel(scheduled, check_invariants=True)
    planned.run(DAYS)

    live = P2PModel(market(), check_invariants=True)
    live.run(FIRE_DAY)
    added = live.shocks.add(shock(kind), live)
    live.run(DAYS - FIRE_DAY)

    assert added.number == 0
    pd.testing.assert_frame_equal(live.timeseries(), planned.timeseries())
    pd.testing.assert_frame_equal(live.events_table(), planned.events_table())
    fired = live.events_table()
    assert ((fired["event"] == "shock_start") & (fired["day"] == FIRE_DAY + 1)).sum() == 1


def test_a_shock_fired_now_changes_the_run_from_tomorrow_only():
    calm = P2PModel(market())
    calm.run(DAYS)
    live = P2PModel(market())
    live.run(FIRE_DAY)
    live.shocks.add(shock("liquidity"), live)
    live.run(DAYS - FIRE_DAY)
    before = slice(0, FIRE_DAY + 1)  # days 0..FIRE_DAY
    pd.testing.assert_frame_equal(live.timeseries().iloc[before], calm.timeseries().iloc[before])
    tomorrow = FIRE_DAY + 1
    assert (live.timeseries()["requests"].iloc[tomorrow]
            > calm.timeseries()["requests"].iloc[tomorrow])


def test_an_added_shock_is_numbered_after_the_scenario_shocks():
    sc = market()
    sc.shocks = [ShockConfig(type="rumour", start=2, duration=2, size=0.5)]
    model = P2PModel(sc)
    added = model.shocks.add(shock("funding"), model)
    assert added.number == 1
    assert [s.number for s in model.shocks.shocks] == [0, 1]


def test_an_added_shock_naming_no_platform_is_refused_and_not_scheduled():
    model = P2PModel(market())
    bad = ShockConfig(type="rumour", start=3, duration=2, platform="Nowhere")
    with pytest.raises(ScenarioError, match=r"shocks\.platform.*Nowhere"):
        model.shocks.add(bad, model)
    assert model.shocks.shocks == []


def test_a_shock_added_for_a_past_day_never_fires():
    model = P2PModel(market())
    model.run(FIRE_DAY)
    model.shocks.add(ShockConfig(type="liquidity", start=FIRE_DAY, duration=1, size=3.0), model)
    model.run(5)
    assert "shock_start" not in set(model.events_table()["event"])
