"""The scenario's own tables: run, market, platforms, investors, borrowers, resolution, channels.

Every field states its unit: one step is one day, money is yuan, rates are annual fractions
(0.10 = 10% a year), shares are fractions in [0, 1]. Shocks and policies define their tables next
to their code (:mod:`sim.mechanisms`); :mod:`sim.config.scenario` puts them all together.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.schema import DAYS_MAX, MONEY_MAX, Count, Days, Money, Rate, Section, Share


class RunConfig(Section):
    """How long to run and how."""

    days: Days = Field(730, description="Simulated days (one step is one day).")
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = Field(20130601, description="Seed of the model's generator.")
    check_invariants: bool = Field(
        False, description="Check money conservation every step (always on in tests)."
    )
    engine: Literal["array", "object"] = Field(
        "array",
        description="'array': numpy rules over the population; 'object': one Python object per "
        "agent (the executable specification, slow).",
    )


class HistoryConfig(Section):
    """How a scenario maps onto real dates and the real sector, to compare a run with history.

    A run of a scenario with this table writes ``history_fit.png``: its yearly platform counts,
    yields, lending and loan terms against the targets file.
    """

    start_date: date = Field(description="The calendar date of day 0.")
    platforms_per_platform: Annotated[float, Field(gt=0.0, le=1e6)] = Field(
        description="Real platforms one simulated platform stands for (the sampling ratio).")
    targets: str = Field(
        "china_p2p_targets.csv", description="File of yearly targets in scenarios/data/ "
        "(year, quantity, value, unit, note).")


class MarketConfig(Section):
    """The outside option and the debt-transfer (secondary loan) market."""

    outside_rate: Rate = Field(0.03, description="Outside option: bank deposit / money-market rate, annual.")
    transfer_discount: Share = Field(
        0.03, description="Debt-transfer market discount on loan principal in calm times, share."
    )
    fire_sale_impact: Annotated[float, Field(ge=0.0, le=1000.0)] = Field(
        3.0,
        description="Extra discount per unit of the day's sales as a share of all live loans "
        "(price impact, Shleifer-Vishny).",
    )
    max_discount: Share = Field(0.5, description="Ceiling of the debt-transfer discount, share.")
    daily_sale_limit: Share = Field(
        0.02, description="Share of its loan book a platform can sell in one day."
    )


class CustomPlatform(Section):
    """A named platform with its own parameters (others take the [platforms] defaults)."""

    name: str = Field(min_length=1, description="Name shown in outputs and events.")
    leverage: Annotated[float, Field(ge=1.0, le=200.0)] | None = Field(
        None, description="Product claims / paid-in capital it is set up with (default: the "
        "[platforms] median).")
    owner: Literal["honest", "ponzi", "fraud"] = Field("honest", description="Owner type.")
    promised_rate: Rate = Field(0.10, description="Initial promised investor rate, annual.")
    demand_share: Share | None = Field(None, description="Share of products redeemable on demand.")
    cash_buffer_target: Share | None = Field(
        None, description="Target cash as a share of product liabilities."
    )
    screening: Share | None = Field(None, description="Screening quality, 0 (none) to 1 (perfect).")
    visibility: Annotated[float, Field(gt=0.0, le=1e6)] = Field(
        1.0, description="Relative weight in investors' consideration sets (advertising, brand)."
    )
    business_model: Annotated[int, Field(ge=0, le=15)] | None = Field(
        None, description="Its business model, 0-based (default: custom platforms take the "
        "models in turn).")


class PlatformConfig(Section):
    """The platform population, its products, pricing, liquidity management and exits."""

    count: Count = Field(100, description="Platforms at day 0 (besides any custom ones).")
    leverage_median: Annotated[float, Field(ge=1.0, le=200.0)] = Field(
        10.0, description="Median product claims / paid-in capital a platform is set up with "
        "(lognormal). 2017: about 465 million yuan of loans per operating platform against "
        "about 50 million of registered capital for entrants, so about 9-10.")
    leverage_sigma: Annotated[float, Field(ge=0.0, le=3.0)] = Field(
        0.6, description="Log-sd of that leverage across platforms.")
    visibility_sigma: Annotated[float, Field(ge=0.0, le=3.0)] = Field(
        1.0, description="Log-sd of platforms' visibility (their weight in investors' "
        "consideration sets), which sets their size: a few platforms hold most of the money.")
    real_claims_per_platform: Annotated[float, Field(gt=0.0, le=MONEY_MAX)] = Field(
        4.65e8, description="Mean investor claims per operating platform in the real market the "
        "sample stands for at day 0, yuan (465 million at end-2017). It converts a simulated "
        "platform's capital into real registered capital, yuan, which regulation and owner "
        "types refer to.")
    share_ponzi: Share = Field(0.02, description="Share of Ponzi owners at reference capital.")
    share_fraud: Share = Field(0.02, description="Share of fraudulent owners at reference capital.")
    fraud_capital_reference: Annotated[float, Field(gt=0.0, le=MONEY_MAX)] = Field(
        3e7, description="Registered capital (real yuan) at which the fraud-prone shares are "
        "share_ponzi and share_fraud (about the median of 2017 entrants).")
    fraud_capital_elasticity: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        0.5,
        description="Fraud-prone shares scale with (fraud_capital_reference / registered "
        "capital)^elasticity: low-capital entrants are more often fraud-prone.",
    )
    promised_rate_mean: Rate = Field(0.10, description="Mean initial promised investor rate, annual.")
    promised_rate_sd: Rate = Field(0.015, description="Cross-platform sd of initial promised rate.")
    rate_min: Rate = Field(0.05, description="Lowest promised rate a platform will offer, annual.")
    rate_max: Rate = Field(0.25, description="Highest promised rate a platform will offer, annual.")
    rate_step: Rate = Field(
        0.0005, description="Largest daily change of the promised rate, annual rate per day."
    )
    rate_premium: Rate = Field(
        0.05, description="Premium over the outside rate a platform with no perceived risk and "
        "no funding need asks, annual.")
    rate_peer_weight: Share = Field(
        0.5, description="Weight of the peers' mean rate in a platform's target rate (the rest "
        "is its own cost of funds: outside rate + premium + risk premium).")
    rate_risk_weight: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        1.0, description="Rate premium per unit of the expected loss investors perceive at the "
        "platform (annual failure probability x loss given failure).")
    rate_funding_weight: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        0.5, description="Rate bid per unit of funding drained over the funding window (net "
        "outflow as a share of claims).")
    rate_adjust_days: Annotated[float, Field(ge=1.0, le=10_000.0)] = Field(
        120.0, description="Half-life of the gap between a platform's rate and its target, days.")
    ponzi_rate_premium: Rate = Field(0.02, description="Extra promised rate of Ponzi/fraud owners.")
    borrower_spread: Rate = Field(
        0.07, description="Borrower rate minus promised investor rate (platform margin), annual."
    )
    demand_share: Share = Field(
        0.2, description="Share of new products redeemable on demand (the rest are term products)."
    )
    product_terms_days: list[Days] = Field(
        [30, 90, 180], min_length=1, description="Menu of term-product maturities, days."
    )
    loan_terms_days: list[Days] = Field(
        [180, 360, 540, 720], min_length=1, description="Menu of loan maturities, days."
    )
    loan_term_reach_days: Annotated[float, Field(ge=1.0, le=1e6)] = Field(
        100_000.0, description="Longest loan a new platform makes, days; it grows with the "
        "platform's age (loan_term_reach_growth). The default lets every platform use the "
        "whole menu.")
    loan_term_reach_growth: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        0.0, description="Days of loan term a platform's reach grows per day of its age.")
    business_models: Annotated[int, Field(ge=1, le=16)] = Field(
        4, description="Business models (consumer, SME, car, supply-chain, ...): failure news "
        "spreads most among platforms with the same one.")
    cash_buffer_target: Share = Field(
        0.08, description="Target cash as a share of product liabilities; cash above it is lent."
    )
    screening_mean: Share = Field(0.6, description="Mean screening quality of honest platforms.")
    credit_standard: Share = Field(
        0.12, description="Highest (screened) annual default probability a platform accepts."
    )
    ponzi_fake_share: Share = Field(
        0.3, description="Share of a Ponzi platform's lending that goes to fake, self-dealing loans."
    )
    operating_cost: Rate = Field(0.04, description="Running costs, annual share of loan book.")
    fixed_cost: Rate = Field(
        0.01, description="Fixed running costs, annual share of paid-in capital.")
    funding_window_days: Days = Field(30, description="Window over which funding drain is judged.")
    distress_news_days: Days = Field(
        3, description="Consecutive days of delayed payments after which distress is public."
    )
    max_distress_days: Days = Field(
        45, description="A platform still distressed after this many days fails."
    )
    fail_backlog_share: Share = Field(
        0.25, description="A platform fails when unpaid requests exceed this share of liabilities."
    )
    abscond_horizon_days: Days = Field(
        730, description="Horizon over which a fraudulent owner values carrying on, days."
    )
    abscond_min_cash: Share = Field(
        0.02, description="Cash, as a share of claims, below which absconding is not worth it.")
    exit_equity_share: Share = Field(
        0.02, description="An honest platform whose equity falls below this share of assets exits."
    )
    entry_per_year: Annotated[float, Field(ge=0.0, le=1e5)] = Field(
        10.0, description="Expected new platforms per year (Poisson) in a market as it stands "
        "at day 0; the rate moves with conditions (the entry_* elasticities)."
    )
    entry_size_elasticity: Annotated[float, Field(ge=0.0, le=3.0)] = Field(
        0.0, description="Entry rate x (investor claims / claims at day 0)^elasticity: a larger "
        "market has room for more platforms (Bresnahan and Reiss 1991).")
    entry_growth_elasticity: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        0.0, description="Entry rate x exp(elasticity x annualised growth of investor claims "
        "over the last 90 days): inflows draw entrants.")
    entry_spread_elasticity: Annotated[float, Field(ge=0.0, le=1000.0)] = Field(
        0.0, description="Entry rate x exp(elasticity x (mean promised rate - outside rate - "
        "rate_premium)): a yield above what the market needs signals profits.")
    entry_failure_deterrence: Annotated[float, Field(ge=0.0, le=1000.0)] = Field(
        0.0, description="Entry rate x exp(-deterrence x failures in the last 180 days as a "
        "share of open platforms): failures and their news deter entrants.")
    entry_regulation_deterrence: Share = Field(
        0.0, description="Share by which an active entry regime (an entry threshold) cuts the "
        "entry rate beyond the entrants it refuses (registration cost, uncertainty).")
    entry_boom_fraud: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        0.0, description="Fraud-prone shares of entrants x exp(boom_fraud x annualised claims "
        "growth): booms draw more fraud-prone entrants.")
    max_platforms: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        2000, description="Upper bound on platforms ever created (sizes the arrays)."
    )
    custom: list[CustomPlatform] = Field(default_factory=list, description="Named platforms.")

    @model_validator(mode="after")
    def _rates_ordered(self) -> PlatformConfig:
        if self.rate_min > self.rate_max:
            raise ValueError(f"rate_min ({self.rate_min}) must not exceed rate_max ({self.rate_max})")
        return self


class InvestorConfig(Section):
    """Retail investors: wealth, literacy, attention, allocation and run behaviour."""

    count: Count = Field(100_000, description="Number of investors.")
    wealth_min: Money = Field(2e4, description="Pareto scale of investible wealth, yuan.")
    wealth_alpha: Annotated[float, Field(gt=1.0, le=100.0)] = Field(1.8, description="Pareto tail index.")
    p2p_share_mean: Share = Field(0.35, description="Mean target share of wealth held in P2P.")
    max_holdings: Annotated[int, Field(ge=1, le=16)] = Field(
        4, description="Product positions an investor can hold at once."
    )
    initial_fill: Share = Field(
        0.8, description="Share of the P2P target invested at day 0 (the rest is invested later)."
    )
    literacy_mean: Share = Field(0.35, description="Mean financial literacy, 0-1 (Beta).")
    risk_tolerance_mean: Share = Field(0.5, description="Mean risk tolerance, 0-1 (Beta).")
    attention_mean: Share = Field(0.5, description="Mean attention to news, 0-1 (Beta).")
    review_days: Annotated[float, Field(ge=1.0, le=DAYS_MAX)] = Field(
        20.0, description="Mean days between reviews of uninvested cash."
    )
    choice_sensitivity: Annotated[float, Field(ge=0.0, le=10_000.0)] = Field(
        60.0, description="Logit sensitivity per unit of annual risk-adjusted yield."
    )
    consideration_set: Annotated[int, Field(ge=1, le=64)] = Field(
        6, description="Platforms an investor compares at once, drawn by visibility."
    )
    loss_given_failure: Share = Field(
        0.7, description="Share of a claim investors expect to lose if a platform fails."
    )
    prior_failure_prob: Share = Field(
        0.03, description="Prior annual failure probability investors attach to any platform."
    )
    signal_noise: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        0.05, description="Sd of investors' signal of a platform's true risk (disclosure noise)."
    )
    fake_loan_visibility: Share = Field(
        0.25, description="Share of a Ponzi platform's fake loans that shows in investors' "
        "signal of its risk without a disclosure regime (the rest look like ordinary loans).")
    fear_half_life_days: Annotated[float, Field(gt=0.0, le=DAYS_MAX)] = Field(
        20.0, description="Half-life of personal fear, days."
    )
    delay_fear: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        0.5, description="Fear (annual failure probability) added by a delayed payment."
    )
    news_weight: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        0.6, description="Perceived annual failure probability added by public distress news."
    )
    liquidity_need_per_year: Annotated[float, Field(ge=0.0, le=365.0)] = Field(
        2.0, description="Rate at which a demand position is redeemed for ordinary needs, per year."
    )
    panic_redemption: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        0.25, description="Daily probability of redeeming a demand position at maximal fear."
    )
    panic_threshold: Share = Field(
        0.1, description="Perceived expected loss (share of the claim) at which panic redemption "
        "is half its maximum, for an investor of middling risk tolerance."
    )
    savings_rate: Rate = Field(0.04, description="New savings, annual share of initial wealth.")
    initial_participation: Share = Field(
        1.0, description="Share of investors who use P2P at day 0; the rest hold their money "
        "outside until they adopt.")
    adoption_innovation: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        0.0, description="Bass (1969) coefficient of innovation p: yearly adoption rate of a "
        "non-user independent of others.")
    adoption_imitation: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        0.0, description="Bass (1969) coefficient of imitation q: yearly adoption rate of a "
        "non-user per unit share of users.")
    exit_after_loss: Share = Field(
        0.0, description="Probability that an investor who loses money at a failed platform "
        "stops using P2P for good (reinvests nothing new).")


class BorrowerConfig(Section):
    """Small firms and individuals: credit quality, misreporting and loan demand."""

    count: Count = Field(20_000, description="Number of borrowers.")
    pd_mean: Share = Field(0.06, description="Mean true annual default probability.")
    pd_concentration: Annotated[float, Field(gt=0.0, le=10_000.0)] = Field(
        8.0, description="Beta concentration of true default probability (higher = less spread)."
    )
    misreport_share: Share = Field(
        0.3, description="Share of borrowers who inflate reported credit quality ('brushing')."
    )
    misreport_strength: Share = Field(
        0.6, description="Share by which a misreporter understates its default probability."
    )
    loan_size_median: Money = Field(8e4, description="Median loan demand, yuan (lognormal).")
    loan_size_sigma: Annotated[float, Field(ge=0.0, le=5.0)] = Field(0.8, description="Log-sd of loan size.")
    max_lenders: Annotated[int, Field(ge=1, le=8)] = Field(
        3, description="Platforms a borrower may borrow from at once."
    )
    sectors: Annotated[int, Field(ge=1, le=64)] = Field(6, description="Number of sectors.")
    apply_per_year: Annotated[float, Field(ge=0.0, le=365.0)] = Field(
        12.0, description="Rate at which a borrower with spare capacity applies, per year."
    )
    default_recovery: Share = Field(
        0.35, description="Share of a defaulted loan's principal the platform recovers."
    )


class ResolutionConfig(Section):
    """What happens to a failed platform's estate."""

    collection_rate: Share = Field(
        0.2, description="Share of scheduled loan repayments still collected after failure "
        "(borrowers stop paying a failed platform; investors recovered 10-35% of what they "
        "were owed)."
    )
    payout_interval_days: Days = Field(30, description="Days between pro-rata estate payouts.")
    max_days: Days = Field(540, description="Resolution closes after this many days; the rest is lost.")


