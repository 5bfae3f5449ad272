"""The incremental position index gives exactly what full scans of the flags would."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.market.arraytools import sorted_unique
from sim.market.indexes import SLOT, Holdings, PositionIndex
from sim.market.state import (
    NARROW_NEVER,
    NARROW_POSITION_RECORD,
    NEVER,
    POSITION_RECORD,
    InvestorArrays,
    narrow_positions_fit,
)
from tests.helpers import model_of, run_scenario


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 8))
def test_index_matches_full_scans_under_random_opens_and_clears(seed, days):
    rng = np.random.default_rng(seed)
    size = 400
    demand = np.zeros(size, dtype=bool)
    maturity = np.full(size, NEVER, dtype=np.int64)
    platform = np.full(size, -1, dtype=np.int64)
    index = PositionIndex()
    by_record = PositionIndex()  # the same, read through maturing_records
    records = np.zeros(size, dtype=POSITION_RECORD)
    for day in range(1, days + 1):
        cands, where = index.demand_positions(demand, platform)
        assert np.array_equal(cands, np.flatnonzero(demand))
        assert np.array_equal(where, platform[cands])
        assert np.array_equal(index.maturing(day, maturity), np.flatnonzero(maturity == day))
        records["maturity"] = maturity
        records["principal"] = np.arange(size)
        slots, held = by_record.maturing_records(day, records)
        assert np.array_equal(slots, np.flatnonzero(maturity == day))
        assert np.array_equal(held, records[slots])
        # Clear some positions, then open new ones (some reuse cleared slots).
        cleared = rng.choice(size, rng.integers(0, 40), replace=False)
        demand[cleared] = False
        maturity[cleared] = NEVER
        platform[cleared] = -1
        free = np.flatnonzero(platform < 0)
        opened = rng.choice(free, min(len(free), int(rng.integers(0, 60))), replace=False)
        is_demand = rng.random(len(opened)) < 0.4
        platform[opened] = rng.integers(0, 5, len(opened))
        demand[opened] = is_demand
        maturity[opened] = np.where(is_demand, NEVER, day + 1 + rng.integers(0, 4, len(opened)))
        index.add(opened, maturity[opened], is_demand)
        by_record.add(opened, maturity[opened], is_demand)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 12), st.sampled_from([1, 8, 64, 1 << 16]))
def test_holdings_match_full_scans_of_the_platforms(seed, days, batch):
    rng = np.random.default_rng(seed)
    size = 400
    platform = np.full(size, -1, dtype=np.int32)
    holdings = Holdings(platform)
    holdings.BATCH = batch  # small batches exercise sorting by platform and cleaning up
    for _ in range(days):
        for p in rng.choice(6, 3, replace=False):
            assert np.array_equal(holdings.at(p), np.flatnonzero(platform == p))
        cleared = rng.choice(size, rng.integers(0, 60), replace=False)
        platform[cleared] = -1
        free = np.flatnonzero(platform < 0)
        opened = rng.choice(free, min(len(free), int(rng.integers(0, 80))), replace=False)
        platform[opened] = rng.integers(0, 6, len(opened))
        holdings.add(opened, platform[opened])
    for p in range(6):
        assert np.array_equal(holdings.at(p), np.flatnonzero(platform == p))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 10))
def test_investors_with_free_slots_match_a_full_scan(seed, days):
    rng = np.random.default_rng(seed)
    inv = InvestorArrays(200, 3)
    for _ in range(days):
        assert np.array_equal(inv.with_free_slots(), np.flatnonzero(inv.free_slots > 0))
        # Fill slots (as open_positions does), then free some (as clear_slots does).
        filling = np.flatnonzero((inv.free_slots > 0) & (rng.random(200) < 0.5))
        inv.free_slots[filling] -= 1
        held = np.flatnonzero(inv.free_slots < 3)
        freed = np.unique(rng.choice(held, min(len(held), int(rng.integers(0, 10)))))
        inv.free_slots[freed] += 1
        inv.note_freed(freed)
    assert np.array_equal(inv.with_free_slots(), np.flatnonzero(inv.free_slots > 0))


def test_sorted_unique_equals_numpy_unique():
    values = np.random.default_rng(1).integers(0, 50, 500)
    assert np.array_equal(sorted_unique(values), np.unique(values))
    assert np.array_equal(sorted_unique(np.array([], dtype=np.int64)), np.array([]))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 300), st.floats(1e-3, 1e9))
def test_bucketed_searchsorted_equals_searchsorted(seed, platforms, scale):
    from sim.market.engine import bucketed_searchsorted

    rng = np.random.default_rng(seed)
    weight = rng.random(platforms) * scale * (rng.random(platforms) < 0.8)
    weight[rng.integers(platforms)] += scale  # a positive total
    cum = np.cumsum(weight)
    total = weight.sum()
    u = rng.random((20_000, 3))
    u[:10] = [0.0, 1.0 - 2**-53, 0.5]  # the ends of the range
    u[10:20] = (cum[rng.integers(platforms, size=10)] / total)[:, None]  # exactly at entries
    expected = np.searchsorted(cum, u * total, side="right")
    assert np.array_equal(bucketed_searchsorted(cum, u * total, total), expected)


def _upper_bound(model_field) -> int:
    """The ``le`` bound of a pydantic field (from its annotated metadata)."""
    return min(m.le for m in model_field.metadata if getattr(m, "le", None) is not None)


def test_every_position_the_schema_allows_fits_the_indexes_int32_entries():
    from sim.config.sections import InvestorConfig

    fields = InvestorConfig.model_fields
    most = _upper_bound(fields["count"]) * _upper_bound(fields["max_holdings"])
    assert most - 1 <= np.iinfo(SLOT).max


def test_indexes_hold_positions_as_int32():
    index = PositionIndex()
    index.add(np.array([5, 9], dtype=np.int64), np.array([3, NEVER]), np.array([False, True]))
    assert index.maturing(3, np.array([0, 0, 0, 0, 0, 3, 0, 0, 0, 0])).dtype == SLOT
    assert all(d.dtype == SLOT for d in index.demand_added)
    platform = np.full(10, -1)
    platform[[5, 9]] = 2
    holdings = Holdings(platform)
    holdings.add(np.array([9, 5], dtype=np.int64), np.array([2, 2]))
    at = holdings.at(2)
    assert at.dtype == SLOT and at.tolist() == [5, 9]


def test_narrow_records_are_used_only_where_platforms_and_days_fit():
    assert NARROW_POSITION_RECORD.itemsize == 24
    assert narrow_positions_fit(2_000, 365 + 180)
    assert narrow_positions_fit(NARROW_NEVER, NARROW_NEVER - 2)
    assert not narrow_positions_fit(NARROW_NEVER + 1, 100)
    assert not narrow_positions_fit(100, NARROW_NEVER - 1)
    assert model_of(run_scenario()).investors.positions.dtype == NARROW_POSITION_RECORD
    # A century of days (the schema allows it) or a million platform slots: 32-byte records.
    long_run = run_scenario(run={"days": 36_500})
    assert model_of(long_run).investors.positions.dtype == POSITION_RECORD
    many = run_scenario(platforms={"max_platforms": 40_000})
    model = model_of(many)
    assert model.investors.positions.dtype == POSITION_RECORD
    assert model.investors.fear_source["herding"].dtype == np.int32


def test_narrow_and_wide_records_give_the_same_market():
    narrow = model_of(run_scenario(), seed=3)
    wide = model_of(run_scenario(), seed=3)
    wide.investors.widen()
    wide.holdings.pos_platform = wide.investors.pos_platform
    narrow.run(40)
    wide.run(40)
    a, b = narrow.investors, wide.investors
    for name in POSITION_RECORD.names:
        if name != "maturity":
            assert np.array_equal(a.positions[name], b.positions[name]), name
    demand = a.pos_maturity == a.never
    assert np.array_equal(demand, b.pos_maturity == NEVER)
    assert np.array_equal(a.pos_maturity[~demand], b.pos_maturity[~demand])
    assert repr(narrow.summary()) == repr(wide.summary())  # exactly, NaN included


def test_a_run_stepped_towards_the_16_bit_limit_widens_its_records_first():
    model = model_of(run_scenario(), 5)
    inv = model.investors
    before = inv.positions.copy()
    demand = inv.pos_maturity == NARROW_NEVER
    assert demand.any()
    model.day = NARROW_NEVER - 2 - int(model.conditions.product_terms.max())
    model._fit_positions()
    assert inv.narrow and inv.positions.dtype == NARROW_POSITION_RECORD  # still fits
    model.day += 1
    model._fit_positions()
    assert not inv.narrow and inv.positions.dtype == POSITION_RECORD
    assert inv.never == NEVER and model.holdings.pos_platform is inv.pos_platform
    assert np.array_equal(inv.pos_maturity == NEVER, demand)
    for name in ("principal", "rate", "platform", "start", "request"):
        assert np.array_equal(inv.positions[name], before[name]), name
    assert np.array_equal(inv.pos_maturity[~demand], before["maturity"][~demand])
