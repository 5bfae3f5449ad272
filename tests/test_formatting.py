"""Numbers as text: hand-made values in every unit, both styles, and missing values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.outputs import formatting
from sim.vocabulary import Unit

NAN = float("nan")


@pytest.mark.parametrize(("values", "expected"), [
    ([61.2e6], (1e6, "million yuan")),
    ([999.0], (1.0, "yuan")),
    ([1000.0, -2.5e9], (1e9, "billion yuan")),
    ([12_345.0, NAN], (1e3, "thousand yuan")),
    ([NAN, None], (1.0, "yuan")),
    ([], (1.0, "yuan")),
])
def test_money_scale_keeps_the_largest_value_between_1_and_1000(values, expected):
    assert formatting.money_scale(values) == expected


def test_money_scale_takes_arrays_and_series():
    assert formatting.money_scale(np.array([3e6, np.nan])) == (1e6, "million yuan")
    assert formatting.money_scale(pd.Series([3e3, 4e4])) == (1e3, "thousand yuan")


@pytest.mark.parametrize(("unit", "expected"), [
    (Unit.YUAN, (1e6, "million yuan")),
    (Unit.YUAN_PER_DAY, (1e6, "million yuan/day")),
    (Unit.SHARE, (0.01, "%")),
    (Unit.RATE, (0.01, "% a year")),
    (Unit.RATIO, (1.0, "x")),
    (Unit.DAY, (1.0, "day")),
    (Unit.COUNT, (1.0, "")),
])
def test_scale_of_a_column_by_unit(unit, expected):
    assert formatting.scale([2.5e6, NAN], unit) == expected


@pytest.mark.parametrize(("x", "expected"), [
    (61.2, "61.2"), (0.0548, "0.0548"), (1234.4, "1,234"), (0.0, "0"), (-4.94, "-4.94"),
    (0.000012345, "0.0000"), (100.0, "100"), (NAN, "n/a"), (None, "n/a"),
])
def test_number_has_three_significant_digits(x, expected):
    assert formatting.number(x) == expected


@pytest.mark.parametrize(("x", "unit", "signed", "expected"), [
    (61.2e6, Unit.YUAN, False, "61.2 million yuan"),
    (61.2e6, Unit.YUAN, True, "+61.2 million yuan"),
    (-3.0e3, Unit.YUAN, True, "-3.00 thousand yuan"),
    (1.67e6, Unit.YUAN_PER_DAY, False, "1.67 million yuan/day"),
    (0.123, Unit.SHARE, False, "12.3%"),
    (0.015, Unit.SHARE, True, "+1.50 pp"),
    (0.0814, Unit.RATE, False, "8.14% a year"),
    (-0.005, Unit.RATE, True, "-0.500 pp"),
    (1.3, Unit.RATIO, False, "1.30x"),
    (9.0, Unit.COUNT, False, "9.0"),
    (-0.66667, Unit.COUNT, True, "-0.7"),
    (1234.0, Unit.COUNT, False, "1,234"),
    (145.0, Unit.DAY, False, "145"),
    (0.0, Unit.COUNT, True, "0.0"),
    (NAN, Unit.YUAN, False, "n/a"),
    (None, Unit.SHARE, True, "n/a"),
])
def test_short_values_with_units(x, unit, signed, expected):
    assert formatting.short(x, unit, signed=signed) == expected


@pytest.mark.parametrize(("low", "high", "unit", "expected"), [
    (-4.9e6, 3.6e6, Unit.YUAN, "-4.90 to +3.60 million yuan"),
    (-1.39e6, 54.8e3, Unit.YUAN, "-1.39 to +0.0548 million yuan"),
    (-0.012, 0.004, Unit.SHARE, "-1.20 to +0.400 pp"),
    (-0.3, 0.25, Unit.RATIO, "-0.300 to +0.250x"),
    (-6.44, 3.41, Unit.COUNT, "-6.4 to +3.4"),
    (-2290.0, 933.0, Unit.COUNT, "-2,290 to +933"),
    (0.0, 12.0, Unit.DAY, "0 to +12.0"),
    (NAN, 1.0, Unit.YUAN, "n/a"),
    (None, None, Unit.COUNT, "n/a"),
])
def test_intervals_are_signed_with_one_unit(low, high, unit, expected):
    assert formatting.interval(low, high, unit) == expected


def test_scaled_cells_leave_the_unit_to_the_header():
    assert formatting.scaled(61.2e6, 1e6) == "61.2"
    assert formatting.scaled(0.123, 0.01) == "12.3"
    assert formatting.scaled(2.5e6, 1e6, signed=True) == "+2.50"
    assert formatting.scaled(-2.5e6, 1e6, signed=True) == "-2.50"
    assert formatting.scaled(NAN, 1e6) == "n/a"
    assert formatting.scaled_interval(-63.5e6, -57.8e6, 1e6) == "-63.5 to -57.8"
    assert formatting.scaled_interval(-63.5e6, None, 1e6) == "n/a"


@pytest.mark.parametrize(("value", "unit", "expected"), [
    (1234567.8, Unit.YUAN, "1,234,568"),
    (828563.2, Unit.YUAN_PER_DAY, "828,563"),
    (0.0123, Unit.SHARE, "1.23%"),
    (0.0814, Unit.RATE, "8.14% a year"),
    (1.5, Unit.RATIO, "1.50x"),
    (np.int64(1007), Unit.COUNT, "1,007"),
    (31, Unit.DAY, "31"),
    (None, Unit.DAY, "none"),
    (math.nan, Unit.RATE, "n/a"),
])
def test_full_values_for_the_run_summary(value, unit, expected):
    assert formatting.full(value, unit) == expected


def test_headings_name_the_unit_once():
    assert formatting.heading("credit supplied", "million yuan") == "credit supplied (million yuan)"
    assert formatting.heading("first failure (day)", "day") == "first failure (day)"
    assert formatting.heading("failures", "") == "failures"
    assert formatting.full_unit(Unit.YUAN) == "yuan"
    assert formatting.full_unit(Unit.YUAN_PER_DAY) == "yuan/day"
    assert formatting.full_unit(Unit.SHARE) == ""
