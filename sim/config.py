"""Scenario schema, loading and validation.

A scenario is a TOML file whose tables map onto the pydantic models below. Every field states its
unit: one step is one day, money is yuan, rates are annual fractions (0.10 = 10% a year), shares
are fractions in [0, 1].

Errors are raised as :class:`ScenarioError`, whose message names the field, the offending value and
what is allowed. The CLI turns it into one line on stderr and exit code 2.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Rate = Annotated[float, Field(ge=0.0, le=1.0)]
Money = Annotated[float, Field(ge=0.0)]
Days = Annotated[int, Field(ge=1)]
Count = Annotated[int, Field(ge=0)]


class Section(BaseModel):
    """Base for every scenario table: unknown keys are errors, values are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class RunConfig(Section):
    """How long to run and how."""

    days: Days = Field(730, description="Simulated days (one step is one day).")
    seed: Annotated[int, Field(ge=0)] = Field(20130601, description="Seed of the model's generator.")
    check_invariants: bool = Field(
        False, description="Check money conservation every step (always on in tests)."
    )
    engine: Literal["array", "object"] = Field(
        "array",
        description="'array': numpy rules over the population; 'object': one Python object per "
        "agent (the executable specification, slow).",
    )


class MarketConfig(Section):
    """The outside option and the debt-transfer (secondary loan) market."""

    outside_rate: Rate = Field(0.03, description="Outside option: bank deposit / money-market rate, annual.")
    transfer_discount: Share = Field(
        0.03, description="Debt-transfer market discount on loan principal in calm times, share."
    )
    fire_sale_impact: Annotated[float, Field(ge=0.0)] = Field(
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
    capital: Money = Field(3e6, description="Registered (paid-in) capital, yuan.")
    owner: Literal["honest", "ponzi", "fraud"] = Field("honest", description="Owner type.")
    promised_rate: Rate = Field(0.10, description="Initial promised investor rate, annual.")
    demand_share: Share | None = Field(None, description="Share of products redeemable on demand.")
    cash_buffer_target: Share | None = Field(
        None, description="Target cash as a share of product liabilities."
    )
    screening: Share | None = Field(None, description="Screening quality, 0 (none) to 1 (perfect).")
    visibility: Annotated[float, Field(gt=0.0)] = Field(
        1.0, description="Relative weight in investors' consideration sets (advertising, brand)."
    )


class PlatformConfig(Section):
    """The platform population, its products, pricing, liquidity management and exits."""

    count: Count = Field(100, description="Platforms at day 0 (besides any custom ones).")
    capital_median: Money = Field(
        3e6, description="Median registered capital, yuan (lognormal). The simulated market is a "
        "sample: about 1,000 investors per platform, so balance sheets are scaled down alike.")
    capital_sigma: Annotated[float, Field(ge=0.0)] = Field(1.0, description="Log-sd of capital.")
    share_ponzi: Share = Field(0.02, description="Share of Ponzi owners at reference capital.")
    share_fraud: Share = Field(0.02, description="Share of fraudulent owners at reference capital.")
    fraud_capital_elasticity: Annotated[float, Field(ge=0.0)] = Field(
        0.5,
        description="Fraud-prone shares scale with (capital_median / capital)^elasticity: "
        "low-capital entrants are more often fraud-prone.",
    )
    promised_rate_mean: Rate = Field(0.10, description="Mean initial promised investor rate, annual.")
    promised_rate_sd: Rate = Field(0.015, description="Cross-platform sd of initial promised rate.")
    rate_min: Rate = Field(0.05, description="Lowest promised rate a platform will offer, annual.")
    rate_max: Rate = Field(0.25, description="Highest promised rate a platform will offer, annual.")
    rate_step: Rate = Field(
        0.0005, description="Largest daily change of the promised rate, annual rate per day."
    )
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
    fixed_cost: Money = Field(3e4, description="Fixed running costs, yuan per year.")
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
    abscond_min_cash: Money = Field(2e5, description="Cash below which absconding is not worth it.")
    exit_equity_share: Share = Field(
        0.02, description="An honest platform whose equity falls below this share of assets exits."
    )
    entry_per_year: Annotated[float, Field(ge=0.0)] = Field(
        10.0, description="Expected new platforms per year (Poisson)."
    )
    max_platforms: Annotated[int, Field(ge=1)] = Field(
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
    wealth_alpha: Annotated[float, Field(gt=1.0)] = Field(1.8, description="Pareto tail index.")
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
    review_days: Annotated[float, Field(ge=1.0)] = Field(
        20.0, description="Mean days between reviews of uninvested cash."
    )
    choice_sensitivity: Annotated[float, Field(ge=0.0)] = Field(
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
    signal_noise: Annotated[float, Field(ge=0.0)] = Field(
        0.05, description="Sd of investors' signal of a platform's true risk (disclosure noise)."
    )
    fake_loan_visibility: Share = Field(
        0.25, description="Share of a Ponzi platform's fake loans that shows in investors' "
        "signal of its risk without a disclosure regime (the rest look like ordinary loans).")
    fear_half_life_days: Annotated[float, Field(gt=0.0)] = Field(
        20.0, description="Half-life of personal fear, days."
    )
    delay_fear: Annotated[float, Field(ge=0.0)] = Field(
        0.5, description="Fear (annual failure probability) added by a delayed payment."
    )
    news_weight: Annotated[float, Field(ge=0.0)] = Field(
        0.6, description="Perceived annual failure probability added by public distress news."
    )
    liquidity_need_per_year: Annotated[float, Field(ge=0.0)] = Field(
        2.0, description="Rate at which a demand position is redeemed for ordinary needs, per year."
    )
    panic_redemption: Annotated[float, Field(ge=0.0)] = Field(
        0.25, description="Daily probability of redeeming a demand position at maximal fear."
    )
    panic_threshold: Share = Field(
        0.1, description="Perceived expected loss (share of the claim) at which panic redemption "
        "is half its maximum, for an investor of middling risk tolerance."
    )
    savings_rate: Rate = Field(0.04, description="New savings, annual share of initial wealth.")


class BorrowerConfig(Section):
    """Small firms and individuals: credit quality, misreporting and loan demand."""

    count: Count = Field(20_000, description="Number of borrowers.")
    pd_mean: Share = Field(0.06, description="Mean true annual default probability.")
    pd_concentration: Annotated[float, Field(gt=0.0)] = Field(
        8.0, description="Beta concentration of true default probability (higher = less spread)."
    )
    misreport_share: Share = Field(
        0.3, description="Share of borrowers who inflate reported credit quality ('brushing')."
    )
    misreport_strength: Share = Field(
        0.6, description="Share by which a misreporter understates its default probability."
    )
    loan_size_median: Money = Field(8e4, description="Median loan demand, yuan (lognormal).")
    loan_size_sigma: Annotated[float, Field(ge=0.0)] = Field(0.8, description="Log-sd of loan size.")
    max_lenders: Annotated[int, Field(ge=1, le=8)] = Field(
        3, description="Platforms a borrower may borrow from at once."
    )
    sectors: Annotated[int, Field(ge=1, le=64)] = Field(6, description="Number of sectors.")
    apply_per_year: Annotated[float, Field(ge=0.0)] = Field(
        12.0, description="Rate at which a borrower with spare capacity applies, per year."
    )
    default_recovery: Share = Field(
        0.35, description="Share of a defaulted loan's principal the platform recovers."
    )


class ResolutionConfig(Section):
    """What happens to a failed platform's estate."""

    collection_rate: Share = Field(
        0.4, description="Share of scheduled loan repayments still collected after failure."
    )
    payout_interval_days: Days = Field(30, description="Days between pro-rata estate payouts.")
    max_days: Days = Field(540, description="Resolution closes after this many days; the rest is lost.")


SHOCK_TYPES = ("credit", "funding", "liquidity", "fraud", "rumour", "deadline", "outage")


class ShockConfig(Section):
    """A scheduled shock: it fires on day ``start`` and lasts ``duration`` days.

    What ``size`` means depends on the type:

    * ``credit``: borrower default hazard multiplied by ``1 + size`` (all sectors, or ``sector``).
    * ``funding``: the outside rate rises by ``size`` (annual rate, e.g. 0.03 = 3 points).
    * ``liquidity``: investors' ordinary redemption need multiplied by ``1 + size``.
    * ``fraud``: the platform absconds on ``start`` (``platform``, or the largest by claims).
    * ``rumour``: public news of intensity ``size`` (1 = as strong as distress) at ``platform``
      or everywhere, with no change in fundamentals.
    * ``deadline``: platforms with registered capital below ``size`` yuan must exit within
      ``duration`` days: they stop new business on ``start`` and are closed at the end of day
      ``start + duration - 1`` (the deadline).
    * ``outage``: ``platform`` (or the largest) can neither take nor pay money for ``duration``.
    """

    type: Literal["credit", "funding", "liquidity", "fraud", "rumour", "deadline", "outage"] = Field(
        description="Shock type: " + ", ".join(SHOCK_TYPES) + ".")
    start: Days = Field(description="Day the shock fires.")
    duration: Days = Field(1, description="Days it lasts (deadline: days until the deadline).")
    size: Annotated[float, Field(ge=0.0)] = Field(
        1.0, description="Strength; its unit depends on the type (see the type's description).")
    platform: str | None = Field(
        None, description="Target platform: a custom name, an id such as P0003, or 'largest'. "
        "Omit for the whole market (fraud and outage then hit the largest platform).")
    sector: Annotated[int, Field(ge=0)] | None = Field(
        None, description="Credit shocks only: the sector hit (0-based); omit for all sectors.")

    @model_validator(mode="after")
    def _size_in_range(self) -> ShockConfig:
        if self.type == "funding" and self.size > 1.0:
            raise ValueError(f"a funding shock's size is an annual rate rise; {self.size} > 1")
        if self.type in ("rumour", "credit", "liquidity") and self.size > 100.0:
            raise ValueError(f"size {self.size} is above 100")
        return self


class InformationChannel(Section):
    """News of a failure raises perceived risk of similar platforms [S0 §IV.A; MODEL.md 1]."""

    enabled: bool = Field(True, description="Switch the channel on or off.")
    strength: Annotated[float, Field(ge=0.0)] = Field(
        0.6, description="News intensity a failure sends to an identical platform (1 = distress).")
    rate_scale: Annotated[float, Field(gt=0.0)] = Field(
        0.03, description="Promised-rate gap (annual) at which similarity falls to 1/e.")
    memory_days: Annotated[float, Field(gt=0.0)] = Field(
        30.0, description="E-folding time of failure news, days.")


class HerdingChannel(Section):
    """Neighbours' withdrawals and losses raise an investor's fear (small-world network)."""

    enabled: bool = Field(False, description="Switch the channel on or off.")
    strength: Annotated[float, Field(ge=0.0)] = Field(
        0.5, description="Fear (annual failure probability) added when all neighbours are in "
        "distress, scaled by 1 - literacy.")
    neighbours: Annotated[int, Field(ge=2, le=50)] = Field(
        6, description="Mean degree of the Watts-Strogatz network (even).")
    rewiring: Share = Field(0.1, description="Watts-Strogatz rewiring probability.")


class SharedInvestorChannel(Section):
    """A loss or freeze at one platform makes its investors pull out of their other platforms."""

    enabled: bool = Field(True, description="Switch the channel on or off.")
    strength: Annotated[float, Field(ge=0.0)] = Field(
        0.15, description="Fear (annual failure probability) added by a delay or loss anywhere.")


class CommonBorrowerChannel(Section):
    """A lender's failure stops refinancing and raises its borrowers' default hazard elsewhere."""

    enabled: bool = Field(True, description="Switch the channel on or off.")
    strength: Annotated[float, Field(ge=0.0)] = Field(
        3.0, description="Hazard multiplier bump for a borrower whose lender failed.")
    decay_days: Annotated[float, Field(gt=0.0)] = Field(
        90.0, description="E-folding time of lost-refinancing stress, days.")


class FireSaleChannel(Section):
    """Forced sales depress debt-transfer prices for every seller, and investors see the prices."""

    enabled: bool = Field(True, description="Switch the channel on or off.")
    signal_weight: Annotated[float, Field(ge=0.0)] = Field(
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
    cover: Share = Field(0.8, description="Share of investor losses a solvent guarantor covers.")
    capital: Money = Field(5e6, description="Capital of each guarantor, yuan.")


class ChannelsConfig(Section):
    """The six contagion channels of MODEL.md, each with its own switch."""

    information: InformationChannel = Field(default_factory=InformationChannel)
    herding: HerdingChannel = Field(default_factory=HerdingChannel)
    shared_investors: SharedInvestorChannel = Field(default_factory=SharedInvestorChannel)
    common_borrowers: CommonBorrowerChannel = Field(default_factory=CommonBorrowerChannel)
    fire_sales: FireSaleChannel = Field(default_factory=FireSaleChannel)
    shared_guarantors: GuarantorChannel = Field(default_factory=GuarantorChannel)


class ProtectionFundConfig(Section):
    """Investor protection fund [S0 §V.A]: levy, cover, payout delay, optional backstop."""

    enabled: bool = Field(False, description="Switch the policy on or off.")
    levy_rate: Rate = Field(0.002, description="Levy on product balances, annual share.")
    coverage_share: Share = Field(
        0.9, description="Share of a claim covered (1 - co-insurance share).")
    coverage_cap: Money = Field(1e5, description="Most paid per position, yuan.")
    payout_delay_days: Annotated[int, Field(ge=0)] = Field(
        30, description="Days from a failure to the payout.")
    public_backstop: bool = Field(
        False, description="The government tops the fund up when it cannot pay in full.")
    initial_fund: Money = Field(0.0, description="Money in the fund on day 0, yuan.")
    reserve_target: Money = Field(
        5e7, description="Fund size at which investors fully trust it again after a shortfall, "
        "yuan.")


class CustodyConfig(Section):
    """Bank custody / segregation of investor money [S1 §3(2), S2]."""

    enabled: bool = Field(False, description="Switch the policy on or off.")
    share: Share = Field(1.0, description="Share of platforms whose funds are held at a bank.")


class LiquidityReserveConfig(Section):
    """Minimum cash against product liabilities [S2 流动性管理: 资金储备]."""

    enabled: bool = Field(False, description="Switch the policy on or off.")
    ratio: Share = Field(0.2, description="Cash a platform must hold, share of its claims.")


class RedemptionGateConfig(Section):
    """Suspension of early redemptions under a run (Diamond and Dybvig 1983)."""

    enabled: bool = Field(False, description="Switch the policy on or off.")
    trigger: Share = Field(
        0.05, description="A day's requests above this share of claims close the gate.")
    days: Days = Field(30, description="Days the gate stays closed.")


class EntryThresholdConfig(Section):
    """Minimum registered capital for entrants; incumbents must comply in a grace period."""

    enabled: bool = Field(False, description="Switch the policy on or off.")
    min_capital: Money = Field(5e6, description="Minimum registered capital, yuan.")
    grace_days: Days = Field(180, description="Days incumbents have to comply or exit.")


class DisclosureConfig(Section):
    """Disclosure regime [S0 §V.D, S2]: less noise in investors' signal of true risk."""

    enabled: bool = Field(False, description="Switch the policy on or off.")
    noise_reduction: Share = Field(0.8, description="Share by which signal noise falls.")
    visibility_gain: Share = Field(
        0.8, description="Share of the hidden fake loans that disclosure brings into view.")


class EducationConfig(Section):
    """Investor education [S0 §V.D]: higher literacy, less yield-chasing and herding."""

    enabled: bool = Field(False, description="Switch the policy on or off.")
    literacy_gain: Share = Field(
        0.3, description="Literacy rises by this share of the gap to 1.")


class CreditInformationConfig(Section):
    """Credit information system [S1 §3(2)]: less misreporting, better screening."""

    enabled: bool = Field(False, description="Switch the policy on or off.")
    misreport_cut: Share = Field(0.7, description="Share by which inflated reports shrink.")
    screening_gain: Share = Field(
        0.3, description="Screening quality rises by this share of the gap to 1.")


class BorrowingCapsConfig(Section):
    """Borrowing caps (2016 Interim Measures: 200k yuan per platform for individuals)."""

    enabled: bool = Field(False, description="Switch the policy on or off.")
    per_platform: Money = Field(2e5, description="Largest loan at one platform, yuan.")
    max_lenders: Annotated[int, Field(ge=1, le=8)] = Field(
        2, description="Platforms one borrower may borrow from at once.")


class MaturityLimitConfig(Section):
    """Maturity matching: products no shorter than ``min_term_days`` and none on demand."""

    enabled: bool = Field(False, description="Switch the policy on or off.")
    min_term_days: Days = Field(180, description="Shortest product a platform may sell, days.")


class RiskReserveConfig(Section):
    """Platform risk reserve [S1 §3(2)]: a ring-fenced account that absorbs loan losses first."""

    enabled: bool = Field(False, description="Switch the policy on or off.")
    fee_rate: Share = Field(
        0.02, description="Fee a borrower pays into the reserve at origination, share of the "
        "loan's principal (one-off, not annual).")
    cover_share: Share = Field(
        1.0, description="Share of a defaulted loan's net loss the reserve pays back to the "
        "platform while it has money.")
    advertised: bool = Field(
        True, description="Platforms advertise the reserve, so investors count on "
        "reserve / claims of cover (the implicit-guarantee moral hazard).")


class EarlyWarningConfig(Section):
    """Early-warning supervision [S4; S0 §V.D]: risk index, inspections, escalating actions."""

    enabled: bool = Field(False, description="Switch the policy on or off.")
    review_days: Days = Field(30, description="Days between supervisory reviews.")
    start_day: Annotated[int, Field(ge=0)] = Field(
        0, description="First day the supervisor reviews the market.")
    flag_threshold: float = Field(
        1.0, description="Risk index (in standard deviations across operating platforms) above "
        "which a platform is flagged.")
    detection_error: Annotated[float, Field(ge=0.0)] = Field(
        0.5, description="Standard deviation of the noise on the risk index, in index units.")
    inspections_per_review: Count = Field(
        5, description="On-site inspections the supervisor can make at each review.")
    fraud_detection: Share = Field(
        0.7, description="Chance an inspection uncovers a fraudulent owner's intent.")
    min_liquidity: Share = Field(
        0.02, description="Cash below this share of claims, with payments late, is a finding.")
    recapitalisation_limit: Annotated[float, Field(ge=0.0)] = Field(
        1.0, description="Most an honest owner pays in when ordered, as a multiple of its "
        "registered capital.")
    horizon_days: Days = Field(
        180, description="A failure within this many days of a flag counts as foreseen.")


class PoliciesConfig(Section):
    """Regulatory policies; each is off unless enabled."""

    protection_fund: ProtectionFundConfig = Field(default_factory=ProtectionFundConfig)
    custody: CustodyConfig = Field(default_factory=CustodyConfig)
    liquidity_reserve: LiquidityReserveConfig = Field(default_factory=LiquidityReserveConfig)
    redemption_gates: RedemptionGateConfig = Field(default_factory=RedemptionGateConfig)
    entry_threshold: EntryThresholdConfig = Field(default_factory=EntryThresholdConfig)
    disclosure: DisclosureConfig = Field(default_factory=DisclosureConfig)
    education: EducationConfig = Field(default_factory=EducationConfig)
    credit_information: CreditInformationConfig = Field(default_factory=CreditInformationConfig)
    borrowing_caps: BorrowingCapsConfig = Field(default_factory=BorrowingCapsConfig)
    maturity_limit: MaturityLimitConfig = Field(default_factory=MaturityLimitConfig)
    risk_reserve: RiskReserveConfig = Field(default_factory=RiskReserveConfig)
    early_warning: EarlyWarningConfig = Field(default_factory=EarlyWarningConfig)


class Scenario(Section):
    """A complete scenario file."""

    name: str = Field("unnamed", description="Scenario name, shown in outputs.")
    description: str = Field("", description="What the scenario demonstrates.")
    run: RunConfig = Field(default_factory=RunConfig)
    market: MarketConfig = Field(default_factory=MarketConfig)
    platforms: PlatformConfig = Field(default_factory=PlatformConfig)
    investors: InvestorConfig = Field(default_factory=InvestorConfig)
    borrowers: BorrowerConfig = Field(default_factory=BorrowerConfig)
    resolution: ResolutionConfig = Field(default_factory=ResolutionConfig)
    shocks: list[ShockConfig] = Field(default_factory=list, description="Scheduled shocks.")
    channels: ChannelsConfig = Field(default_factory=ChannelsConfig)
    policies: PoliciesConfig = Field(default_factory=PoliciesConfig)


class ScenarioError(Exception):
    """A scenario that cannot be used; the message is meant for the user, as is."""


def _format_validation_error(err: ValidationError, source: str) -> str:
    lines = []
    for item in err.errors():
        field = ".".join(str(p) for p in item["loc"]) or "(top level)"
        value = item.get("input")
        kind = item["type"]
        if kind == "extra_forbidden":
            parent = _section_for(item["loc"][:-1])
            allowed = ", ".join(sorted(parent.model_fields)) if parent else "see the JSON Schema"
            lines.append(f"{source}: unknown key '{field}'. Allowed here: {allowed}")
            continue
        message = item["msg"]
        shown = repr(value) if not isinstance(value, dict) else "a table"
        lines.append(f"{source}: field '{field}' = {shown} is invalid: {message}")
    return "\n".join(lines)


def _section_for(loc: tuple) -> type[BaseModel] | None:
    """The model class at a location path, for listing allowed keys."""
    model: type[BaseModel] = Scenario
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        annotation = field.annotation
        inner = getattr(annotation, "__args__", (annotation,))
        found = next((a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if found is None:
            return None
        model = found
    return model


def _parse_override_value(text: str) -> Any:
    """Interpret a --set value as TOML (numbers, booleans, lists, quoted strings) or a bare string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """Apply ``dotted.key=value`` overrides to raw scenario data (validated afterwards)."""
    for item in overrides:
        if "=" not in item:
            raise ScenarioError(f"--set '{item}': expected dotted.key=value, e.g. run.days=365")
        key, _, raw = item.partition("=")
        parts = [p for p in key.strip().split(".") if p]
        if not parts:
            raise ScenarioError(f"--set '{item}': empty key")
        node = data
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ScenarioError(f"--set '{item}': '{part}' is not a table")
            node = child
        node[parts[-1]] = _parse_override_value(raw.strip())
    return data


def read_scenario_data(path: str | Path) -> dict:
    """Read a TOML scenario into a dict, with user-facing errors for unreadable files."""
    path = Path(path)
    if not path.exists():
        raise ScenarioError(f"{path}: no such scenario file")
    if path.is_dir():
        raise ScenarioError(f"{path}: is a directory, expected a .toml scenario file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not a text file; expected a TOML scenario") from None
    if not text.strip():
        raise ScenarioError(f"{path}: the file is empty; a scenario needs at least a name")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"{path}: not valid TOML ({err})") from None


def validate_scenario(data: dict, source: str = "scenario") -> Scenario:
    """Validate raw data into a :class:`Scenario`, raising :class:`ScenarioError` on any problem."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(_format_validation_error(err, source)) from None


def load_scenario(path: str | Path, overrides: list[str] | None = None) -> Scenario:
    """Load, override and validate a scenario file.

    Args:
        path: TOML scenario file.
        overrides: ``dotted.key=value`` strings applied before validation.

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: with a message naming the file, field, value and what is allowed.
    """
    data = read_scenario_data(path)
    data = apply_overrides(data, overrides or [])
    return validate_scenario(data, source=str(path))


def json_schema() -> str:
    """The scenario JSON Schema, for editors (``scenarios/scenario.schema.json``)."""
    return json.dumps(Scenario.model_json_schema(), indent=2, sort_keys=True) + "\n"
