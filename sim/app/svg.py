"""A small SVG writer for the app's live pictures.

The page redraws its pictures while the model plays, several times a second; SVG text made
directly costs a few milliseconds where a matplotlib figure costs a few hundred, and the browser
scales it to the width of its panel. Every text and attribute is escaped, so names from an
uploaded scenario cannot inject markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape, quoteattr

import numpy as np
from matplotlib.ticker import MaxNLocator

FONT = "font-family:Roboto,Helvetica,Arial,sans-serif"


def _attrs(attrs: dict) -> str:
    """``key="value"`` pairs; underscores in keys become dashes, ``None`` values are left out."""
    return "".join(f" {k.rstrip('_').replace('_', '-')}={quoteattr(str(v))}"
                   for k, v in attrs.items() if v is not None)


def _num(x: float) -> str:
    return f"{x:.1f}"


class Svg:
    """An SVG picture built element by element.

    Args:
        width: width of the view box (user units, about pixels).
        height: height of the view box.
        label: the picture's accessible name (``aria-label``).
    """

    def __init__(self, width: float, height: float, label: str = "") -> None:
        self.width, self.height, self.label = width, height, label
        self.defs: list[str] = []
        self.parts: list[str] = []

    def add(self, tag: str, text: str | None = None, title: str | None = None, **attrs) -> None:
        """One element; ``text`` is its (escaped) content, ``title`` a hover tooltip."""
        inner = "" if text is None else escape(text)
        if title:
            inner += f"<title>{escape(title)}</title>"
        self.parts.append(f"<{tag}{_attrs(attrs)}>{inner}</{tag}>" if inner
                          else f"<{tag}{_attrs(attrs)}/>")

    def line(self, x1: float, y1: float, x2: float, y2: float, **attrs) -> None:
        """A straight line."""
        self.add("line", x1=_num(x1), y1=_num(y1), x2=_num(x2), y2=_num(y2), **attrs)

    def polyline(self, xs: Sequence[float], ys: Sequence[float], **attrs) -> None:
        """A line through the points (non-finite points are left out).

        Points inside a flat stretch are dropped (the line looks the same), which keeps long
        runs of unchanged counts or zeros cheap to send and draw.
        """
        x = np.asarray(xs, dtype=float)
        y = np.asarray(ys, dtype=float)
        ok = np.isfinite(x) & np.isfinite(y)
        x, y = np.round(x[ok], 1), np.round(y[ok], 1)
        if len(x) > 2:
            flat = np.zeros(len(y), dtype=bool)
            flat[1:-1] = (y[1:-1] == y[:-2]) & (y[1:-1] == y[2:])
            x, y = x[~flat], y[~flat]
        if len(x):
            points = " ".join([f"{a:.1f},{b:.1f}" for a, b in zip(x.tolist(), y.tolist(),
                                                                  strict=True)])
            self.add("polyline", points=points, fill="none", **attrs)

    def text(self, x: float, y: float, text: str, size: float = 11, **attrs) -> None:
        """A text whose baseline starts (or, with ``text_anchor``, sits) at (x, y)."""
        self.add("text", text, x=_num(x), y=_num(y), font_size=size, style=FONT, **attrs)

    def arrow_marker(self, name: str, colour: str) -> str:
        """Define an arrowhead in ``colour`` once; returns its ``url(#...)`` reference."""
        ident = f"arrow-{name}"
        if not any(f'id="{ident}"' in d for d in self.defs):
            self.defs.append(f'<marker id="{ident}" viewBox="0 0 10 10" refX="9" refY="5" '
                             f'markerUnits="userSpaceOnUse" markerWidth="11" markerHeight="11" '
                             f'orient="auto">'
                             f'<path d="M0,0 L10,5 L0,10 z" fill={quoteattr(colour)}/></marker>')
        return f"url(#{ident})"

    def render(self) -> str:
        """The SVG document, scaled to the width of its container."""
        defs = f"<defs>{''.join(self.defs)}</defs>" if self.defs else ""
        return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.width:.0f} '
                f'{self.height:.0f}" width="100%" role="img" aria-label={quoteattr(self.label)}'
                f' style="display:block">{defs}{"".join(self.parts)}</svg>')