class InformationChannel(Section):
    """News of a failure raises perceived risk of similar platforms [S0 §IV.A; MODEL.md 1]."""

    enabled: bool = Field(True, description="Switch the channel on or off.")
    strength: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        0.6, description="News intensity a failure sends to an identical platform (1 = distress).")
    rate_scale: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        0.01, description="Width of the rate-class kernel: similarity exp(-(gap / scale)^2 / 2) "
        "of the promised-rate gap, annual.")
    other_model_weight: Share = Field(
        0.2, description="Similarity of platforms with different business models, relative to "
        "the same model.")
    memory_days: Annotated[float, Field(gt=0.0, le=DAYS_MAX)] = Field(
        30.0, description="E-folding time of failure news, days.")


class HerdingChannel(Section):
    """Neighbours' withdrawals and losses raise an investor's fear (small-world network)."""

    enabled: bool = Field(False, description="Switch the channel on or off.")
    strength: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        0.5, description="Fear (annual failure probability) added when all neighbours are in "
        "distress, scaled by 1 - literacy.")
    neighbours: Annotated[int, Field(ge=2, le=50)] = Field(
        6, description="Mean degree of the Watts-Strogatz network (even).")
    rewiring: Share = Field(0.1, description="Watts-Strogatz rewiring probability.")


