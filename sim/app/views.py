"""The pictures of the app: the market's network and the live charts, as SVG text.

Each function takes a :class:`~sim.app.model.ClassroomModel` and returns an SVG document
(:mod:`sim.app.svg`) that the page redraws while the model plays. Colours are those of the run
charts (:mod:`sim.outputs.plots`): statuses green / amber / red / purple / grey, contagion
channels as in ``cascade.png``, deposits teal, payouts red. Side by side, the network shows both
runs and the charts draw the run with the policy dashed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.app.network import INNER_RING, MarketGraph
from sim.app.svg import Panel, Svg
from sim.outputs.formatting import money_scale, short
from sim.outputs.plots import (
    BACKLOG_COLOUR,
    CHANNEL_COLOURS,
    DEPOSIT_COLOUR,
    PAYOUT_COLOUR,
    STATUS_COLOURS,
)
from sim.vocabulary import Status, Unit

if TYPE_CHECKING:
    from sim.app.model import ClassroomModel

SHARED_COLOUR = "#5b7083"
NEWS_COLOUR = CHANNEL_COLOURS["information"]
RATE_COLOUR, OUTSIDE_COLOUR = "#1f4e9c", "#7f7f7f"
LOSS_COLOUR, FEAR_COLOUR = "#6a4c93", "#b3261e"
SHOCK_FILL = "#9e9e9e"
ROLLING_DAYS = 7
# The page draws the pictures every this many days while playing: at classroom size that plays
# well over 10 days a second (tests/test_app.py measures it); SolaraViz's render interval.
RENDER_EVERY_DAYS = 2

# Network panel geometry (user units, about pixels).
PANEL_W, GRAPH_H, LEGEND_H = 520.0, 470.0, 64.0
RING = 178.0  # radius of the day-0 ring
NODE_MIN, NODE_MAX = 4.0, 24.0  # node radius of the smallest and largest platform


# ----------------------------------------------------------------------------- the network
def _node_radius(claims: np.ndarray) -> np.ndarray:
    """Radius by claims (area proportional to claims)."""
    top = max(float(claims.max(initial=0.0)), 1.0)
    return NODE_MIN + (NODE_MAX - NODE_MIN) * np.sqrt(np.maximum(claims, 0.0) / top)


def _curve(a: np.ndarray, b: np.ndarray, ra: float, rb: float) -> str:
    """A gently bent path from the rim of a circle at ``a`` to the rim of one at ``b``."""
    mid, gap = (a + b) / 2, b - a
    dist = max(float(np.hypot(*gap)), 1e-9)
    control = mid + 0.22 * np.array([-gap[1], gap[0]])
    start = a + ra * (control - a) / max(float(np.hypot(*(control - a))), 1e-9)
    end = b + (rb + 1.5) * (control - b) / max(float(np.hypot(*(control - b))), 1e-9)
    if dist < 1e-6:
        return ""
    return (f"M{start[0]:.1f},{start[1]:.1f} Q{control[0]:.1f},{control[1]:.1f} "
            f"{end[0]:.1f},{end[1]:.1f}")


def _draw_network(svg: Svg, graph: MarketGraph, left: float, title: str, channels) -> None:
    """One run's network in the panel starting at x = ``left``."""
    centre = np.array([left + PANEL_W / 2, 34 + GRAPH_H / 2 - 10])
    xy = centre + RING * graph.xy * np.array([1.0, -1.0])
    radius = _node_radius(graph.claims)
    svg.text(left + PANEL_W / 2, 20, title, size=16, text_anchor="middle", font_weight="500")
    shared = graph.strongest_shared()
    if shared:
        top = max(k for _, _, k in shared)
        faint = 1.0 if channels.shared_investors.enabled else 0.35
        for i, j, k in shared:
            w = k / top
            svg.line(*xy[i], *xy[j], stroke=SHARED_COLOUR, stroke_width=f"{0.6 + 5.0 * w:.1f}",
                     stroke_opacity=f"{faint * (0.12 + 0.5 * w):.2f}", stroke_linecap="round",
                     class_="link-shared")
    if channels.information.enabled:
        for i, j, s in graph.similar_pairs():
            svg.line(*xy[i], *xy[j], stroke=NEWS_COLOUR, stroke_width="1.2",
                     stroke_dasharray="2,3", stroke_opacity=f"{0.3 + 0.6 * s:.2f}",
                     class_="link-news")
    for parent, child, channel in graph.arrows:
        colour = CHANNEL_COLOURS.get(channel, "#000000")
        path = _curve(xy[parent], xy[child], radius[parent], radius[child])
        if path:
            svg.add("path", title=f"{graph.names[child]} failed after {graph.names[parent]} "
                                  f"(via {channel})",
                    d=path, fill="none", stroke=colour, stroke_width="2.6",
                    marker_end=svg.arrow_marker(channel, colour), class_="cascade-arrow")
    for i, name in enumerate(graph.names):
        status = Status(int(graph.status[i])).name.lower()
        failed = graph.failed_day[i]
        tip = (f"{name}: {status}, claims {short(float(graph.claims[i]), Unit.YUAN)}"
               + (f", failed on day {failed}" if failed >= 0 else ""))
        svg.add("circle", title=tip, cx=f"{xy[i][0]:.1f}", cy=f"{xy[i][1]:.1f}",
                r=f"{radius[i]:.1f}", fill=STATUS_COLOURS[status], stroke="#222222",
                stroke_width="0.8", class_=f"node status-{status}", data_name=name)
        outward = graph.xy[i] * np.array([1.0, -1.0])
        norm = max(float(np.hypot(*outward)), 1e-9)
        away = outward / norm * (radius[i] + (9 if norm > INNER_RING * 1.2 else 7))
        anchor = "middle" if abs(away[0]) < 0.35 * np.hypot(*away) else (
            "start" if away[0] > 0 else "end")
        x, y = xy[i] + away
        svg.text(x, y + 4, name, size=12, text_anchor=anchor)
        if failed >= 0:
            svg.text(x, y + 16, f"day {failed}", size=11, text_anchor=anchor, fill="#9a1f2e")


