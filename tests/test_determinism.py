"""The same scenario and seed give bit-identical results, in this process and in a fresh one;
a different seed gives different results."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import P2PModel
from sim.config import ShockConfig
from sim.experiments.runner import run_scenario
from tests.helpers import small_scenario

ROOT = Path(__file__).resolve().parent.parent


def config():
    """Turbulent enough that every table has content: fraud, runs, a rumour, entry."""
    sc = small_scenario(platforms={"share_fraud": 0.2, "share_ponzi": 0.1, "demand_share": 0.6,
                                   "cash_buffer_target": 0.03, "entry_per_year": 30.0},
                        investors={"liquidity_need_per_year": 6.0},
                        resolution={"payout_interval_days": 5, "max_days": 10},
                        run={"days": 30, "check_invariants": False})
    sc.shocks = [ShockConfig(type="rumour", start=8, duration=4, size=2.0)]
    sc.channels.shared_investors.strength = 0.4  # turbulence is the point here
    return sc


def tables(model: P2PModel) -> dict[str, pd.DataFrame]:
    return {"timeseries": model.timeseries(), "platforms": model.platform_table(),
            "events": model.events_table(), "platform_daily": model.platform_daily()}


def fingerprint(model: P2PModel) -> dict[str, str]:
    """SHA-256 of each output table (parquet bytes and pandas hash) and of the agent arrays."""
    out = {}
    for name, frame in tables(model).items():
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        h = hashlib.sha256(buf.getvalue())
        h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
        out[name] = h.hexdigest()
    h = hashlib.sha256()
    for field, values in sorted(model.investors.arrays().items()):
        h.update(field.encode() + np.ascontiguousarray(values).tobytes())
    n = model.platforms.n
    for field in ("cash", "loans", "fake_loans", "products", "rate", "status", "owner"):
        h.update(getattr(model.platforms, field)[:n].tobytes())
    out["arrays"] = h.hexdigest()
    return out


def run(seed: int) -> P2PModel:
    model = P2PModel(config(), seed=seed)
    model.run()
    return model


def test_the_scenario_has_content():
    model = run(11)
    events = set(model.events_table()["event"])
    assert {"entry", "distress", "failure"} <= events
    assert model.timeseries()["payouts"].sum() > 0


def test_same_seed_same_results_in_process():
    a, b = run(11), run(11)
    for name, frame in tables(a).items():
        pd.testing.assert_frame_equal(frame, tables(b)[name], check_exact=True, obj=name)
    assert fingerprint(a) == fingerprint(b)


def test_the_seed_in_the_scenario_equals_the_seed_argument():
    sc = config()
    sc.run.seed = 11
    model = P2PModel(sc)
    model.run()
    assert fingerprint(model) == fingerprint(run(11))


def test_different_seed_different_results():
    a, b = fingerprint(run(11)), fingerprint(run(12))
    assert a["timeseries"] != b["timeseries"]
    assert a["platforms"] != b["platforms"]
    assert a["events"] != b["events"]
    assert a["arrays"] != b["arrays"]


def test_the_runner_gives_the_same_tables_as_the_model():
    result = run_scenario(config(), seed=11, progress=False)
    model = run(11)
    pd.testing.assert_frame_equal(result.timeseries, model.timeseries(), check_exact=True)
    pd.testing.assert_frame_equal(result.events, model.events_table(), check_exact=True)


def test_same_seed_same_results_in_a_fresh_process():
    code = ("import json; from tests.test_determinism import run, fingerprint; "
            "print(json.dumps(fingerprint(run(11))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120, cwd=ROOT)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == fingerprint(run(11))


def test_a_policy_that_never_acts_leaves_every_draw_of_the_market_unchanged():
    """Common random numbers: optional mechanisms draw from streams of their own
    (``P2PModel.mechanism_rng``), so switching one on without effect changes nothing.

    Custody for no platform (share 0) still draws each platform's place in the phase-in, and an
    early-warning supervisor who never flags anyone still draws its detection errors; a guarantor
    network that is present draws who guarantees whom. None of it may shift the market's draws.
    """
    def fingerprint_with(*overrides: tuple[str, str, object]) -> dict[str, str]:
        sc = config()
        for section, field, value in overrides:
            setattr(getattr(sc.policies, section), field, value)
        model = P2PModel(sc, seed=4)
        model.run()
        return fingerprint(model)

    plain = fingerprint_with()
    assert fingerprint_with(("custody", "enabled", True), ("custody", "share", 0.0)) == plain
    assert fingerprint_with(("early_warning", "enabled", True),
                            ("early_warning", "flag_threshold", 100.0),
                            ("early_warning", "review_days", 5)) == plain


@pytest.mark.parametrize("bits", [np.random.PCG64, np.random.PCG64DXSM, np.random.MT19937])
@pytest.mark.parametrize("half_word", [False, True])
def test_uniforms_read_by_rows_are_the_full_draw_and_leave_the_generator_alike(bits, half_word):
    from sim.market.population import uniforms_by_rows

    whole, blocks = np.random.Generator(bits(11)), np.random.Generator(bits(11))
    if half_word:  # a 32-bit draw leaves half a word buffered in PCG64
        whole.integers(0, 10, 3, dtype=np.int32)
        blocks.integers(0, 10, 3, dtype=np.int32)
    expected = whole.random((1000, 6))
    block = uniforms_by_rows(blocks, 1000, 6)
    after = blocks.random(5)  # drawn before the rows are read: the generator moved past them
    got = np.concatenate([block(lo, lo + 300) for lo in range(0, 1000, 300)])
    assert np.array_equal(got, expected)
    assert np.array_equal(after, whole.random(5))
    assert np.array_equal(blocks.integers(0, 10**9, 4), whole.integers(0, 10**9, 4))


def test_uniforms_by_rows_refuse_rows_out_of_order():
    from sim.market.population import uniforms_by_rows

    block = uniforms_by_rows(np.random.default_rng(1), 10, 2)
    block(0, 4)
    with pytest.raises(ValueError, match="out of order"):
        block(2, 6)