class SharedInvestorChannel(Section):
    """A loss or freeze at one platform makes its investors pull out of their other platforms."""

    enabled: bool = Field(True, description="Switch the channel on or off.")
    strength: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        0.15, description="Fear (annual failure probability) added by a delay or loss anywhere.")


class CommonBorrowerChannel(Section):
    """A lender's failure stops refinancing and raises its borrowers' default hazard elsewhere."""

    enabled: bool = Field(True, description="Switch the channel on or off.")
    strength: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        3.0, description="Hazard multiplier bump for a borrower whose lender failed.")
    decay_days: Annotated[float, Field(gt=0.0, le=DAYS_MAX)] = Field(
        90.0, description="E-folding time of lost-refinancing stress, days.")


class FireSaleChannel(Section):
    """Forced sales depress debt-transfer prices for every seller, and investors see the prices."""

    enabled: bool = Field(True, description="Switch the channel on or off.")
    signal_weight: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        1.0, description="Perceived failure probability added per unit of excess discount "
        "times a platform's loans-to-claims ratio.")


class GuarantorChannel(Section):
    """Third-party guarantors cover several platforms and fail together with their cover.

    ``present`` puts guarantors in the market; ``enabled`` switches the contagion on: a
    guarantor that runs out of cash fails and every platform it guarantees loses its cover.
    With guarantors present but the channel off, a guarantor pays while its cash lasts, but its
    other platforms keep their cover.
    """

    enabled: bool = Field(False, description="Switch the contagion channel on or off.")
    present: bool = Field(
        False, description="Guarantors exist even with the channel off (implied by enabled).")
    guarantors: Annotated[int, Field(ge=1, le=100)] = Field(5, description="Number of guarantors.")
    share_guaranteed: Share = Field(0.5, description="Share of platforms with a guarantor.")
    cover: Share = Field(0.8, description="Share of investor claims a solvent guarantor pays.")
    capital: Share = Field(
        0.01, description="Each guarantor's capital as a share of the claims it guarantees at "
        "day 0 (guarantors were thinly capitalised).")
    payout_delay_days: Annotated[int, Field(ge=0, le=3650)] = Field(
        90, description="Days from a failure to the guarantor's payment.")


class ChannelsConfig(Section):
    """The six contagion channels of MODEL.md, each with its own switch."""

    information: InformationChannel = Field(default_factory=InformationChannel)
    herding: HerdingChannel = Field(default_factory=HerdingChannel)
    shared_investors: SharedInvestorChannel = Field(default_factory=SharedInvestorChannel)
    common_borrowers: CommonBorrowerChannel = Field(default_factory=CommonBorrowerChannel)
    fire_sales: FireSaleChannel = Field(default_factory=FireSaleChannel)
    shared_guarantors: GuarantorChannel = Field(default_factory=GuarantorChannel)