def _network_legend(svg: Svg, top: float, channels, arrows: set[str]) -> None:
    x, y = 14.0, top + 16
    for s in Status:
        svg.add("circle", cx=f"{x + 5:.1f}", cy=f"{y - 4:.1f}", r="5.5",
                fill=STATUS_COLOURS[s.name.lower()], stroke="#222222", stroke_width="0.8")
        svg.text(x + 14, y, s.name.lower(), size=10.5)
        x += 24 + 6.2 * len(s.name)
    x, y = 14.0, top + 38
    off = "" if channels.shared_investors.enabled else " (channel off)"
    items = [(SHARED_COLOUR, "4", None, f"shared investors (thicker: more){off}")]
    if channels.information.enabled:
        items.append((NEWS_COLOUR, "1.5", "2,3", "similar promised rates (failure news)"))
    for colour, width, dash, label in items:
        svg.line(x, y - 4, x + 22, y - 4, stroke=colour, stroke_width=width,
                 stroke_dasharray=dash, stroke_opacity="0.8")
        svg.text(x + 27, y, label, size=10.5)
        x += 40 + 5.6 * len(label)
    x, y = 14.0, top + 58
    if arrows:
        for channel in sorted(arrows):
            colour = CHANNEL_COLOURS.get(channel, "#000000")
            svg.line(x, y - 4, x + 22, y - 4, stroke=colour, stroke_width="2.6",
                     marker_end=svg.arrow_marker(channel, colour))
            label = f"failure followed another, via {channel.replace('_', ' ')}"
            svg.text(x + 27, y, label, size=10.5)
            x += 40 + 5.6 * len(label)
    else:
        svg.text(x, y, "Node size: money investors have in the platform. Arrows appear when "
                       "one failure follows another.", size=10.5, fill="#555555")


def network_svg(model: ClassroomModel) -> str:
    """Platforms as nodes (colour: status, size: claims), contagion links and cascade arrows.

    Args:
        model: the app's model; side by side, both runs are drawn.

    Returns:
        The SVG document.
    """
    graphs = model.graphs()
    svg = Svg(PANEL_W * len(graphs), GRAPH_H + LEGEND_H,
              label=f"network of platforms on day {model.day}")
    arrows = set()
    for k, (label, graph) in enumerate(graphs):
        title = f"Day {model.day}" + (f": {label}" if label else "")
        _draw_network(svg, graph, k * PANEL_W, title, model.config.channels)
        arrows |= {channel for _, _, channel in graph.arrows}
    _network_legend(svg, GRAPH_H, model.config.channels, arrows)
    return svg.render()


# ----------------------------------------------------------------------------- the charts
def _x_ticks(days: int) -> np.ndarray:
    step = max(30, int(np.ceil(days / 6 / 30)) * 30) if days > 60 else 10
    return np.arange(0, days + 1, step)


def _finite_max(*arrays) -> float:
    values = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays] or [[0.0]])
    values = values[np.isfinite(values)]
    return float(values.max()) if values.size else 0.0


