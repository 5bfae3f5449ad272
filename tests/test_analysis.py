"""Comparison statistics: paired differences, t intervals, the comparison table, bands."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.experiments import analysis


def test_paired_difference_and_t_interval_by_hand():
    diff, low, high, n = analysis.paired_difference(np.array([3.0, 5.0, 7.0]),
                                                   np.array([1.0, 2.0, 3.0]))
    # differences 2, 3, 4: mean 3, sd 1, se 1/sqrt(3), t(0.975, 2) = 4.302653
    half = 4.302652729911275 / math.sqrt(3)
    assert (diff, n) == (3.0, 3)
    assert low == pytest.approx(3 - half) and high == pytest.approx(3 + half)


def test_missing_values_are_left_out_of_the_pairs_and_one_pair_has_no_interval():
    diff, low, high, n = analysis.paired_difference(np.array([2.0, np.nan, 4.0]),
                                                   np.array([1.0, 1.0, np.nan]))
    assert (diff, n) == (1.0, 1)
    assert math.isnan(low) and math.isnan(high)


def test_comparison_table_on_a_hand_made_example():
    runs = pd.DataFrame({
        "set": ["none", "none", "a", "a"], "replication": [0, 1, 0, 1],
        "failures": [4.0, 6.0, 1.0, 5.0], "contagion_multiplier": [np.nan, 2.0, 1.5, 1.0],
    })
    table = analysis.compare_outcomes(runs, ["none", "a"]).set_index(["set", "outcome"])
    row = table.loc[("a", "failures")]
    # differences -3 and -1: mean -2, sd sqrt(2), se 1, t(0.975, 1) = 12.7062
    assert row["mean"] == 3.0 and row["diff"] == -2.0 and row["n"] == 2
    assert row["ci_low"] == pytest.approx(-2 - 12.706204736174707)
    assert row["ci_high"] == pytest.approx(-2 + 12.706204736174707)
    assert not analysis.significant(row)
    multiplier = table.loc[("a", "contagion_multiplier")]
    assert multiplier["mean"] == 1.25 and multiplier["diff"] == -1.0 and multiplier["n"] == 1
    assert table.loc[("none", "failures")][["diff", "ci_low", "ci_high"]].tolist() == [0, 0, 0]


def test_compared_outcomes_follow_the_registry_and_keep_unlisted_keys():
    columns = ["set", "replication", "seed", "stolen", "brand_new_outcome", "failures", "days",
               "failure_share_run", "credit_supplied"]
    assert analysis.compared_outcomes(columns) == ["failures", "credit_supplied", "stolen",
                                                   "brand_new_outcome"]


@pytest.mark.parametrize(("diff", "low", "high", "better", "expected"), [
    (-2.0, -3.0, -1.0, -1, "good"),
    (-2.0, -3.0, -1.0, +1, "bad"),
    (2.0, 1.0, 3.0, +1, "good"),
    (2.0, 1.0, 3.0, 0, "changed"),
    (-2.0, -3.0, 1.0, -1, ""),
    (-2.0, np.nan, np.nan, -1, ""),
    (0.0, 0.0, 0.0, -1, ""),
])
def test_verdict_reads_the_interval_in_the_better_direction(diff, low, high, better, expected):
    row = {"diff": diff, "ci_low": low, "ci_high": high}
    assert analysis.verdict(row, better) == expected


def test_series_bands_by_hand():
    series = pd.DataFrame({
        "set": ["none"] * 4, "replication": [0, 0, 1, 1], "day": [0, 1, 0, 1],
        "payouts": [1.0, 3.0, 3.0, 5.0],
    })
    bands = analysis.series_bands(series, "payouts").set_index("day")
    # day 1: values 3 and 5, mean 4, sd sqrt(2), se 1, t(0.975, 1) = 12.7062
    assert bands.loc[1, "mean"] == 4.0 and bands.loc[1, "n"] == 2
    assert bands.loc[1, "low"] == pytest.approx(4 - 12.706204736174707)
    assert bands.loc[1, "high"] == pytest.approx(4 + 12.706204736174707)
    rolled = analysis.series_bands(series, "payouts", rolling=2).set_index("day")
    # trailing 2-day means: replication 0 gives 1, 2; replication 1 gives 3, 4
    assert rolled["mean"].tolist() == [2.0, 3.0]
