"""The loan book: every loan of every platform in one set of arrays."""

from __future__ import annotations

import numpy as np


class LoanBook:
    """All loans in one set of arrays; rows are recycled when the book is compacted.

    A loan amortises in equal daily principal instalments (a continuous stand-in for the
    monthly instalments P2P loans used) and pays interest daily on the outstanding principal.

    Rows ``[0, n)`` are in use, in the order the loans were made; a closed loan's row stays (with
    ``active`` False) until the book is compacted, which only :meth:`add` does: when the arrays
    are full or a quarter of the rows are closed. The daily passes over the book
    (:meth:`repaying`) then read one contiguous block instead of gathering the live rows.
    """

    COMPACT_DEAD_SHARE = 0.25  # compact in place once this share of the used rows is closed

    def __init__(self, capacity: int = 1024) -> None:
        self.n = 0
        self._live: np.ndarray | None = None  # cached live rows; reset whenever they change
        self._alloc(capacity)

    def _alloc(self, capacity: int) -> None:
        self.platform = np.full(capacity, -1, dtype=np.int32)
        self.borrower = np.full(capacity, -1, dtype=np.int32)
        self.principal = np.zeros(capacity)
        self.rate = np.zeros(capacity)  # borrower rate, annual
        # The borrower's true default probability, copied when the loan is made so that the
        # daily risk pass reads it in row order instead of gathering it by borrower. It stays
        # equal to the borrower's: a borrower's PD is redrawn only after it defaults, which
        # closes all its live loans first.
        self.pd = np.zeros(capacity)
        self.instalment = np.zeros(capacity)  # principal repaid per day
        self.maturity = np.zeros(capacity, dtype=np.int32)
        self.fake = np.zeros(capacity, dtype=bool)
        self.active = np.zeros(capacity, dtype=bool)

    def _fields(self) -> tuple[str, ...]:
        return ("platform", "borrower", "principal", "rate", "pd", "instalment", "maturity",
                "fake", "active")

    def live(self) -> np.ndarray:
        """Indices of live loans (cached until a loan is added or closed; do not modify)."""
        if self._live is None:
            self._live = np.flatnonzero(self.active[: self.n])
        return self._live

    def repaying(self) -> np.ndarray:
        """Boolean mask over rows ``[0, n)``: live real loans (the ones borrowers repay).

        Closed rows hold no principal and fake loans are masked out, so a pass over the whole
        block with this mask sums exactly what a pass over the live real rows would.
        """
        return self.active[: self.n] & ~self.fake[: self.n]

    def close(self, rows: np.ndarray) -> None:
        """Mark loans as no longer live (repaid, defaulted, sold or written off)."""
        self.active[rows] = False
        self._live = None

    def add(self, platform, borrower, principal, rate, term, day, fake, pd=0.0) -> np.ndarray:
        """Append loans (arrays of equal length); returns their row indices.

        ``pd`` is each borrower's true default probability (zero for fake loans).

        May compact the book first, which renumbers the rows of older loans.
        """
        k = len(principal)
        if self.n + k > len(self.principal):
            self._compact(extra=k)
        elif self.n - len(self.live()) > self.COMPACT_DEAD_SHARE * self.n:
            self._compact(extra=0)
        rows = np.arange(self.n, self.n + k)
        self.platform[rows] = platform
        self.borrower[rows] = borrower
        self.principal[rows] = principal
        self.rate[rows] = rate
        self.pd[rows] = pd
        self.instalment[rows] = principal / term
        self.maturity[rows] = day + term
        self.fake[rows] = fake
        self.active[rows] = True
        self.n += k
        self._live = None
        return rows

    def _compact(self, extra: int) -> None:
        """Move the live rows, in order, to the front; grow the arrays if ``extra`` do not fit."""
        keep = self.live()
        needed = len(keep) + extra
        capacity = len(self.principal)
        if 2 * needed > capacity:  # keep at least half the rows free, as growth doubles
            while capacity < 2 * needed:
                capacity *= 2
            old = {f: getattr(self, f)[keep].copy() for f in self._fields()}
            self._alloc(capacity)
            for f, values in old.items():
                getattr(self, f)[: len(keep)] = values
        else:
            for f in self._fields():
                column = getattr(self, f)
                column[: len(keep)] = column[keep]
            self.active[len(keep): self.n] = False
        self.n = len(keep)
        self._live = None