def charts_svg(model: ClassroomModel) -> str:
    """Live charts: deposits and payouts, backlog, platforms by status, rates, losses, fear.

    Args:
        model: the app's model; side by side, the run with the policy is dashed.

    Returns:
        The SVG document (3 x 2 charts, x = day over the whole run).
    """
    runs = [(label, i > 0, run.timeseries()) for i, (label, run) in enumerate(model.runs())]
    days = model.days
    svg = Svg(652, 650, label=f"charts of the run up to day {model.day}")
    both = pd.concat([ts for _, _, ts in runs])
    flows = both[both["day"] >= 1]
    money, money_unit = money_scale(pd.concat([flows["deposits"], flows["payouts"]]))
    stock, stock_unit = money_scale(pd.concat([both["unpaid_backlog"],
                                               both["investor_losses_expected"]]))
    statuses = [s for s in Status if both[f"platforms_{s.name.lower()}"].any()]
    rolled = {id(ts): ts[ts["day"] >= 1][["day", "deposits", "payouts"]].set_index("day")
              .rolling(ROLLING_DAYS, min_periods=1).mean().reset_index() for _, _, ts in runs}

    def box(col: int, row: int) -> tuple[float, float, float, float]:
        return (46 + col * 318, 62 + row * 215, 262, 124)

    x_range = (0, days)
    panels = {
        "flows": Panel(svg, box(0, 0), x_range,
                       (0, _finite_max(*[rolled[id(ts)][["deposits", "payouts"]] / money
                                         for _, _, ts in runs])),
                       "Deposits and payouts", f"{money_unit} a day, {ROLLING_DAYS}-day mean"),
        "backlog": Panel(svg, box(1, 0), x_range,
                         (0, _finite_max(both["unpaid_backlog"] / stock)),
                         "Unpaid backlog", stock_unit),
        "status": Panel(svg, box(0, 1), x_range,
                        (0, _finite_max(*[both[f"platforms_{s.name.lower()}"]
                                          for s in statuses])),
                        "Platforms by status", "count"),
        "rates": Panel(svg, box(1, 1), x_range,
                       (min(100 * both["outside_rate"].min(), 100 * np.nanmin(
                           both["mean_promised_rate"].to_numpy(dtype=float), initial=np.inf))
                        - 0.5,
                        max(_finite_max(100 * both["mean_promised_rate"]),
                            _finite_max(100 * both["outside_rate"])) + 0.5),
                       "Promised and outside rate", "% a year"),
        "losses": Panel(svg, box(0, 2), x_range,
                        (0, _finite_max(both["investor_losses_expected"] / stock)),
                        "Investor losses", f"{stock_unit}, written off and expected"),
        "fear": Panel(svg, box(1, 2), x_range, (0, _finite_max(both["mean_fear"])),
                      "Investors' fear", "mean perceived failure probability a year"),
    }
    shocks = [(s.cfg.start, s.cfg.start + s.cfg.duration) for s in model.market.shocks.shocks]
    for key, panel in panels.items():
        for start, end in shocks:
            panel.span(start, end, fill=SHOCK_FILL, fill_opacity="0.18", class_="shock")
        bottom = key in ("losses", "fear")
        panel.axes(_x_ticks(days), x_label="day" + (" (grey: shock)" if shocks else "")
                   if bottom else "")
    for _, dashed, ts in runs:
        day = ts["day"]
        flow = rolled[id(ts)]
        panels["flows"].series(flow["day"], flow["deposits"] / money, DEPOSIT_COLOUR, dashed,
                               class_="series-deposits")
        panels["flows"].series(flow["day"], flow["payouts"] / money, PAYOUT_COLOUR, dashed,
                               class_="series-payouts")
        panels["backlog"].series(day, ts["unpaid_backlog"] / stock, BACKLOG_COLOUR, dashed,
                                 class_="series-backlog")
        for s in statuses:
            name = s.name.lower()
            panels["status"].series(day, ts[f"platforms_{name}"], STATUS_COLOURS[name], dashed,
                                    class_=f"series-{name}")
        panels["rates"].series(day, 100 * ts["mean_promised_rate"], RATE_COLOUR, dashed)
        panels["rates"].series(day, 100 * ts["outside_rate"], OUTSIDE_COLOUR, dashed, width=1.2)
        panels["losses"].series(day, ts["investor_losses_expected"] / stock, LOSS_COLOUR,
                                dashed, class_="series-losses")
        panels["fear"].series(day, ts["mean_fear"], FEAR_COLOUR, dashed)
    panels["flows"].legend([("deposits", DEPOSIT_COLOUR, False),
                            ("payouts", PAYOUT_COLOUR, False)])
    panels["status"].legend([(s.name.lower(), STATUS_COLOURS[s.name.lower()], False)
                             for s in statuses])
    panels["rates"].legend([("promised (mean)", RATE_COLOUR, False),
                            ("outside", OUTSIDE_COLOUR, False)])
    if len(runs) > 1:
        panels["backlog"].legend([(label, BACKLOG_COLOUR, dashed) for label, dashed, _ in runs])
        panels["losses"].legend([(label, LOSS_COLOUR, dashed) for label, dashed, _ in runs])
    return svg.render()
