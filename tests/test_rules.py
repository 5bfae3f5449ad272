"""Each behaviour formula in :mod:`sim.rules` against values worked out by hand.

The rules are pure functions that must give the same numbers on scalars (the object engine) and
on arrays (the array engine), so several tests evaluate both forms.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.market import rules

unit = st.floats(0.0, 1.0)


# --------------------------------------------------------------------------- perceived risk
class TestPerceivedFailureProb:
    # Arguments: literacy, signal, prior, attention, news, news_weight, fear, delayed, delay_fear.

    def test_every_term_by_hand(self):
        # (1-0.4)*0.03 + 0.4*0.10 + 0.6*0.5*1 + 0.02 + 0.5*1 = 0.018+0.04+0.3+0.02+0.5
        p = rules.perceived_failure_prob(0.4, 0.10, 0.03, 0.5, 1.0, 0.6, 0.02, True, 0.5)
        assert p == pytest.approx(0.878)

    def test_capped_at_one(self):
        assert rules.perceived_failure_prob(1.0, 0.9, 0.03, 1.0, 1.0, 0.6, 0.5, True, 0.5) == 1.0
        arr = rules.perceived_failure_prob(np.array([0.0, 1.0]), 0.9, 0.03, 1.0, 2.0, 0.6, 0.0,
                                           False, 0.5)
        assert np.all(arr == 1.0)

    def test_literacy_weighs_the_signal_against_the_prior(self):
        args = dict(signal=0.20, prior=0.03, attention=0.0, news=0.0, news_weight=0.6, fear=0.0,
                    delayed=False, delay_fear=0.5)
        assert rules.perceived_failure_prob(0.0, **args) == pytest.approx(0.03)
        assert rules.perceived_failure_prob(1.0, **args) == pytest.approx(0.20)
        assert rules.perceived_failure_prob(0.25, **args) == pytest.approx(0.75 * 0.03 + 0.25 * 0.2)

    def test_news_reaches_investors_in_proportion_to_attention(self):
        def p(attention, news):
            return rules.perceived_failure_prob(0.0, 0.0, 0.03, attention, news, 0.6, 0.0, False,
                                                0.5)
        assert p(0.0, 1.0) == pytest.approx(0.03)  # inattentive: news does not reach it
        assert p(1.0, 0.0) == pytest.approx(0.03)  # no news
        assert p(0.5, 1.0) == pytest.approx(0.03 + 0.3)
        assert p(0.5, 0.5) == pytest.approx(0.03 + 0.15)  # a half-strength rumour

    def test_a_delayed_payment_adds_delay_fear_and_fear_adds_one_for_one(self):
        base = rules.perceived_failure_prob(0.5, 0.1, 0.03, 0.5, 0.0, 0.6, 0.0, False, 0.3)
        delayed = rules.perceived_failure_prob(0.5, 0.1, 0.03, 0.5, 0.0, 0.6, 0.0, True, 0.3)
        scared = rules.perceived_failure_prob(0.5, 0.1, 0.03, 0.5, 0.0, 0.6, 0.07, False, 0.3)
        assert delayed - base == pytest.approx(0.3)
        assert scared - base == pytest.approx(0.07)

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.tuples(unit, unit, unit, unit, st.floats(0, 3), st.floats(0, 1), unit,
                              st.booleans(), unit), min_size=1, max_size=8))
    def test_array_form_equals_scalar_form_and_stays_a_probability(self, rows):
        cols = [np.array(c) for c in zip(*rows, strict=True)]
        arr = rules.perceived_failure_prob(*cols)
        for j, row in enumerate(rows):
            assert arr[j] == rules.perceived_failure_prob(*(np.float64(x) for x in row))
        assert np.all((arr >= 0) & (arr <= 1))


# --------------------------------------------------------------------------- yields and choices
def test_risk_adjusted_yield_by_hand():
    # 0.12 - (1.5 - 0.3) * 0.2 * 0.7 * (1 - 0.25) = 0.12 - 1.2*0.105 = -0.006
    assert rules.risk_adjusted_yield(0.12, 0.2, 0.7, 0.25, 0.3) == pytest.approx(-0.006)
    assert rules.risk_adjusted_yield(0.10, 0.2, 0.7, 0.0, 0.5) == pytest.approx(0.10 - 0.14)


def test_full_cover_removes_the_expected_loss_whatever_the_fear():
    fp = np.array([0.0, 0.3, 1.0])
    assert rules.risk_adjusted_yield(0.10, fp, 0.7, 1.0, 0.2) == pytest.approx([0.10] * 3)
    uncovered = rules.risk_adjusted_yield(0.10, fp, 0.7, 0.0, 0.2)
    assert np.all(np.diff(uncovered) < 0)


def test_risk_tolerant_investors_discount_risk_less():
    timid = rules.risk_adjusted_yield(0.10, 0.2, 0.7, 0.0, 0.0)
    bold = rules.risk_adjusted_yield(0.10, 0.2, 0.7, 0.0, 1.0)
    assert timid == pytest.approx(0.10 - 1.5 * 0.14) and bold == pytest.approx(0.10 - 0.5 * 0.14)


def test_rollover_is_even_at_parity_and_rises_with_yield():
    assert rules.rollover_prob(0.03, 0.03, 60.0) == pytest.approx(0.5)
    assert rules.rollover_prob(0.04, 0.03, 60.0) == pytest.approx(1 / (1 + math.exp(-0.6)))
    ys = np.linspace(-0.1, 0.2, 7)
    assert np.all(np.diff(rules.rollover_prob(ys, 0.03, 60.0)) > 0)
    assert rules.rollover_prob(0.5, 0.03, 0.0) == pytest.approx(0.5)  # indifferent investors


def test_a_better_outside_option_lowers_rollover():
    rates = np.array([0.02, 0.05, 0.10])
    assert np.all(np.diff(rules.rollover_prob(0.08, rates, 60.0)) < 0)


class TestChooseOption:
    utilities = np.array([0.03, 0.10, 0.05])

    def test_huge_sensitivity_picks_the_best_option(self):
        for u in (0.0, 0.3, 0.999):
            assert rules.choose_option(self.utilities, u, 1e6) == 1
        many = np.tile(self.utilities, (5, 1))
        assert np.all(rules.choose_option(many, np.linspace(0, 0.99, 5), 1e6) == 1)

    def test_zero_sensitivity_picks_uniformly(self):
        u = np.random.default_rng(0).random(60_000)
        picks = rules.choose_option(np.tile(self.utilities, (len(u), 1)), u, 0.0)
        freq = np.bincount(picks, minlength=3) / len(u)
        assert freq == pytest.approx([1 / 3] * 3, abs=0.01)

    def test_finite_sensitivity_follows_the_logit_probabilities(self):
        u = (np.arange(30_000) + 0.5) / 30_000  # a uniform grid: exact frequencies
        picks = rules.choose_option(np.tile(self.utilities, (len(u), 1)), u, 20.0)
        weights = np.exp(20.0 * self.utilities)
        assert np.bincount(picks, minlength=3) / len(u) == pytest.approx(
            weights / weights.sum(), abs=1e-4)

    def test_scalar_and_two_dimensional_forms_agree(self):
        rng = np.random.default_rng(1)
        utilities = rng.normal(0.05, 0.03, (200, 4))
        u = rng.random(200)
        for s in (0.0, 60.0, 1e4):
            many = rules.choose_option(utilities, u, s)
            one = [rules.choose_option(utilities[j], u[j], s) for j in range(200)]
            assert list(many) == one
            assert isinstance(one[0], int)

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.floats(-1, 1), min_size=1, max_size=7), st.floats(0, 0.9999999),
           st.floats(0, 1e3))
    def test_the_pick_is_a_valid_index_with_positive_weight(self, utilities, u, s):
        utilities = np.array(utilities)
        pick = rules.choose_option(utilities, u, s)
        assert 0 <= pick < len(utilities)
        assert np.exp(s * (utilities[pick] - utilities.max())) > 0


# --------------------------------------------------------------------------- redemptions
def test_expected_loss_by_hand_and_cover_removes_it():
    assert rules.expected_loss(0.2, 0.7, 0.0) == pytest.approx(0.14)
    assert rules.expected_loss(0.2, 0.7, 0.5) == pytest.approx(0.07)
    assert rules.expected_loss(np.array([0.0, 0.5, 1.0]), 0.7, 1.0) == pytest.approx([0.0] * 3)


class TestEarlyRedemption:
    # Arguments: expected_loss, risk_tolerance, liquidity_need_per_year, panic_max,
    # panic_threshold. The panic slope is 0.015 (share of the claim).

    def test_floor_is_the_liquidity_need_per_day(self):
        # No perceived loss at all and a high threshold: panic is negligible.
        p = rules.early_redemption_prob(0.0, 1.0, 3.65, 0.25, 0.5)
        assert p == pytest.approx(0.01, abs=1e-12)
        assert rules.early_redemption_prob(0.0, 0.5, 3.65, 0.0, 0.15) == pytest.approx(0.01)
        fears = np.linspace(0.0, 1.0, 11)
        assert np.all(rules.early_redemption_prob(fears, 0.5, 3.65, 0.25, 0.1) >= 0.01)

    def test_by_hand(self):
        # threshold = 0.1 * (0.5 + 0.5) = 0.1; panic = 0.25 * logistic((0.04 - 0.1) / 0.015)
        p = rules.early_redemption_prob(0.04, 0.5, 3.65, 0.25, 0.1)
        assert p == pytest.approx(0.01 + 0.25 / (1 + math.exp(0.06 / 0.015)))
        # At the threshold panic is half its maximum; the threshold scales with 0.5 + tolerance.
        assert rules.early_redemption_prob(0.1, 0.5, 3.65, 0.25, 0.1) == pytest.approx(0.135)
        assert rules.early_redemption_prob(0.15, 1.0, 3.65, 0.25, 0.1) == pytest.approx(0.135)
        assert rules.early_redemption_prob(0.05, 0.0, 3.65, 0.25, 0.1) == pytest.approx(0.135)

    def test_rises_with_fear_towards_need_plus_panic_max(self):
        loss = np.linspace(0.0, 1.0, 41)
        p = rules.early_redemption_prob(loss, 0.5, 3.65, 0.25, 0.1)
        assert np.all(np.diff(p) >= 0)
        assert np.all(np.diff(p[loss <= 0.2]) > 0)  # strictly, until panic saturates
        assert p[-1] == pytest.approx(0.26, abs=1e-6)

    def test_full_cover_removes_the_motive_to_panic(self):
        scared = 0.9  # perceived failure probability
        uncovered = rules.early_redemption_prob(rules.expected_loss(scared, 0.7, 0.0), 0.5, 3.65,
                                                0.25, 0.1)
        covered = rules.early_redemption_prob(rules.expected_loss(scared, 0.7, 1.0), 0.5, 3.65,
                                              0.25, 0.1)
        assert uncovered > 0.25
        assert covered == pytest.approx(0.01, abs=1e-3)

    def test_risk_tolerant_investors_panic_later(self):
        timid = rules.early_redemption_prob(0.08, 0.0, 2.0, 0.25, 0.1)
        bold = rules.early_redemption_prob(0.08, 1.0, 2.0, 0.25, 0.1)
        assert timid > bold

    def test_capped_at_one(self):
        assert rules.early_redemption_prob(1.0, 0.5, 730.0, 0.9, 0.15) == 1.0


# --------------------------------------------------------------------------- borrowers
class TestDailyDefaultProb:
    def test_by_hand(self):
        h = -math.log(1 - 0.1)
        assert rules.daily_default_prob(0.1, 1.0) == pytest.approx(1 - math.exp(-h / 365))
        assert rules.daily_default_prob(0.1, 2.5) == pytest.approx(1 - math.exp(-2.5 * h / 365))

    def test_compounds_to_the_annual_pd_without_a_shock(self):
        daily = rules.daily_default_prob(np.array([0.01, 0.1, 0.5]), 1.0)
        assert 1 - (1 - daily) ** 365 == pytest.approx([0.01, 0.1, 0.5])

    def test_monotone_in_the_multiplier_and_zero_without_risk(self):
        m = np.array([0.0, 0.5, 1.0, 2.0, 10.0])
        p = rules.daily_default_prob(0.1, m)
        assert p[0] == 0.0 and np.all(np.diff(p) > 0)
        assert rules.daily_default_prob(0.0, 5.0) == 0.0

    def test_a_certain_default_stays_a_finite_probability(self):
        p = rules.daily_default_prob(1.0, 1.0)
        assert np.isfinite(p) and 0 < p < 1


def test_screened_pd_sees_through_misreporting_in_proportion_to_quality():
    assert rules.screened_pd(0.2, 0.05, 1.0) == pytest.approx(0.2)
    assert rules.screened_pd(0.2, 0.05, 0.0) == pytest.approx(0.05)
    assert rules.screened_pd(0.2, 0.05, 0.6) == pytest.approx(0.14)
    q = np.array([0.1, 0.5, 0.9])
    assert rules.screened_pd(0.2, 0.05, q) == pytest.approx([0.065, 0.125, 0.185])


def test_applies_for_loan_only_with_capacity_at_the_daily_rate():
    u = np.array([0.01, 0.04, 0.01])
    cap = np.array([True, True, False])
    # 12 a year: daily probability 12/365 = 0.0329
    assert list(rules.applies_for_loan(u, 12.0, cap)) == [True, False, False]


# --------------------------------------------------------------------------- investors' cash
def test_ticket_is_the_gap_to_target_spread_over_free_slots():
    assert rules.ticket_size(1e5, 2e5, 0.5, 4e4, 3) == pytest.approx(2e4)
    assert rules.ticket_size(5e3, 2e5, 0.5, 4e4, 3) == pytest.approx(5e3)  # limited by cash
    assert rules.ticket_size(1e5, 2e5, 0.1, 4e4, 3) == 0.0  # already above target
    assert rules.ticket_size(1e5, 2e5, 0.5, 4e4, 0) == pytest.approx(6e4)  # 0 slots taken as 1


def test_reviews_today_with_probability_one_over_review_days():
    u = np.random.default_rng(2).random(100_000)
    assert rules.reviews_today(u, 20.0).mean() == pytest.approx(0.05, abs=0.003)
    assert rules.reviews_today(u, 1.0).all()


def test_logistic():
    assert rules.logistic(0.0) == 0.5
    assert rules.logistic(np.log(3.0)) == pytest.approx(0.75)
    assert rules.logistic(-30.0) == pytest.approx(math.exp(-30.0), rel=1e-9)
    assert rules.logistic(30.0) == pytest.approx(1.0)
