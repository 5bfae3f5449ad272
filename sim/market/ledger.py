"""Double-entry bookkeeping of every money flow, and the conservation check.

Every flow that changes a balance is booked once, under a declared :class:`Flow`, by the same
code that changes the balance. A flow names where the money comes from and where it goes
(:data:`OUTSIDE`, :data:`INVESTOR_CASH`, :data:`PLATFORM_CASH`, or an :class:`Account`) and what
else it changes on a platform's balance sheet (claims, loans, fake loans).

* The engine moves money in the population arrays itself and books it with :meth:`Ledger.book`.
* Mechanisms (policies, guarantors) move money only through the ledger:
  :meth:`Ledger.transfer` moves it along a declared flow and books it in one call, and
  :meth:`Ledger.settle_claims` pays investors' claims from an account. Their accounts (a
  protection fund, risk reserves, guarantors) are held here, so nothing else can change them.

A mechanism declares the accounts and flows it needs on its class; the model gives the ledger
every declaration, so a new policy that moves money needs no change here.

:meth:`Ledger.check` recomputes every stock from the raw agent arrays and compares it with what
the booked flows imply, for each declared flow alike:

* each platform's cash, loan book, fake loans and product liabilities;
* the investor side and the platform side of each claim, and of the loan book;
* investors' cash and losses; each account;
* cash in the whole system (investors, platforms, accounts) against the outside world;
* no balance is negative, and none is NaN or infinite.

A mismatch raises :class:`AccountingError` naming the identity, the day and the gap in yuan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.market.arraytools import sum_by

if TYPE_CHECKING:
    from sim.market.state import InvestorArrays, PlatformArrays

OUTSIDE = "outside"  # borrowers, loan buyers, owners' own money, the state: not in the system
INVESTOR_CASH = "investor_cash"  # investors' uninvested money
PLATFORM_CASH = "platform_cash"  # each platform's cash (the pool)


@dataclass(frozen=True)
class Account:
    """Money held by a mechanism rather than by an agent (a fund, a reserve, owners' loot).

    Attributes:
        name: how flows refer to it.
        per_platform: one balance per platform (risk reserves) or one for the market.
        description: what the money is.
    """

    name: str
    per_platform: bool = False
    description: str = ""


@dataclass(frozen=True)
class Flow:
    """A category of money flow and what it moves.

    Attributes:
        name: the category, as booked.
        source: where the money comes from (a book name, an account, or ``None`` for a flow
            that moves no cash, e.g. a write-off).
        target: where it goes.
        claims: +1 if it raises the platform's product liabilities (investor claims), -1 if it
            lowers them, 0 if neither.
        loans: the same for the platform's real loan book.
        fake_loans: the same for a Ponzi owner's fake loans.
        per_platform: booked per platform (most flows) or once for the market (savings).
        description: what the flow is.
    """

    name: str
    source: str | None
    target: str | None
    claims: int = 0
    loans: int = 0
    fake_loans: int = 0
    per_platform: bool = True
    description: str = ""


OWNERS = Account("owners", description="cash taken by absconding or diverting owners")

CORE_FLOWS: tuple[Flow, ...] = (
    Flow("capital_in", OUTSIDE, PLATFORM_CASH, description="owner pays in registered capital"),
    Flow("deposits", INVESTOR_CASH, PLATFORM_CASH, claims=+1),
    Flow("payouts", PLATFORM_CASH, INVESTOR_CASH, claims=-1,
         description="redemptions and estate payouts"),
    Flow("interest_capitalised", None, None, claims=+1,
         description="accrued investor interest added to claims (the platform's expense)"),
    Flow("loans_made", PLATFORM_CASH, OUTSIDE, loans=+1, description="cash lent to borrowers"),
    Flow("principal_repaid", OUTSIDE, PLATFORM_CASH, loans=-1),
    Flow("interest_received", OUTSIDE, PLATFORM_CASH, description="borrowers' interest"),
    Flow("default_principal", None, None, loans=-1, description="loans written down on default"),
    Flow("default_recovery", OUTSIDE, PLATFORM_CASH, description="recovered part of defaults"),
    Flow("fire_sold_principal", None, None, loans=-1,
         description="loans sold on the debt-transfer market"),
    Flow("fire_sale_proceeds", OUTSIDE, PLATFORM_CASH, description="what the buyers paid"),
    Flow("collection_writeoff", None, None, loans=-1,
         description="uncollected principal of a failed platform's loans"),
    Flow("operating_cost", PLATFORM_CASH, OUTSIDE),
    Flow("stolen", PLATFORM_CASH, OWNERS.name, description="an absconding owner takes the cash"),
    Flow("fake_loans_made", PLATFORM_CASH, OWNERS.name, fake_loans=+1,
         description="a Ponzi owner moves cash out, booked as a fake loan"),
    Flow("fake_writeoff", None, None, fake_loans=-1, description="fake loans written off"),
    Flow("claims_written_off", None, None, claims=-1,
         description="investor claims extinguished at the end of resolution (investor loss)"),
    Flow("equity_withdrawn", PLATFORM_CASH, OUTSIDE,
         description="cash returned to the owner on orderly exit"),
    Flow("loans_sold_at_exit", None, None, loans=-1),
    Flow("exit_sale_proceeds", OUTSIDE, PLATFORM_CASH),
    Flow("savings", OUTSIDE, INVESTOR_CASH, per_platform=False,
         description="investors' new savings"),
)
CORE_ACCOUNTS: tuple[Account, ...] = (OWNERS,)


class AccountingError(AssertionError):
    """Money was created or destroyed without a booked flow."""


class Ledger:
    """Flow totals per platform since day 0, the mechanisms' accounts, and opening balances.

    Args:
        platforms: the platform arrays (cash and balance sheets move in :meth:`transfer`).
        investors: the investor arrays (claims are paid in :meth:`settle_claims`).
        flows: every flow that may be booked (the core ones are added).
        accounts: every account flows may use (the core ones are added).
    """

    def __init__(self, platforms: PlatformArrays, investors: InvestorArrays,
                 flows: Iterable[Flow] = (), accounts: Iterable[Account] = ()) -> None:
        self.platforms = platforms
        self.investors = investors
        capacity = platforms.capacity
        self.definitions: dict[str, Flow] = {}
        self.accounts: dict[str, Account] = {}
        for account in (*CORE_ACCOUNTS, *accounts):
            self.accounts.setdefault(account.name, account)
        for flow in (*CORE_FLOWS, *flows):
            known = self.definitions.setdefault(flow.name, flow)
            if known != flow:
                raise ValueError(f"flow {flow.name!r} is declared twice, differently")
            for end in (flow.source, flow.target):
                if end not in (None, OUTSIDE, INVESTOR_CASH, PLATFORM_CASH, *self.accounts):
                    raise ValueError(f"flow {flow.name!r} moves money to or from {end!r}, "
                                     "which is not a declared account")
        self.flows = {f.name: np.zeros(capacity) for f in self.definitions.values()
                      if f.per_platform}
        self.market_flows = {f.name: 0.0 for f in self.definitions.values()
                             if not f.per_platform}
        self.balances: dict[str, float | np.ndarray] = {
            a.name: np.zeros(capacity) if a.per_platform else 0.0 for a in self.accounts.values()}
        self.opening_investor_cash = 0.0

    # ------------------------------------------------------------------ booking
    def book(self, category: str, platforms, amounts) -> None:
        """Book ``amounts`` under ``category`` for ``platforms`` (scalars or arrays).

        For engine code that has moved the money in the population arrays itself.
        """
        flow = self.flows[category]
        if np.ndim(platforms) == 0:
            flow[platforms] += amounts
        else:
            flow += np.bincount(platforms, weights=np.broadcast_to(amounts, np.shape(platforms)),
                                minlength=len(flow))

    def book_total(self, category: str, platform: int, amount: float) -> None:
        """Book one ``amount`` under ``category`` for one ``platform``."""
        self.flows[category][platform] += amount

    def book_market(self, category: str, amount: float) -> None:
        """Book a flow kept once for the market (not per platform), e.g. savings."""
        self.market_flows[category] += amount

    def transfer(self, category: str, amounts, platforms=None) -> None:
        """Move money along flow ``category`` and book it, in one call.

        Platform cash, the platform's claims, loans and fake loans, and accounts are changed as
        the flow declares; investors' cash is changed only by :meth:`settle_claims`.

        Args:
            category: a declared flow.
            amounts: yuan, one per platform in ``platforms`` (or a scalar with one platform).
            platforms: platform indices, or one index; ``None`` means platforms ``0 .. len - 1``
                (a whole-market array) for a per-platform flow, and nothing for a market flow.
        """
        flow = self.definitions[category]
        if not flow.per_platform:
            total = float(amounts)
            for end, sign in ((flow.source, -1.0), (flow.target, 1.0)):
                if end in self.balances:
                    self.balances[end] += sign * total
            self.market_flows[category] += total
            return
        plats = self.platforms
        if platforms is None:
            platforms = slice(0, len(amounts))
        scalar = np.ndim(amounts) == 0 and np.ndim(platforms) == 0
        for end, sign in ((flow.source, -1.0), (flow.target, 1.0)):
            if end == PLATFORM_CASH:
                plats.cash[platforms] += sign * amounts
            elif end in self.balances:
                if self.accounts[end].per_platform:
                    self.balances[end][platforms] += sign * amounts
                else:
                    self.balances[end] += sign * (float(amounts) if scalar
                                                  else float(np.sum(amounts)))
            elif end == INVESTOR_CASH:
                raise ValueError(f"flow {category!r} pays investors: use settle_claims")
        for column, effect in ((plats.products, flow.claims), (plats.loans, flow.loans),
                               (plats.fake_loans, flow.fake_loans)):
            if effect:
                column[platforms] += effect * amounts
        if isinstance(platforms, slice):
            self.flows[category][platforms] += amounts
        elif scalar:
            self.book_total(category, platforms, amounts)
        else:
            self.book(category, platforms, amounts)

    def settle_claims(self, category: str, platform: int, slots: np.ndarray,
                      amounts: np.ndarray) -> float:
        """Pay ``amounts`` of the claims ``slots`` at ``platform`` from the flow's source account.

        The investors' claims fall and their cash rises by the same amounts; the platform's
        product liabilities fall by the total (the payer takes over that part of the claim).

        Returns:
            The total paid, yuan.
        """
        inv = self.investors
        flow = self.definitions[category]
        paid = float(amounts.sum())
        inv.pos_principal[slots] -= amounts
        np.add.at(inv.cash, slots // inv.slots, amounts)
        self.platforms.products[platform] -= paid
        self.balances[flow.source] -= paid
        self.flows[category][platform] += paid
        return paid

    # ------------------------------------------------------------------ reading
    def total(self, category: str) -> float:
        """Everything booked under ``category`` since day 0, yuan."""
        if category in self.market_flows:
            return float(self.market_flows[category])
        return float(self.flows[category].sum())

    def balance(self, account: str):
        """An account's balance: yuan, or yuan per platform for a per-platform account."""
        return self.balances[account]

    @property
    def stolen(self) -> float:
        """Cash taken by absconding owners and diverted into fake loans, yuan."""
        return self.balances[OWNERS.name]

    @property
    def savings(self) -> float:
        """Investors' new savings since day 0, yuan."""
        return self.market_flows["savings"]

    # ------------------------------------------------------------------ the check
    def _moved(self, end: str, n: int) -> np.ndarray:
        """Net per-platform flow into ``end`` (a per-platform book) over platforms ``0 .. n``."""
        net = np.zeros(n)
        for flow in self.definitions.values():
            if not flow.per_platform:
                continue
            if flow.target == end:
                net += self.flows[flow.name][:n]
            if flow.source == end:
                net -= self.flows[flow.name][:n]
        return net

    def _moved_total(self, end: str) -> float:
        """Net flow into ``end`` over the whole market, yuan."""
        net = 0.0
        for flow in self.definitions.values():
            amount = self.total(flow.name)
            if flow.target == end:
                net += amount
            if flow.source == end:
                net -= amount
        return net

    def _effect(self, attribute: str, n: int) -> np.ndarray:
        net = np.zeros(n)
        for flow in self.definitions.values():
            effect = getattr(flow, attribute)
            if effect:
                net += effect * self.flows[flow.name][:n]
        return net

    def check(self, model, rtol: float = 1e-9) -> None:
        """Verify every identity; raise :class:`AccountingError` on the first that fails.

        Args:
            model: the model whose arrays are checked (it gives the day and the loan book).
            rtol: tolerance relative to the money in the system.
        """
        plats, inv, book = self.platforms, self.investors, model.loans
        n = plats.n
        day = model.day
        self._check_finite(model, n, day)
        scale = max(1.0, self.opening_investor_cash + float(plats.capital[:n].sum())
                    + self.savings)
        tol = rtol * scale

        def expect(name: str, actual, expected) -> None:
            gap = np.max(np.abs(np.asarray(actual) - np.asarray(expected)), initial=0.0)
            if not gap <= tol:  # also fails on NaN
                raise AccountingError(f"day {day}: {name} off by {gap:,.6f} yuan "
                                      f"(tolerance {tol:.3g})")

        expect("platform cash", plats.cash[:n], self._moved(PLATFORM_CASH, n))
        expect("platform loan book", plats.loans[:n], self._effect("loans", n))
        expect("platform fake loans", plats.fake_loans[:n], self._effect("fake_loans", n))
        expect("platform product liabilities", plats.products[:n], self._effect("claims", n))

        # Both sides of each claim and loan agree.
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

        investor_cash = float(inv.cash.sum())
        expect("investor cash", investor_cash,
               self.opening_investor_cash + self._moved_total(INVESTOR_CASH))
        expect("investor losses", inv.loss.sum(), self.total("claims_written_off"))
        for name, account in self.accounts.items():
            if account.per_platform:
                expect(f"account {name}", self.balances[name][:n], self._moved(name, n))
            else:
                expect(f"account {name}", self.balances[name], self._moved_total(name))

        # Cash in the whole system against the outside world.
        system_cash = investor_cash + float(plats.cash[:n].sum()) + sum(
            float(np.sum(self.balances[a][:n] if self.accounts[a].per_platform
                         else self.balances[a])) for a in self.accounts)
        expect("system cash", system_cash,
               self.opening_investor_cash - self._moved_total(OUTSIDE))
        per_platform = [self.balances[a][:n] for a, acc in self.accounts.items()
                        if acc.per_platform]
        if (np.any(plats.cash[:n] < -tol) or any(np.any(b < -tol) for b in per_platform)
                or np.any(inv.cash < -tol)):
            raise AccountingError(f"day {day}: negative cash balance")

    def _check_finite(self, model, n: int, day: int) -> None:
        """Every stock and flow is a finite number (a NaN compares false with everything)."""
        plats, inv = self.platforms, self.investors
        stocks = {"platform cash": plats.cash[:n], "platform loans": plats.loans[:n],
                  "platform claims": plats.products[:n], "fake loans": plats.fake_loans[:n],
                  "investor cash": inv.cash, "position principal": inv.pos_principal,
                  "investor losses": inv.loss, "loan book": model.loans.principal[: model.loans.n]}
        stocks.update({f"flow {k}": v[:n] for k, v in self.flows.items()})
        stocks.update({f"account {k}": v for k, v in self.balances.items()})
        stocks.update({f"flow {k}": v for k, v in self.market_flows.items()})
        for name, values in stocks.items():
            if not np.all(np.isfinite(values)):
                raise AccountingError(f"day {day}: {name} holds a value that is not a finite "
                                      "number (NaN or infinite)")
