"""Borrowing caps (2016 Interim Measures)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from sim.mechanisms.policies.base import Policy, PolicyConfig
from sim.schema import Money


class BorrowingCapsConfig(PolicyConfig):
    """Borrowing caps (2016 Interim Measures: 200k yuan per platform for individuals)."""

    per_platform: Money = Field(2e5, description="Largest loan at one platform, yuan.")
    max_lenders: Annotated[int, Field(ge=1, le=8)] = Field(
        2, description="Platforms one borrower may borrow from at once.")


class BorrowingCaps(Policy):
    """Borrowing caps (2016 Interim Measures): a loan size cap per platform and fewer lenders.

    Loans are at most ``per_platform`` yuan; a borrower borrows from at most ``max_lenders``
    platforms at once.
    """

    name = "borrowing_caps"
    config_model = BorrowingCapsConfig

    def configure(self) -> None:
        """Cap loan sizes and lenders per borrower."""
        conditions = self.model.conditions
        self._before = (conditions.loan_size_cap, conditions.max_lenders)
        conditions.loan_size_cap = self.cfg.per_platform
        conditions.max_lenders = min(conditions.max_lenders, self.cfg.max_lenders)

    def finish(self) -> None:
        """Caps lifted (loans already sized stay as they are)."""
        conditions = self.model.conditions
        conditions.loan_size_cap, conditions.max_lenders = self._before
