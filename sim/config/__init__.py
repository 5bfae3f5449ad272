"""Scenario schema, loading and validation.

A scenario is a TOML file whose tables map onto pydantic models: the scenario's own tables
(:mod:`sim.config.sections`), the shock list and one table per policy, assembled from the
registries (:mod:`sim.config.scenario`), and read with one clear message per mistake
(:mod:`sim.config.loading`), checked across fields (:mod:`sim.config.checks`) and sized
against the machine's memory (:mod:`sim.config.memory`). Every field states its unit: one step is one day, money is yuan,
rates are annual fractions (0.10 = 10% a year), shares are fractions in [0, 1].
"""

from sim.config.loading import (
    apply_overrides,
    json_schema,
    load_scenario,
    read_scenario_data,
    validate_scenario,
)
from sim.config.scenario import (
    PoliciesConfig,
    Scenario,
    ShockConfig,
    policies_model,
    scenario_model,
    shock_model,
)
from sim.config.sections import (
    BorrowerConfig,
    ChannelsConfig,
    CustomPlatform,
    InvestorConfig,
    MarketConfig,
    PlatformConfig,
    ResolutionConfig,
    RunConfig,
)
from sim.mechanisms.policies import (
    BorrowingCapsConfig,
    CreditInformationConfig,
    CustodyConfig,
    DisclosureConfig,
    EarlyWarningConfig,
    EducationConfig,
    EntryThresholdConfig,
    LiquidityReserveConfig,
    MaturityLimitConfig,
    ProtectionFundConfig,
    RedemptionGateConfig,
    RiskReserveConfig,
)
from sim.schema import ScenarioError

__all__ = [
    "BorrowerConfig", "BorrowingCapsConfig", "ChannelsConfig", "CreditInformationConfig",
    "CustodyConfig", "CustomPlatform", "DisclosureConfig", "EarlyWarningConfig",
    "EducationConfig", "EntryThresholdConfig", "InvestorConfig", "LiquidityReserveConfig",
    "MarketConfig", "MaturityLimitConfig", "PlatformConfig", "PoliciesConfig",
    "ProtectionFundConfig", "RedemptionGateConfig", "ResolutionConfig", "RiskReserveConfig",
    "RunConfig", "Scenario", "ScenarioError", "ShockConfig", "apply_overrides", "json_schema",
    "load_scenario", "policies_model", "read_scenario_data", "scenario_model", "shock_model",
    "validate_scenario",
]
