"""The registries: a new policy is one class with its config model, and everything follows.

The toy policy below lives in this file only. Defining it adds its table to the scenario schema,
its outcome to every summary and to the outcome vocabulary, its account and flow to the ledger
(so the conservation check covers it), and its name to ``compare``'s policy list.
"""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import Field

from sim import P2PModel, vocabulary
from sim.config import (
    ChannelsConfig,
    ScenarioError,
    policies_model,
    scenario_model,
    shock_model,
    validate_scenario,
)
from sim.market.ledger import PLATFORM_CASH, Account, Flow
from sim.market.rules import DAYS_PER_YEAR
from sim.mechanisms import shocks
from sim.mechanisms.policies import Policy, PolicyConfig, registered_policies, unregister_policy
from sim.schema import Rate
from sim.vocabulary import Channel, Outcome, Unit
from tests.helpers import small_scenario

BUILT_IN_ORDER = ["protection_fund", "custody", "liquidity_reserve", "redemption_gates",
                  "entry_threshold", "disclosure", "education", "credit_information",
                  "borrowing_caps", "maturity_limit", "risk_reserve", "early_warning",
                  "registration"]


def test_policies_act_in_the_documented_order():
    assert list(registered_policies()) == BUILT_IN_ORDER


def test_the_schema_has_one_table_per_registered_policy_and_shock_type():
    assert list(policies_model().model_fields) == BUILT_IN_ORDER
    kinds = shock_model().model_fields["type"].annotation.__args__
    assert list(kinds) == list(shocks.shock_types()) == [
        "credit", "funding", "liquidity", "fraud", "rumour", "deadline", "outage"]


def test_channel_tables_are_the_channel_vocabulary():
    assert list(ChannelsConfig.model_fields) == [c.value for c in Channel]


def test_every_policy_outcome_is_in_the_vocabulary():
    for cls in registered_policies().values():
        for item in cls.outcomes:
            assert vocabulary.outcome(item.key) == item


# --------------------------------------------------------------------------- a toy policy
class ToyLevyConfig(PolicyConfig):
    """A daily levy on claims, paid into a treasury."""

    rate: Rate = Field(0.01, description="Levy on claims, annual share.")


class ToyLevy(Policy, register=False):
    """Every operating platform pays ``rate * claims / 365`` a day into a treasury account."""

    name = "toy_levy"
    config_model = ToyLevyConfig
    outcomes = (Outcome("toy_levy_collected", "toy levy collected", Unit.YUAN, when_off=0.0),)
    accounts = (Account("toy_treasury", description="where the toy levy goes"),)
    flows = (Flow("toy_levies", PLATFORM_CASH, "toy_treasury"),)

    def start_of_day(self) -> None:
        """Collect the levy from every operating platform, never more than its cash."""
        plats = self.model.platforms
        n = plats.n
        levy = np.where(plats.operating_mask(),
                        self.cfg.rate * plats.products[:n] / DAYS_PER_YEAR, 0.0)
        self.model.ledger.transfer("toy_levies", np.minimum(levy, plats.cash[:n]))

    def measure(self) -> dict:
        """What the treasury collected, yuan."""
        return {"toy_levy_collected": self.model.ledger.balance("toy_treasury")}


@pytest.fixture
def toy_registered():
    from sim.mechanisms.policies import register_policy

    register_policy(ToyLevy)
    yield ToyLevy
    unregister_policy("toy_levy")


def toy_scenario(enabled: bool, **levy):
    data = small_scenario(run={"days": 30}).model_dump(mode="json")
    data["policies"]["toy_levy"] = {"enabled": enabled, **levy}
    return validate_scenario(data, source="toy")


def test_a_new_policy_gets_a_table_and_validates_like_the_rest(toy_registered):
    assert "toy_levy" in scenario_model().model_fields["policies"].annotation.model_fields
    with pytest.raises(ScenarioError, match=r"policies\.toy_levy\.rate.*less than or equal to 1"):
        toy_scenario(True, rate=3.0)
    with pytest.raises(ScenarioError, match="unknown key 'policies.toy_levy.rat'"):
        toy_scenario(True, rat=0.1)


def test_a_new_policy_moves_money_only_through_the_ledger_and_reports_its_outcome(
        toy_registered):
    on = P2PModel(toy_scenario(True), check_invariants=True)
    on.run()  # the daily check covers the new account and flow
    collected = on.summary()["toy_levy_collected"]
    assert collected > 0
    assert collected == pytest.approx(on.ledger.total("toy_levies"))
    assert vocabulary.outcome("toy_levy_collected").label == "toy levy collected"
    off = P2PModel(toy_scenario(False), check_invariants=True)
    off.run()
    assert off.summary()["toy_levy_collected"] == 0.0
    # Money levied left the platforms: they hold less cash than without the levy.
    assert on.platforms.cash[: on.platforms.n].sum() < off.platforms.cash[: off.platforms.n].sum()


def test_a_new_policy_is_known_to_compare(toy_registered):
    from sim.experiments.policy_sets import policy_names

    assert "toy_levy" in policy_names()


def test_unregistering_restores_the_built_in_schema(toy_registered):
    unregister_policy("toy_levy")  # the fixture unregisters again, harmlessly
    assert list(policies_model().model_fields) == BUILT_IN_ORDER
    assert vocabulary.outcome("toy_levy_collected") != ToyLevy.outcomes[0]


def test_looking_up_an_investor_makes_its_agent_once():
    """Above the agent-view limit investors have no agent until asked; asking twice makes one."""
    from sim.model import AGENT_VIEW_LIMIT

    sc = small_scenario(run={"days": 1}, investors={"count": AGENT_VIEW_LIMIT + 1})
    model = P2PModel(sc, check_invariants=False)
    before = len(model.agents)
    first = model.investor(42)
    assert model.investor(42) is first
    assert len(model.agents) == before + 1
    assert first.holdings == model.investor(42).holdings
