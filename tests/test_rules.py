"""Each behaviour formula against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim import rules


def test_perceived_failure_prob_mixes_prior_signal_news_fear_and_delay():
    # (1-0.4)*0.03 + 0.4*0.10 + 0.6*0.5*1 + 0.02 + 0.5*1 = 0.018+0.04+0.3+0.02+0.5
    p = rules.perceived_failure_prob(0.4, 0.10, 0.03, 0.5, 1.0, 0.6, 0.02, True, 0.5)
    assert p == pytest.approx(0.878)
    assert rules.perceived_failure_prob(1.0, 0.9, 0.03, 1.0, 1.0, 0.6, 0.5, True, 0.5) == 1.0


def test_cover_removes_the_expected_loss():
    assert rules.risk_adjusted_yield(0.10, 0.2, 0.7, 1.0, 0.5) == pytest.approx(0.10)
    assert rules.risk_adjusted_yield(0.10, 0.2, 0.7, 0.0, 0.5) == pytest.approx(0.10 - 0.14)


def test_rollover_is_even_at_parity_and_rises_with_yield():
    assert rules.rollover_prob(0.03, 0.03, 60.0) == pytest.approx(0.5)
    ys = np.linspace(-0.1, 0.2, 7)
    assert np.all(np.diff(rules.rollover_prob(ys, 0.03, 60.0)) > 0)


def test_early_redemption_floor_is_liquidity_need_and_panic_rises_with_fear():
    calm = rules.early_redemption_prob(0.0, 0.5, 3.65, 0.25, 0.15)
    assert calm == pytest.approx(0.01 + 0.25 / (1 + math.exp(0.15 / 0.02)))
    scared = rules.early_redemption_prob(0.6, 0.5, 3.65, 0.25, 0.15)
    assert scared > 0.25 and scared > calm


def test_daily_default_prob_compounds_to_the_annual_pd():
    daily = rules.daily_default_prob(0.1, 1.0)
    assert 1 - (1 - daily) ** 365 == pytest.approx(0.1)
    assert rules.daily_default_prob(0.1, 2.0) > daily


def test_screening_sees_through_misreporting_in_proportion_to_quality():
    assert rules.screened_pd(0.2, 0.05, 1.0) == pytest.approx(0.2)
    assert rules.screened_pd(0.2, 0.05, 0.0) == pytest.approx(0.05)
    assert rules.screened_pd(0.2, 0.05, 0.6) == pytest.approx(0.14)


def test_ticket_is_the_gap_to_target_spread_over_free_slots():
    assert rules.ticket_size(1e5, 2e5, 0.5, 4e4, 3) == pytest.approx(2e4)
    assert rules.ticket_size(5e3, 2e5, 0.5, 4e4, 3) == pytest.approx(5e3)
    assert rules.ticket_size(1e5, 2e5, 0.1, 4e4, 3) == 0.0


def test_logit_choice_follows_the_probabilities():
    utilities = np.array([0.03, 0.10, 0.05])
    assert rules.choose_option(utilities, 0.5, 1e6) == 1
    u = (np.arange(30_000) + 0.5) / 30_000
    picks = rules.choose_option(np.tile(utilities, (len(u), 1)), u, 0.0)
    assert np.bincount(picks, minlength=3) / len(u) == pytest.approx([1 / 3] * 3, abs=1e-3)
    weights = np.exp(60 * (utilities - utilities.max()))
    picks = rules.choose_option(np.tile(utilities, (len(u), 1)), u, 60.0)
    assert np.bincount(picks, minlength=3) / len(u) == pytest.approx(weights / weights.sum(),
                                                                      abs=1e-3)
    for x in (0.01, 0.4, 0.99):
        assert rules.choose_option(utilities, x, 60.0) == rules.choose_option(
            utilities[None, :], np.array([x]), 60.0)[0]
