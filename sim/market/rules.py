"""Behaviour rules of investors and borrowers, as pure formulas.

Each function works unchanged on numpy scalars (one agent: the object form in
:mod:`sim.agents`) and on arrays (the whole population: the array form in :mod:`sim.model`), so
both forms evaluate the very same arithmetic. Random draws are passed in, never drawn here.

Units: probabilities are annual unless a name says ``daily``; rates are annual; money is yuan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DAYS_PER_YEAR = 365.0


@dataclass
class StepContext:
    """Platform-level quantities and parameters every investor and borrower rule reads today.

    Arrays have one entry per platform (rates annual; news in intensity units, 1 = public
    distress; cover as a share of a claim). Built once a day by
    :func:`sim.market.decisions.step_context`, before anyone decides.
    """

    day: int
    signal: np.ndarray  # noisy signal of each platform's true annual expected loss
    news: np.ndarray  # public news: distress, rumours, warnings, failure news
    rate: np.ndarray  # promised investor rate
    coverage: np.ndarray  # cover investors count on
    operating: np.ndarray  # still paying investors
    redeemable: np.ndarray  # operating and not gated: early redemption possible
    open: np.ndarray  # taking new money
    sector_multiplier: np.ndarray  # borrowers' default hazard multiple by sector
    prior: float  # prior annual failure probability of any platform
    news_weight: float  # annual failure probability added by news at full attention
    delay_fear: float  # annual failure probability added by a late payment
    liquidity_need: float  # ordinary redemption need per year (after shocks)
    appetite: float  # multiple of investors' target P2P share (below 1 when they need cash)
    panic_max: float  # daily probability of panic redemption at maximal fear
    panic_threshold: float  # expected loss at which panic is half its maximum
    loss_given_failure: float  # share of a claim lost if a platform fails
    outside_rate: float  # the outside option, annual
    sensitivity: float  # logit sensitivity per unit of annual risk-adjusted yield
    review_days: float  # mean days between reviews of idle cash
    min_ticket: float  # smallest position, yuan
    max_lenders: int  # platforms one borrower may borrow from at once
    apply_per_year: float  # loan applications per year of a borrower with capacity


def logistic(x):
    """The logistic function 1 / (1 + e^-x)."""
    return 1.0 / (1.0 + np.exp(-x))


def perceived_failure_prob(literacy, signal, prior, attention, news, news_weight, fear,
                           delayed, delay_fear):
    """An investor's perceived annual probability that a platform fails.

    ``p = (1 - literacy) * prior + literacy * signal + news_weight * attention * news + fear
    + delay_fear * delayed``, clipped to [0, 1] (the signal's noise may be negative).

    * Literate investors weigh the (noisy) signal of the platform's true risk; the rest rely on a
      flat prior [S0 §IV.C: low financial literacy].
    * Public news (distress, failure nearby) reaches investors in proportion to their attention.
    * ``fear`` is the investor's general fear (shocks and contagion channels add to it).
    * A delayed payment at this platform is first-hand experience of withdrawal difficulty.

    Args:
        literacy: financial literacy in [0, 1].
        signal: noisy signal of the platform's true annual failure probability.
        prior: prior annual failure probability of any platform.
        attention: attention to news in [0, 1].
        news: public news intensity about the platform (1 = distress made public).
        news_weight: annual failure probability added by news at full attention.
        fear: general fear, annual failure probability.
        delayed: 1 if this position has been paid late, else 0.
        delay_fear: annual failure probability added by a late payment.
    """
    p = (1.0 - literacy) * prior + literacy * signal + news_weight * attention * news + fear
    return np.clip(p + delay_fear * delayed, 0.0, 1.0)


def risk_adjusted_yield(rate, failure_prob, loss_given_failure, coverage, risk_tolerance):
    """Promised rate minus the perceived expected loss, weighted by risk aversion.

    ``u = rate - (1.5 - risk_tolerance) * failure_prob * loss_given_failure * (1 - coverage)``.
    Protection cover lowers the loss an investor expects if the platform fails (MODEL.md,
    Investor; Diamond and Dybvig 1983: fully credible cover removes the motive to run).
    """
    aversion = 1.5 - risk_tolerance
    return rate - aversion * failure_prob * loss_given_failure * (1.0 - coverage)


def rollover_prob(yield_here, outside_rate, sensitivity, appetite=1.0):
    """Probability of rolling a maturing product over rather than withdrawing.

    Binary logit of the risk-adjusted yield against the outside option,
    ``appetite * logistic(sensitivity * (yield_here - outside_rate))`` (McFadden 1974 discrete
    choice); an investor who needs cash (``appetite`` below 1, a liquidity shock) keeps that
    share only.
    """
    return appetite * logistic(sensitivity * (yield_here - outside_rate))


def expected_loss(failure_prob, loss_given_failure, coverage):
    """Perceived expected loss share: ``failure_prob * loss_given_failure * (1 - coverage)``."""
    return failure_prob * loss_given_failure * (1.0 - coverage)


def early_redemption_prob(expected_loss, risk_tolerance, liquidity_need_per_year, panic_max,
                          panic_threshold):
    """Daily probability that a demand position is redeemed early.

    Ordinary liquidity needs arrive at ``liquidity_need_per_year``; on top, fear of loss
    triggers panic: ``panic_max * logistic((expected_loss - threshold) / 0.015)`` with
    ``threshold = panic_threshold * (0.5 + risk_tolerance)``. This is the panicking depositor of
    Diamond and Dybvig (1983): redemption is rational when others are expected to run, and a
    fully credible cover (expected loss 0) removes the motive.
    """
    threshold = panic_threshold * (0.5 + risk_tolerance)
    panic = panic_max * logistic((expected_loss - threshold) / 0.015)
    return np.minimum(liquidity_need_per_year / DAYS_PER_YEAR + panic, 1.0)


def reviews_today(u, review_days):
    """An investor reviews idle cash on a given day with probability ``1 / review_days``."""
    return u < 1.0 / review_days


def ticket_size(cash, wealth, target_share, invested, empty_slots):
    """Money put into one new position: the gap to the target P2P share, spread over free slots.

    ``min(cash, max(0, target_share * wealth - invested) / empty_slots)``.
    """
    gap = np.maximum(target_share * wealth - invested, 0.0)
    return np.minimum(cash, gap / np.maximum(empty_slots, 1))


def choose_option(utilities, u, sensitivity):
    """Multinomial logit choice: index of the option picked with uniform draw ``u``.

    ``utilities`` has the options on its last axis; option probabilities are
    ``exp(s * U_j) / sum_k exp(s * U_k)``. The pick is the first option whose cumulative weight
    exceeds ``u`` times the total, so one uniform per chooser suffices.
    """
    scaled = sensitivity * (utilities - np.max(utilities, axis=-1, keepdims=True))
    cum = np.cumsum(np.exp(scaled), axis=-1)
    target = u * cum[..., -1]
    return np.sum(cum <= target[..., None], axis=-1) if np.ndim(utilities) > 1 else int(
        np.sum(cum <= target))


def daily_default_prob(true_pd, multiplier):
    """Daily default probability from an annual PD under a hazard multiplier.

    Constant hazard ``h = -ln(1 - pd)`` per year, scaled by ``multiplier`` (credit shocks,
    lost refinancing), gives ``1 - exp(-h * multiplier / 365)`` per day.
    """
    hazard = -np.log1p(-np.minimum(true_pd, 0.999999)) * multiplier
    return 1.0 - np.exp(-hazard / DAYS_PER_YEAR)


def applies_for_loan(u, apply_per_year, has_capacity):
    """A borrower with spare capacity applies on a day with probability ``apply_per_year / 365``."""
    return has_capacity & (u < apply_per_year / DAYS_PER_YEAR)


def screened_pd(true_pd, reported_pd, screening):
    """The default probability a platform's screening assigns to an applicant [S1 §2(2), S3].

    ``screening * true_pd + (1 - screening) * reported_pd``: perfect screening sees through
    inflated ("brushed") credit reports, none takes them at face value.
    """
    return screening * true_pd + (1.0 - screening) * reported_pd
