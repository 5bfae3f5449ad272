"""Numbers as text, and the scale of a column or an axis, keyed by the unit of an outcome.

Every number p2psim prints, writes into a report or puts on an axis goes through here, so a
share is shown as a percentage and money is scaled to thousand/million/billion yuan the same
way everywhere. Units are :class:`sim.vocabulary.Unit` (count, day, yuan, yuan/day, share, rate,
ratio); shares and rates are stored as fractions and shown in %.

Two styles:

* **full** (:func:`full`), for a run's summary table: every yuan with thousands separators,
  counts as integers, shares and rates to 0.01%. ``None`` (something that did not happen, such
  as the first failure of a run without failures) reads ``none``.
* **short** (:func:`short`, :func:`interval`), for comparisons: about three significant digits,
  money with its scale written out (``61.2 million yuan``), changes of shares in percentage
  points. Tables whose header carries the unit use :func:`scale`, :func:`scaled` and
  :func:`scaled_interval`. A missing value (NaN or ``None``) reads ``n/a``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from sim.vocabulary import Unit

MISSING = "n/a"

# Money scales, largest first: a value is shown in the largest that keeps it at or above 1.
MONEY_SCALES = ((1e9, "billion yuan"), (1e6, "million yuan"), (1e3, "thousand yuan"))


def _missing(x) -> bool:
    return x is None or not math.isfinite(x)


def _finite(values: Iterable) -> list[float]:
    return [float(v) for v in values if not _missing(v)]


def money_scale(values: Iterable[float]) -> tuple[float, str]:
    """Divisor and unit label that keep the largest absolute value between 1 and 1,000.

    Args:
        values: amounts in yuan (a list, an array or a Series); NaN values are ignored.

    Returns:
        (divisor, label), e.g. ``(1e6, "million yuan")``; ``(1.0, "yuan")`` for values below
        1,000 or no finite values at all.
    """
    top = max((abs(v) for v in _finite(values)), default=0.0)
    for divisor, unit in MONEY_SCALES:
        if top >= divisor:
            return divisor, unit
    return 1.0, "yuan"


def scale(values: Iterable[float], unit: Unit | str) -> tuple[float, str]:
    """Divisor and unit label for a column or an axis of values of one unit.

    Args:
        values: the values the column or axis shows (money picks its scale from them).
        unit: their unit.

    Returns:
        (divisor, label): money scaled by :func:`money_scale` (``million yuan``, ``million
        yuan/day``), shares ``(0.01, "%")``, rates ``(0.01, "% a year")``, ratios
        ``(1, "x")``, days ``(1, "day")``, counts ``(1, "")``.
    """
    if unit in (Unit.YUAN, Unit.YUAN_PER_DAY):
        divisor, label = money_scale(values)
        return divisor, label + ("/day" if unit == Unit.YUAN_PER_DAY else "")
    return {Unit.SHARE: (0.01, "%"), Unit.RATE: (0.01, "% a year"), Unit.RATIO: (1.0, "x"),
            Unit.DAY: (1.0, "day")}.get(unit, (1.0, ""))


def number(x: float | None, digits: int = 3) -> str:
    """A number with about ``digits`` significant digits and thousands separators.

    Args:
        x: the number.
        digits: significant digits; large numbers keep all their integer digits, small ones
            get at most four decimals.

    Returns:
        E.g. ``61.2``, ``0.0548``, ``1,234``; ``n/a`` for NaN or ``None``.
    """
    if _missing(x):
        return MISSING
    ax = abs(x)
    if ax >= 10 ** (digits - 1) or ax == 0:
        return f"{x:,.0f}"
    decimals = max(0, digits - 1 - int(math.floor(math.log10(ax))))
    return f"{x:,.{min(decimals, 4)}f}"


def with_sign(text: str) -> str:
    """A formatted number with a ``+`` in front unless it is negative, zero or missing.

    Args:
        text: a number as text (from :func:`number`).

    Returns:
        E.g. ``+3.60``; ``-4.90``, ``0`` and ``n/a`` stay as they are.
    """
    return text if text.startswith("-") or text in ("0", MISSING) else f"+{text}"


def short(x: float | None, unit: Unit | str, signed: bool = False) -> str:
    """A value with its unit, about three significant digits.

    Args:
        x: the value (a fraction for shares and rates).
        unit: its unit.
        signed: a change rather than a level: ``+`` for increases, and changes of shares and
            rates in percentage points.

    Returns:
        E.g. ``61.2 million yuan``, ``12.3%``, ``+1.5 pp``, ``1.3x``, ``9.0``; ``n/a`` for NaN
        or ``None``.
    """
    if _missing(x):
        return MISSING
    sign = "+" if signed and x > 0 else ""
    if unit in (Unit.YUAN, Unit.YUAN_PER_DAY):
        divisor, label = scale([x], unit)
        return f"{sign}{number(x / divisor)} {label}"
    if unit == Unit.SHARE:
        return f"{sign}{number(100 * x)}{' pp' if signed else '%'}"
    if unit == Unit.RATE:
        return f"{sign}{number(100 * x)}{' pp' if signed else '% a year'}"
    if unit == Unit.RATIO:
        return f"{sign}{number(x)}x"
    if unit == Unit.COUNT:
        return f"{sign}{x:,.1f}" if abs(x) < 1000 else f"{sign}{x:,.0f}"
    return f"{sign}{number(x)}"


def interval(low: float | None, high: float | None, unit: Unit | str) -> str:
    """A confidence interval of a change, signed, with one unit.

    Args:
        low: lower end.
        high: upper end.
        unit: the unit of the outcome that changed.

    Returns:
        E.g. ``-4.9 to +3.6 million yuan``, ``-1.2 to +0.4 pp``, ``-6.4 to +3.4``; ``n/a`` when
        either end is missing.
    """
    if _missing(low) or _missing(high):
        return MISSING
    if unit in (Unit.YUAN, Unit.YUAN_PER_DAY):
        divisor, label = scale([low, high], unit)
        return f"{with_sign(number(low / divisor))} to {with_sign(number(high / divisor))} {label}"
    if unit in (Unit.SHARE, Unit.RATE):
        return f"{with_sign(number(100 * low))} to {with_sign(number(100 * high))} pp"
    if unit == Unit.RATIO:
        return f"{with_sign(number(low))} to {with_sign(number(high))}x"
    if unit == Unit.COUNT and max(abs(low), abs(high)) < 1000:
        return f"{low:+.1f} to {high:+.1f}"
    return f"{with_sign(number(low))} to {with_sign(number(high))}"


def scaled(x: float | None, divisor: float, signed: bool = False) -> str:
    """A value in a column's scale (from :func:`scale`), without the unit the header carries.

    Args:
        x: the value.
        divisor: the column's divisor.
        signed: a change: ``+`` in front of an increase.

    Returns:
        E.g. ``61.2`` for 61.2 million yuan in a million-yuan column; ``n/a`` if missing.
    """
    if _missing(x):
        return MISSING
    return ("+" if signed and x > 0 else "") + number(x / divisor)


def scaled_interval(low: float | None, high: float | None, divisor: float) -> str:
    """A confidence interval in a column's scale, unsigned and without the unit.

    Args:
        low: lower end.
        high: upper end.
        divisor: the column's divisor (from :func:`scale`).

    Returns:
        E.g. ``-63.5 to -57.8``; ``n/a`` when either end is missing.
    """
    if _missing(low) or _missing(high):
        return MISSING
    return f"{number(low / divisor)} to {number(high / divisor)}"


def full(value, unit: Unit | str) -> str:
    """One summary value in full: ``1,234,567`` yuan, ``12.34%`` shares, ``8.14% a year``.

    Args:
        value: the value (a fraction for shares and rates); ``None`` means it did not happen.
        unit: its unit; money is shown in yuan without a unit, which :func:`full_unit` gives
            for the label.

    Returns:
        The text: counts and days as integers, money to the yuan, shares and rates to 0.01%,
        ratios to 0.01; ``none`` for ``None`` and ``n/a`` for NaN.
    """
    if value is None:
        return "none"
    x = float(value)
    if math.isnan(x):
        return MISSING
    if unit in (Unit.COUNT, Unit.DAY):
        return f"{int(x):,}"
    if unit == Unit.SHARE:
        return f"{100 * x:.2f}%"
    if unit == Unit.RATE:
        return f"{100 * x:.2f}% a year"
    if unit == Unit.RATIO:
        return f"{x:.2f}x"
    return f"{x:,.0f}"


def full_unit(unit: Unit | str) -> str:
    """The unit a label must name for :func:`full` values.

    Args:
        unit: the outcome's unit.

    Returns:
        ``yuan`` or ``yuan/day`` for money; ``""`` otherwise, since shares, rates and ratios
        carry their unit in the value (``%``, ``x``) and counts and days need none.
    """
    return str(unit) if unit in (Unit.YUAN, Unit.YUAN_PER_DAY) else ""


def heading(label: str, unit: str) -> str:
    """``label (unit)``, or just the label when the unit is empty or already written there.

    Args:
        label: an outcome label, e.g. ``credit supplied`` or ``first failure (day)``.
        unit: e.g. ``million yuan`` (from :func:`scale` or :func:`full_unit`).

    Returns:
        E.g. ``credit supplied (million yuan)``; ``first failure (day)`` stays as it is.
    """
    if not unit or label.endswith(f"({unit})"):
        return label
    return f"{label} ({unit})"
