# ruff: noqa: I001 (the import order below is the order the policies act in)
"""Regulatory policies: one module per policy, each a :class:`~.base.Policy` subclass.

Importing this package registers the built-in policies, in the order they act at every hook
(the order below). A new policy is a module here with its class and config model, one import
line below, and its tests; everything else (the scenario schema, the CLI's list of policies,
``compare``, the report's labels, the ledger's accounts) reads the registry.
"""

from sim.mechanisms.policies.base import (
    Policy,
    PolicyBook,
    PolicyConfig,
    declared_accounts,
    declared_flows,
    register_policy,
    registered_policies,
    unregister_policy,
)
from sim.mechanisms.policies.protection_fund import ProtectionFund, ProtectionFundConfig
from sim.mechanisms.policies.custody import Custody, CustodyConfig
from sim.mechanisms.policies.liquidity_reserve import LiquidityReserve, LiquidityReserveConfig
from sim.mechanisms.policies.redemption_gates import RedemptionGateConfig, RedemptionGates
from sim.mechanisms.policies.entry_threshold import EntryThreshold, EntryThresholdConfig
from sim.mechanisms.policies.disclosure import Disclosure, DisclosureConfig
from sim.mechanisms.policies.education import Education, EducationConfig
from sim.mechanisms.policies.credit_information import CreditInformation, CreditInformationConfig
from sim.mechanisms.policies.borrowing_caps import BorrowingCaps, BorrowingCapsConfig
from sim.mechanisms.policies.maturity_limit import MaturityLimit, MaturityLimitConfig
from sim.mechanisms.policies.risk_reserve import RiskReserve, RiskReserveConfig
from sim.mechanisms.policies.early_warning import EarlyWarning, EarlyWarningConfig
from sim.mechanisms.policies.registration import Registration, RegistrationConfig

__all__ = [
    "BorrowingCaps", "BorrowingCapsConfig", "CreditInformation", "CreditInformationConfig",
    "Custody", "CustodyConfig", "Disclosure", "DisclosureConfig", "EarlyWarning",
    "EarlyWarningConfig", "Education", "EducationConfig", "EntryThreshold",
    "EntryThresholdConfig", "LiquidityReserve", "LiquidityReserveConfig", "MaturityLimit",
    "MaturityLimitConfig", "Policy", "PolicyBook", "PolicyConfig", "ProtectionFund",
    "ProtectionFundConfig", "RedemptionGateConfig", "RedemptionGates", "Registration",
    "RegistrationConfig", "RiskReserve",
    "RiskReserveConfig", "declared_accounts", "declared_flows", "register_policy",
    "registered_policies", "unregister_policy",
]