def nice_ticks(low: float, high: float, count: int = 4) -> np.ndarray:
    """Round ticks from at or below ``low`` to at or above ``high`` (MaxNLocator, no figure)."""
    if not np.isfinite(low) or not np.isfinite(high):
        low, high = 0.0, 1.0
    if high <= low:
        high = low + 1.0
    ticks = MaxNLocator(count).tick_values(low, high)
    first = np.searchsorted(ticks, low, side="right") - 1
    last = np.searchsorted(ticks, high, side="left")
    return ticks[max(first, 0): last + 1]


def tick_text(value: float) -> str:
    """A tick label: no trailing zeros, at most three significant digits."""
    return f"{value:.3g}"


class Panel:
    """One chart: a plot area in an :class:`Svg`, with axes, ticks, shaded spans and lines.

    Args:
        svg: the picture it draws in.
        box: (left, top, width, height) of the plot area.
        x_range: (low, high) of x.
        y_range: (low, high) of y; widened to round ticks.
        title: the chart's title, drawn above the plot area.
        unit: the unit of y, drawn under the title.
    """

    def __init__(self, svg: Svg, box: tuple[float, float, float, float],
                 x_range: tuple[float, float], y_range: tuple[float, float],
                 title: str, unit: str = "") -> None:
        self.svg = svg
        self.left, self.top, self.w, self.h = box
        self.x0, self.x1 = x_range
        ticks = nice_ticks(*y_range)
        self.y_ticks = ticks
        self.y0, self.y1 = float(ticks[0]), float(ticks[-1])
        if self.y1 <= self.y0:
            self.y1 = self.y0 + 1.0
        svg.text(self.left - 36, self.top - 38, title, size=13, font_weight="500")
        if unit:
            svg.text(self.left - 36, self.top - 24, unit, size=10.5, fill="#666666")
        svg.add("rect", x=_num(self.left), y=_num(self.top), width=_num(self.w),
                height=_num(self.h), fill="#ffffff", stroke="#c8c8c8")

    def x(self, values) -> np.ndarray:
        """Plot-area x of data x."""
        span = max(self.x1 - self.x0, 1e-12)
        return self.left + (np.asarray(values, dtype=float) - self.x0) / span * self.w

    def y(self, values) -> np.ndarray:
        """Plot-area y of data y (up is larger)."""
        span = max(self.y1 - self.y0, 1e-12)
        return self.top + self.h - (np.asarray(values, dtype=float) - self.y0) / span * self.h

    def axes(self, x_ticks: Iterable[float], x_label: str = "") -> None:
        """Grid lines and tick labels on both axes."""
        for value in self.y_ticks:
            y = float(self.y(value))
            self.svg.line(self.left, y, self.left + self.w, y, stroke="#ececec")
            self.svg.text(self.left - 4, y + 4, tick_text(value), size=10.5, text_anchor="end",
                          fill="#555555")
        for value in x_ticks:
            x = float(self.x(value))
            self.svg.line(x, self.top, x, self.top + self.h, stroke="#f2f2f2")
            self.svg.text(x, self.top + self.h + 13, tick_text(value), size=10.5,
                          text_anchor="middle", fill="#555555")
        if x_label:
            self.svg.text(self.left + self.w, self.top + self.h + 26, x_label, size=10.5,
                          text_anchor="end", fill="#555555")

    def span(self, start: float, end: float, **attrs) -> None:
        """A shaded band from x = start to end (clipped to the plot area)."""
        a, b = (float(v) for v in self.x([max(start, self.x0), min(end, self.x1)]))
        if b > a:
            self.svg.add("rect", x=_num(a), y=_num(self.top), width=_num(b - a),
                         height=_num(self.h), **attrs)

    def series(self, xs, ys, colour: str, dashed: bool = False, width: float = 1.8,
               **attrs) -> None:
        """A line of the data."""
        self.svg.polyline(self.x(xs), self.y(np.clip(np.asarray(ys, dtype=float), self.y0,
                                                     self.y1)),
                          stroke=colour, stroke_width=width,
                          stroke_dasharray="5,3" if dashed else None,
                          stroke_linejoin="round", **attrs)

    def legend(self, entries: Sequence[tuple[str, str, bool]]) -> None:
        """(label, colour, dashed) entries in a row between the title and the plot area."""
        x = self.left - 34
        for label, colour, dashed in entries:
            y = self.top - 8
            self.svg.line(x, y - 3.5, x + 14, y - 3.5, stroke=colour, stroke_width=2,
                          stroke_dasharray="4,2" if dashed else None)
            self.svg.text(x + 17, y, label, size=10.5, fill="#333333")
            x += 24 + 5.8 * len(label)
