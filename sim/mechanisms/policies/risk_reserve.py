"""Platform risk reserve (风险准备金) [S1 §3(2)]."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from sim.market.ledger import OUTSIDE, PLATFORM_CASH, Account, Flow
from sim.mechanisms.policies.base import Policy, PolicyConfig
from sim.schema import Share
from sim.vocabulary import Outcome, Unit

RESERVE = "risk_reserve"


class RiskReserveConfig(PolicyConfig):
    """Platform risk reserve [S1 §3(2)]: a ring-fenced account that absorbs loan losses first."""

    fee_rate: Share = Field(
        0.02, description="Fee a borrower pays into the reserve at origination, share of the "
        "loan's principal (one-off, not annual).")
    cover_share: Share = Field(
        1.0, description="Share of a defaulted loan's net loss the reserve pays back to the "
        "platform while it has money.")
    advertised: bool = Field(
        True, description="Platforms advertise the reserve, so investors count on "
        "reserve / claims of cover (the implicit-guarantee moral hazard).")


class RiskReserve(Policy):
    """Platform risk reserve (风险准备金) [S1 §3(2)]: loan losses hit the reserve first.

    * Funding: a borrower pays ``fee_rate * principal`` into the lending platform's reserve when a
      loan is made. The reserve is ring-fenced (held at a bank, a ledger account): it cannot pay
      redemptions, and an absconding owner cannot take it.
    * Cover: when loans default, the reserve pays the platform ``cover_share`` of the net loss
      (principal minus recovery) while it has money, so investors' claims stay backed.
    * Release: at failure what is left goes into the estate for investors; at an orderly exit,
      to the platform before its owner takes the equity.
    * Belief: with ``advertised`` investors count on ``reserve / claims`` of cover
      (``rules.expected_loss``), the implicit guarantee that regulators later banned as moral
      hazard (2016 Interim Measures: platforms may not promise principal protection).
    * Cost: the fee raises the borrowers' cost of credit (reported as ``reserve_fees``).
    """

    name = "risk_reserve"
    config_model = RiskReserveConfig
    outcomes = (
        Outcome("reserve_fees", "risk reserve: fees paid by borrowers", Unit.YUAN, when_off=0.0),
        Outcome("reserve_cover", "risk reserve: loan losses covered", Unit.YUAN, when_off=0.0),
        Outcome("reserve_released", "risk reserve: released to estates and exits", Unit.YUAN,
                when_off=0.0),
    )
    accounts = (Account(RESERVE, per_platform=True,
                        description="each platform's ring-fenced risk reserve"),)
    flows = (
        Flow("reserve_fees", OUTSIDE, RESERVE, description="borrowers' origination fees"),
        Flow("reserve_cover", RESERVE, PLATFORM_CASH, description="loan losses covered"),
        Flow("reserve_released", RESERVE, PLATFORM_CASH,
             description="what is left, at failure or exit"),
    )

    def start_of_day(self) -> None:
        """Advertised reserves count as cover: ``min(reserve / claims, 1)``."""
        if not self.cfg.advertised:
            return
        model = self.model
        n = model.platforms.n
        reserve = model.ledger.balance(RESERVE)[:n]
        model.conditions.coverage[:n] += np.minimum(
            reserve / np.maximum(model.platforms.products[:n], 1.0), 1.0)

    def on_loans_made(self, lent: np.ndarray) -> None:
        """Borrowers pay the fee into the lending platform's reserve."""
        self.model.ledger.transfer("reserve_fees", self.cfg.fee_rate * lent)

    def on_loan_losses(self, net_loss: np.ndarray) -> None:
        """The reserve pays the platform ``cover_share`` of its net loss while it has money."""
        model = self.model
        n = len(net_loss)
        reserve = model.ledger.balance(RESERVE)[:n]
        cover = np.minimum(reserve, self.cfg.cover_share * np.maximum(net_loss, 0.0))
        cover = np.where(model.platforms.in_resolution[:n], 0.0, cover)
        model.ledger.transfer("reserve_cover", cover)

    def _release(self, platform: int) -> None:
        left = float(self.model.ledger.balance(RESERVE)[platform])
        if left > 0:
            self.model.ledger.transfer("reserve_released", left, platform)

    def on_failure(self, platform: int) -> None:
        """What is left goes into the estate."""
        self._release(platform)

    def on_exit(self, platform: int) -> None:
        """What is left goes back to the platform before its owner leaves."""
        self._release(platform)

    def measure(self) -> dict:
        """Fees collected, losses covered and reserves released, yuan."""
        led = self.model.ledger
        return {"reserve_fees": led.total("reserve_fees"),
                "reserve_cover": led.total("reserve_cover"),
                "reserve_released": led.total("reserve_released")}
