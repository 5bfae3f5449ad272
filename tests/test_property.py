"""Property test: random small scenarios keep every invariant every day and stay finite.

Hypothesis draws scenarios that mix all seven shock types, every contagion channel (guarantors
too), every policy, custom platforms and both engines, at sizes that run in a fraction of a
second. Each run checks money conservation every day (``run.check_invariants``: the ledger's
identities, finiteness of every stock and flow, no negative cash), with numpy floating-point
warnings turned into errors, and afterwards every number in the outputs must be finite.

25 examples run by default. ``make soak`` (the ``soak`` marker, left out of ``make test`` so
CI stays short) runs :data:`SOAK_EXAMPLES`.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.config import validate_scenario
from sim.experiments.runner import run_scenario
from sim.mechanisms.policies import registered_policies
from sim.mechanisms.shocks import shock_types

DEFAULT_EXAMPLES = 25
SOAK_EXAMPLES = 300
CHANNELS = ("information", "herding", "shared_investors", "common_borrowers", "fire_sales",
            "shared_guarantors")
SIZES = {"credit": (0.0, 20.0), "funding": (0.0, 0.1), "liquidity": (0.0, 5.0),
         "fraud": (1.0, 1.0), "rumour": (0.0, 3.0), "deadline": (1e6, 1e9),
         "outage": (1.0, 1.0)}


@st.composite
def shocks(draw, days: int, platforms: list[str]):
    kind = draw(st.sampled_from(sorted(shock_types())))
    low, high = SIZES[kind]
    shock = {"type": kind, "start": draw(st.integers(1, days)),
             "duration": draw(st.integers(1, max(1, days // 2))),
             "size": draw(st.floats(low, high, allow_nan=False))}
    if kind in ("fraud", "outage", "rumour", "liquidity") and draw(st.booleans()):
        shock["platform"] = draw(st.sampled_from(platforms))
    if kind == "credit" and draw(st.booleans()):
        shock["sector"] = draw(st.integers(0, 2))
    return shock


@st.composite
def scenarios(draw) -> dict:
    engine = draw(st.sampled_from(["array", "object"]))
    days = draw(st.integers(5, 25 if engine == "object" else 50))
    count = draw(st.integers(2, 6))
    custom = [{"name": f"Custom{i}", "owner": draw(st.sampled_from(["honest", "ponzi", "fraud"])),
               "leverage": draw(st.floats(1.0, 40.0)),
               "demand_share": draw(st.floats(0.0, 1.0))}
              for i in range(draw(st.integers(0, 2)))]
    names = ["largest", *(f"P{i:04d}" for i in range(count)), *(c["name"] for c in custom)]
    channels = {name: {"enabled": draw(st.booleans())} for name in CHANNELS}
    channels["shared_guarantors"]["present"] = draw(st.booleans())
    if channels["herding"]["enabled"]:
        channels["herding"]["neighbours"] = 4
    policies = {name: {"enabled": draw(st.booleans())} for name in registered_policies()}
    return {
        "name": "property",
        "run": {"days": days, "seed": draw(st.integers(0, 2**31)), "engine": engine,
                "check_invariants": True},
        "platforms": {"count": count, "custom": custom,
                      "demand_share": draw(st.floats(0.0, 1.0)),
                      "cash_buffer_target": draw(st.floats(0.0, 0.3)),
                      "share_ponzi": draw(st.floats(0.0, 0.3)),
                      "share_fraud": draw(st.floats(0.0, 0.3)),
                      "entry_per_year": draw(st.sampled_from([0.0, 5.0, 50.0])),
                      "leverage_median": draw(st.floats(1.0, 50.0))},
        "investors": {"count": draw(st.integers(20, 200)),
                      "panic_redemption": draw(st.floats(0.0, 1.0))},
        "borrowers": {"count": draw(st.integers(10, 60)), "sectors": 3},
        "shocks": draw(st.lists(shocks(days, names), max_size=4)),
        "channels": channels,
        "policies": policies,
    }


def finite_everywhere(result) -> None:
    for name in ("timeseries", "platforms", "platform_daily", "events"):
        frame = getattr(result, name)
        numeric = frame.select_dtypes(include="number")
        values = numeric.to_numpy(dtype=float)
        # Days and platforms with no value yet are NaN by design in a few columns of the
        # panel (e.g. a rate before entry); the market's series must be finite everywhere.
        assert not np.isinf(values).any(), f"{name} holds an infinity"
        if name == "timeseries":
            bad = [c for c in numeric.columns
                   if c not in NAN_SERIES and numeric[c].isna().any()]
            assert not bad, f"NaN in daily series: {bad}"
    for key, value in result.summary.items():
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            assert math.isfinite(value) or value != value and key in NAN_ALLOWED, (key, value)


# Daily series that are undefined (NaN) on a day with nothing to average (no loans made).
NAN_SERIES = {"mean_loan_term_days", "mean_promised_rate"}  # or no platform open
# Outcomes that are undefined (NaN) when what they measure did not happen.
NAN_ALLOWED = {"investor_recovery_rate", "contagion_multiplier", "first_failure_day",
               "mean_promised_rate_end",
               "days_shock_to_peak_outflow"}


def check(data: dict) -> None:
    scenario = validate_scenario(data)
    # numpy floating-point warnings are errors here (underflow to zero is harmless).
    with np.errstate(divide="raise", over="raise", invalid="raise", under="ignore"):
        result = run_scenario(scenario, progress=False)
    finite_everywhere(result)
    summary = result.summary
    assert summary["platforms_ever"] == (summary["platforms_operating_end"]
                                         + summary["failures"] + summary["exits"])


@settings(max_examples=DEFAULT_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenarios())
def test_random_scenarios_keep_the_books_and_stay_finite(data):
    check(data)


@pytest.mark.soak
@settings(max_examples=SOAK_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenarios())
def test_soak_many_random_scenarios(data):
    check(data)
