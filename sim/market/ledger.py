"""Double-entry bookkeeping of every money flow, and the conservation check.

Every flow that changes a balance is booked here once, under a named category, by the same code
that changes the balance. :meth:`Ledger.check` then recomputes every stock from the raw agent
arrays and compares it with what the booked flows imply:

* cash: investors + platforms + protection fund + stolen (absconded or diverted) equals the
  initial cash plus net flows with the outside world (borrowers' business, loan buyers, savings,
  running costs, owners);
* each platform's cash, loan book and product liabilities equal their opening values plus the
  flows booked to that platform;
* the platform aggregates equal the sums over the underlying positions and loans (the investor
  side and the platform side of each claim agree);
* investors' cash plus claims plus losses equals their opening wealth plus savings, capitalised
  interest and protection payouts.

A mismatch raises :class:`AccountingError` naming the identity, the day and the gap in yuan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.market.state import sum_by

if TYPE_CHECKING:
    from sim.model import P2PModel

# Platform-level flow categories and the stock they move. A positive amount moves money in the
# direction the name says.
PLATFORM_FLOWS = (
    "capital_in",  # owner pays in registered capital: outside -> platform cash
    "deposits",  # investor cash -> platform cash; claims +
    "payouts",  # platform cash -> investor cash; claims -
    "interest_capitalised",  # accrued investor interest added to claims (platform expense)
    "loans_made",  # platform cash -> borrowers (outside); loans +
    "principal_repaid",  # borrowers -> platform cash; loans -
    "interest_received",  # borrowers -> platform cash (income)
    "default_principal",  # loans written down on borrower default
    "default_recovery",  # recovered part of defaulted loans: outside -> platform cash
    "fire_sold_principal",  # loans sold on the debt-transfer market; loans -
    "fire_sale_proceeds",  # buyers -> platform cash
    "collection_writeoff",  # uncollected principal of loans of a failed platform
    "operating_cost",  # platform cash -> outside
    "stolen",  # platform cash -> absconding owner
    "fake_loans_made",  # Ponzi: platform cash -> owner's pocket, booked as a fake loan
    "fake_writeoff",  # fake loans written off at failure
    "claims_written_off",  # investor claims extinguished at the end of resolution
    "equity_withdrawn",  # cash returned to the owner on orderly exit: platform cash -> outside
    "loans_sold_at_exit",  # remaining loans sold at exit; loans -
    "exit_sale_proceeds",  # buyers -> platform cash at exit
    "levies",  # platform cash -> protection fund
    "claims_guaranteed",  # claims paid off by a third-party guarantor: guarantor -> investors
    "claims_protected",  # claims paid off by the protection fund: fund -> investors
    "reserve_fees",  # borrowers' origination fees -> the platform's risk reserve (outside in)
    "reserve_cover",  # risk reserve -> platform cash, covering loan losses
    "reserve_released",  # what is left in the reserve -> platform cash at failure or exit
    "capital_ordered",  # owner pays in capital on a supervisor's order: outside -> platform cash
)


class AccountingError(AssertionError):
    """Money was created or destroyed without a booked flow."""


class Ledger:
    """Flow totals per platform and per sector since day 0, plus opening balances."""

    def __init__(self, platform_capacity: int) -> None:
        self.flows = {name: np.zeros(platform_capacity) for name in PLATFORM_FLOWS}
        self.savings = 0.0  # outside -> investor cash
        self.protection_payouts = 0.0  # fund -> investor cash (policies)
        self.protection_inflows = 0.0  # outside (public backstop) -> fund
        self.opening_investor_cash = 0.0
        self.opening_investor_claims = 0.0
        self.fund_cash = 0.0
        self.stolen = 0.0  # cash taken by absconding or diverting owners
        self.guarantor_cash = 0.0  # third-party guarantors (shared-guarantor channel)
        self.guarantor_capital_in = 0.0  # outside -> guarantors
        # Platforms' risk reserves (policy), ring-fenced at a bank: not the platform's cash.
        self.reserve_cash = np.zeros(platform_capacity)

    def book(self, category: str, platforms, amounts) -> None:
        """Book ``amounts`` under ``category`` for ``platforms`` (scalars or arrays)."""
        flow = self.flows[category]
        if np.ndim(platforms) == 0:
            flow[platforms] += amounts
        else:
            flow += np.bincount(platforms, weights=np.broadcast_to(amounts, np.shape(platforms)),
                                minlength=len(flow))

    def book_total(self, category: str, platform: int, amount: float) -> None:
        self.flows[category][platform] += amount

    def total(self, category: str) -> float:
        return float(self.flows[category].sum())

    def check(self, model: P2PModel, rtol: float = 1e-9) -> None:
        """Verify every identity; raise :class:`AccountingError` on the first that fails."""
        plats, inv, book = model.platforms, model.investors, model.loans
        n = plats.n
        f = {k: v[:n] for k, v in self.flows.items()}
        scale = max(1.0, self.opening_investor_cash + self.opening_investor_claims
                    + float(plats.capital[:n].sum()) + self.savings)
        tol = rtol * scale
        day = model.day

        def expect(name: str, actual, expected) -> None:
            gap = np.max(np.abs(np.asarray(actual) - np.asarray(expected)), initial=0.0)
            if gap > tol:
                raise AccountingError(f"day {day}: {name} off by {gap:,.6f} yuan (tolerance {tol:.3g})")

        cash_expected = (
            f["capital_in"] + f["deposits"] - f["payouts"] - f["loans_made"] + f["principal_repaid"]
            + f["interest_received"] + f["default_recovery"] + f["fire_sale_proceeds"]
            - f["operating_cost"] - f["stolen"] - f["fake_loans_made"] - f["equity_withdrawn"]
            + f["exit_sale_proceeds"] - f["levies"] + f["reserve_cover"] + f["reserve_released"]
            + f["capital_ordered"]
        )
        expect("platform cash", plats.cash[:n], cash_expected)
        loans_expected = (
            f["loans_made"] - f["principal_repaid"] - f["default_principal"]
            - f["fire_sold_principal"] - f["collection_writeoff"] - f["loans_sold_at_exit"]
        )
        expect("platform loan book", plats.loans[:n], loans_expected)
        expect("platform fake loans", plats.fake_loans[:n], f["fake_loans_made"] - f["fake_writeoff"])
        products_expected = (
            f["deposits"] - f["payouts"] + f["interest_capitalised"] - f["claims_written_off"]
            - f["claims_guaranteed"] - f["claims_protected"]
        )
        expect("platform product liabilities", plats.products[:n], products_expected)

        # Both sides of each claim agree.
        live = book.live()
        real = live[~book.fake[live]]
        fake = live[book.fake[live]]
        expect("loans vs loan book", sum_by(book.platform[real], book.principal[real], n),
               plats.loans[:n])
        expect("fake loans vs loan book", sum_by(book.platform[fake], book.principal[fake], n),
               plats.fake_loans[:n])
        held = inv.pos_platform >= 0
        claims = sum_by(inv.pos_platform[held], inv.pos_principal[held], n)
        expect("positions vs product liabilities", claims, plats.products[:n])
        expect("empty positions hold no money", inv.pos_principal[~held].sum(), 0.0)

        # Investors' wealth.
        investor_cash = float(inv.cash.sum())
        expected_investor_cash = (
            self.opening_investor_cash + self.savings - f["deposits"].sum() + f["payouts"].sum()
            + self.protection_payouts + f["claims_guaranteed"].sum()
        )
        expect("investor cash", investor_cash, expected_investor_cash)
        expect("investor losses", inv.loss.sum(), f["claims_written_off"].sum())

        # Cash in the whole system against the outside world.
        outside_net = (
            self.savings + f["capital_in"].sum() - f["loans_made"].sum()
            + f["principal_repaid"].sum() + f["interest_received"].sum()
            + f["default_recovery"].sum() + f["fire_sale_proceeds"].sum()
            + f["exit_sale_proceeds"].sum() - f["operating_cost"].sum()
            - f["equity_withdrawn"].sum() + self.protection_inflows + self.guarantor_capital_in
            + f["reserve_fees"].sum() + f["capital_ordered"].sum()
        )
        system_cash = (investor_cash + plats.cash[:n].sum() + self.fund_cash + self.stolen
                       + self.guarantor_cash + self.reserve_cash[:n].sum())
        expect("system cash", system_cash, self.opening_investor_cash + outside_net)
        expect("stolen", self.stolen, f["stolen"].sum() + f["fake_loans_made"].sum())
        expect("protection payouts vs claims paid off", self.protection_payouts,
               f["claims_protected"].sum())
        expect("guarantors", self.guarantor_cash,
               self.guarantor_capital_in - f["claims_guaranteed"].sum())
        expect("protection fund", self.fund_cash,
               f["levies"].sum() + self.protection_inflows - self.protection_payouts)
        expect("risk reserves", self.reserve_cash[:n],
               f["reserve_fees"] - f["reserve_cover"] - f["reserve_released"])
        if (np.any(plats.cash[:n] < -tol) or np.any(self.reserve_cash[:n] < -tol)
                or np.any(inv.cash < -tol)):
            raise AccountingError(f"day {day}: negative cash balance")
