"""The policy comparison report as text: plain-language summary, tables, HTML and Markdown.

:func:`render_html` builds one self-contained page (inline CSS, figures embedded as data URIs,
no external links) and :func:`render_markdown` its twin, which links the PNG files next to it.
Every statement comes from the comparison table: the means, the paired differences from
``none`` and their 95% confidence intervals (:mod:`sim.experiments.analysis`). Labels, units and
better directions come from the outcome registry (:mod:`sim.vocabulary`), numbers are written
by :mod:`sim.outputs.formatting`, and the folder with the figures is written by
:mod:`sim.outputs.results`.
"""

from __future__ import annotations

import base64
import html
import re
from datetime import datetime
from pathlib import Path

import numpy as np

import sim
from sim import vocabulary
from sim.experiments.analysis import significant, verdict, zero_variance
from sim.experiments.compare import Comparison
from sim.experiments.policy_sets import BASELINE
from sim.outputs import formatting
from sim.outputs.comparison_plots import DIFF_FIGURE, FRONTIER_FIGURE, headline_outcomes
from sim.outputs.formatting import heading, interval, short

LOSS_NOTE = ("Investor losses after cover: what investors bear after protection-fund and "
             "guarantor payouts, counting claims written off and the expected shortfall of "
             "estates still in resolution at the end of the run; before cover adds those "
             "payouts back.")


# ----------------------------------------------------------------------------- plain language
def _row(comp: Comparison, name: str, outcome: str):
    table = comp.table
    match = table[(table["set"] == name) & (table["outcome"] == outcome)]
    return None if match.empty else match.iloc[0]


# Shorter names for the summary sentences, where the context says what the label spells out.
SENTENCE_LABELS = {"failures": "failures", "investor_losses": "investor losses"}


def _label(key: str) -> str:
    return SENTENCE_LABELS.get(key, vocabulary.outcome(key).label)


def _change_sentence(comp: Comparison, name: str, outcome: str) -> str | None:
    """A sentence for a difference whose CI excludes zero (or with one replication).

    For example 'lowered investor losses by 6.1 million yuan (from 8.6 million yuan to 2.5
    million yuan; 95% CI -8.0 to -4.0 million yuan)'; ``None`` otherwise (see
    :func:`_unclear_part`).
    """
    row, base = _row(comp, name, outcome), _row(comp, BASELINE, outcome)
    if row is None or base is None or not np.isfinite(row["diff"]) or row["diff"] == 0:
        return None
    unit = vocabulary.outcome(outcome).unit
    has_ci = np.isfinite(row["ci_low"]) and np.isfinite(row["ci_high"])
    if has_ci and not significant(row):
        return None
    levels = f"from {short(base['mean'], unit)} to {short(row['mean'], unit)}"
    size = short(abs(row["diff"]), unit).replace(" pp", " percentage points")
    verb = "lowered" if row["diff"] < 0 else "raised"
    ci = (f"95% CI {interval(row['ci_low'], row['ci_high'], unit)}" if has_ci
          else "one replication, no CI")
    return f"{verb} {_label(outcome)} by {size} ({levels}; {ci})"


def _unclear_part(comp: Comparison, name: str, outcome: str) -> str | None:
    """'failures -1.5 (95% CI -6.4 to +3.4)' for a difference not distinguishable from zero."""
    row = _row(comp, name, outcome)
    if row is None or not np.isfinite(row["diff"]) or _change_sentence(comp, name, outcome):
        return None
    if not (np.isfinite(row["ci_low"]) and np.isfinite(row["ci_high"])):
        return f"{_label(outcome)} unchanged" if row["diff"] == 0 else None
    unit = vocabulary.outcome(outcome).unit
    if row["diff"] == 0 and row["ci_low"] == row["ci_high"]:
        return f"{_label(outcome)} unchanged"
    if zero_variance(row):  # the t interval needs spread; the same change every time has none
        return (f"{_label(outcome)} {short(row['diff'], unit, signed=True)} in every "
                "replication (no spread, so no interval)")
    return (f"{_label(outcome)} {short(row['diff'], unit, signed=True)} "
            f"(95% CI {interval(row['ci_low'], row['ci_high'], unit)})")


def _credit_cost(comp: Comparison, name: str) -> tuple[str, bool]:
    """Change in credit supplied from ``none`` in % and whether its CI excludes zero."""
    row, base = _row(comp, name, "credit_supplied"), _row(comp, BASELINE, "credit_supplied")
    if row is None or base is None or not base["mean"] or not np.isfinite(row["diff"]):
        return "n/a", False
    return f"{100 * row['diff'] / base['mean']:+.1f}%", significant(row)


def summary_lines(comp: Comparison) -> list[str]:
    """A short plain-language summary, one sentence per policy set, then the verdicts.

    Every statement comes from the comparison table: paired differences from ``none`` with their
    95% confidence intervals, and a plain "not distinguishable from zero" when the interval
    covers zero.

    Args:
        comp: the comparison.

    Returns:
        Sentences in Markdown (set names in ``**bold**``): one per set after ``none``, the set
        best on investor losses, the cost of each set in credit supplied, and a note when there
        is only one replication.
    """
    lines = []
    losses = "investor_losses"
    keys = (losses, "failures", "credit_supplied")
    for name in comp.set_names[1:]:
        clear = [p for o in keys if (p := _change_sentence(comp, name, o))]
        unclear = [p for o in keys if (p := _unclear_part(comp, name, o))]
        if clear:
            text = f"**{name}** " + "; ".join(clear) + "."
            if unclear:
                text += " Not distinguishable from zero: " + ", ".join(unclear) + "."
        else:
            text = f"**{name}** made no change distinguishable from zero" + (
                ": " + ", ".join(unclear) if unclear else "") + "."
        lines.append(text)
    others = comp.set_names[1:]
    base = _row(comp, BASELINE, losses)
    if others and base is not None:
        unit = vocabulary.outcome(losses).unit
        ranked = sorted((r["mean"], n, r) for n in others
                        if (r := _row(comp, n, losses)) is not None and np.isfinite(r["mean"]))
        if ranked and ranked[0][0] < base["mean"]:
            _, name, row = ranked[0]
            qualifier = ("" if significant(row) else
                         ", though its difference from no policy is not distinguishable from zero")
            lines.append(f"Best on investor losses (after protection payouts): **{name}**, "
                         f"{short(row['mean'], unit)} against {short(base['mean'], unit)} with no "
                         f"policy{qualifier}; it changed credit supplied by "
                         f"{_credit_cost(comp, name)[0]}.")
        elif ranked:
            lines.append("No policy set lowered investor losses (after protection payouts) "
                         f"below the {short(base['mean'], unit)} of no policy.")
        costs = [(n, *_credit_cost(comp, n)) for n in others]
        shown = ", ".join(f"{n} {pct}{'*' if sig else ''}" for n, pct, sig in costs)
        if comp.replications < 2:
            note = " (one replication: no confidence intervals)"
        elif any(sig for _, _, sig in costs):
            note = " (* = distinguishable from zero)"
        else:
            note = " (none distinguishable from zero)"
        lines.append(f"Cost in credit supplied, change from no policy{note}: {shown}.")
    if comp.replications < 2:
        lines.append("With one replication there are no confidence intervals: run "
                     "--replications 2 or more to tell effects from noise.")
    return lines


# ----------------------------------------------------------------------------- tables and pages
CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1180px; color: #222; line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.1em; } h2 { border-bottom: 1px solid #ddd;
     padding-bottom: 0.2em; margin-top: 1.8em; }
.meta { color: #666; font-size: 0.92em; }
table { border-collapse: collapse; font-size: 0.82em; margin: 0.8em 0; }
th, td { border: 1px solid #ddd; padding: 3px 6px; vertical-align: top; }
th { background: #f4f4f4; text-align: left; }
td.num { text-align: right; white-space: nowrap; }
td .diff, td .ci { display: block; font-size: 0.9em; color: #555; }
td .ci { font-size: 0.8em; color: #777; }
.scroll { overflow-x: auto; }
td.good .diff { color: #1b7f3b; font-weight: bold; } td.bad .diff { color: #b3261e; font-weight: bold; }
td.changed .diff { color: #1f4e9c; font-weight: bold; }
td.good { background: #eef8f0; } td.bad { background: #fbeeee; } td.changed { background: #eef2fa; }
tr.ref td { background: #fafafa; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
details { margin: 0.8em 0; } summary { cursor: pointer; font-weight: bold; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.82em; }
ul.summary li { margin-bottom: 0.35em; }
.legend span { padding: 1px 6px; margin-right: 6px; border: 1px solid #ddd; }
"""


def _md_bold_to_html(text: str) -> str:
    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", html.escape(text))


def _column_scales(comp: Comparison, outcomes: list[str]) -> dict[str, tuple[float, str]]:
    """Divisor and unit of each outcome's column, from the means it shows."""
    table = comp.table
    return {o: formatting.scale(table.loc[table["outcome"] == o, "mean"],
                                vocabulary.outcome(o).unit) for o in outcomes}


def _cell(row, divisor: float, better: int, markdown: bool) -> tuple[str, str]:
    """(text, css class) of one table cell: mean, then the paired difference and its CI."""
    mean = formatting.scaled(row["mean"], divisor)
    if row["set"] == BASELINE:
        return mean, ""
    change = verdict(row, better)
    diff = formatting.scaled(row["diff"], divisor, signed=True)
    ci = formatting.scaled_interval(row["ci_low"], row["ci_high"], divisor)
    mark = "*" if change else ""
    if markdown:
        return f"{mean}<br>Δ {diff}{mark} [{ci}]", change
    return (f"{html.escape(mean)}<span class='diff'>Δ {html.escape(diff)}{mark}</span>"
            f"<span class='ci'>[{html.escape(ci)}]</span>", change)


def _headers(comp: Comparison, outcomes: list[str]) -> list[str]:
    scales = _column_scales(comp, outcomes)
    return [heading(vocabulary.outcome(o).label, scales[o][1]) for o in outcomes]


def _table_rows(comp: Comparison, outcomes: list[str], markdown: bool):
    scales = _column_scales(comp, outcomes)
    table = comp.rows()
    for name in comp.set_names:
        cells = [_cell(table[(name, o)], scales[o][0], vocabulary.outcome(o).better, markdown)
                 for o in outcomes]
        yield name, cells


def html_table(comp: Comparison, outcomes: list[str]) -> str:
    """The comparison table as HTML: one row per set, one column per outcome.

    Each cell holds the mean, then Δ (the paired difference from ``none``) and its 95% CI, in
    the unit named by the header; a CI that excludes 0 is marked ``*`` and coloured.

    Args:
        comp: the comparison.
        outcomes: the outcome keys to show, in order.

    Returns:
        The HTML table.
    """
    head = "".join(f"<th>{html.escape(h)}</th>" for h in ["policy set", *_headers(comp, outcomes)])
    body = []
    for name, cells in _table_rows(comp, outcomes, markdown=False):
        tds = "".join(f"<td class='num {cls}'>{text}</td>" for text, cls in cells)
        cls = " class='ref'" if name == BASELINE else ""
        body.append(f"<tr{cls}><th>{html.escape(name)}</th>{tds}</tr>")
    return (f"<div class='scroll'><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")


def markdown_table(comp: Comparison, outcomes: list[str]) -> str:
    """The comparison table as Markdown (``*`` marks a CI that excludes 0).

    Each cell holds the mean, then Δ (the paired difference from ``none``) and its 95% CI, in
    the unit named by the header; a CI that excludes 0 is marked ``*`` and coloured.

    Args:
        comp: the comparison.
        outcomes: the outcome keys to show, in order.

    Returns:
        The Markdown table.
    """
    heads = ["policy set", *_headers(comp, outcomes)]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for name, cells in _table_rows(comp, outcomes, markdown=True):
        lines.append(f"| {name} | " + " | ".join(text for text, _ in cells) + " |")
    return "\n".join(lines)


def _long_rows(comp: Comparison, outcomes: list[str], markdown: bool):
    """Rows of the every-outcome table: one per outcome, one column per set."""
    scales = _column_scales(comp, outcomes)
    table = comp.rows()
    for o in outcomes:
        item = vocabulary.outcome(o)
        cells = [_cell(table[(name, o)], scales[o][0], item.better, markdown)
                 for name in comp.set_names]
        yield heading(item.label, scales[o][1]), cells


def html_long_table(comp: Comparison, outcomes: list[str]) -> str:
    """Every outcome as HTML: one row per outcome, one column per set.

    Each cell holds the mean, then Δ (the paired difference from ``none``) and its 95% CI, in
    the unit named by the header; a CI that excludes 0 is marked ``*`` and coloured.

    Args:
        comp: the comparison.
        outcomes: the outcome keys to show, in order.

    Returns:
        The HTML table.
    """
    head = "".join(f"<th>{html.escape(h)}</th>" for h in ["outcome", *comp.set_names])
    body = "".join(f"<tr><th>{html.escape(label)}</th>"
                   + "".join(f"<td class='num {cls}'>{text}</td>" for text, cls in cells)
                   + "</tr>" for label, cells in _long_rows(comp, outcomes, markdown=False))
    return (f"<div class='scroll'><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></div>")


def markdown_long_table(comp: Comparison, outcomes: list[str]) -> str:
    """Every outcome as Markdown: one row per outcome, one column per set.

    Each cell holds the mean, then Δ (the paired difference from ``none``) and its 95% CI, in
    the unit named by the header; a CI that excludes 0 is marked ``*`` and coloured.

    Args:
        comp: the comparison.
        outcomes: the outcome keys to show, in order.

    Returns:
        The Markdown table.
    """
    heads = ["outcome", *comp.set_names]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for label, cells in _long_rows(comp, outcomes, markdown=True):
        lines.append(f"| {label} | " + " | ".join(text for text, _ in cells) + " |")
    return "\n".join(lines)


def _scenario_facts(comp: Comparison) -> list[tuple[str, str]]:
    sc = comp.scenario
    channels = [n for n, c in sc.channels.model_dump().items() if c.get("enabled")]
    return [
        ("name", sc.name),
        ("description", sc.description or "-"),
        ("days", f"{sc.run.days:,}"),
        ("platforms at day 0", f"{sc.platforms.count + len(sc.platforms.custom):,} "
                               f"(entry {sc.platforms.entry_per_year:g} a year)"),
        ("investors / borrowers", f"{sc.investors.count:,} / {sc.borrowers.count:,}"),
        ("on-demand share of products, cash buffer target",
         f"{sc.platforms.demand_share:.0%}, {sc.platforms.cash_buffer_target:.0%} of claims"),
        ("contagion channels on", ", ".join(channels) or "none"),
        ("replications, seeds", f"{comp.replications}, seeds "
                                f"{', '.join(str(s) for s in comp.seeds)} (replication r uses "
                                f"base seed + r, the same for every set)"),
    ]


def _shock_rows(comp: Comparison) -> list[list[str]]:
    rows = []
    for s in comp.scenario.shocks:
        target = s.platform or (f"sector {s.sector}" if s.sector is not None else "market")
        rows.append([s.type, str(s.start), str(s.duration), f"{s.size:g}", target])
    return rows


def _policy_days(comp: Comparison, policy_set, name: str) -> str:
    """`name` with its regulatory calendar, e.g. ``custody (days 1,640-2,555)``.

    A set's own table wins; otherwise the scenario's parameters for that policy apply.
    """
    table = policy_set.policies.get(name, {})
    scenario_policy = getattr(comp.scenario.policies, name, None)
    start = table.get("start", getattr(scenario_policy, "start", 0))
    end = table.get("end", getattr(scenario_policy, "end", None))
    if not start and end is None:
        return name
    if end is None:
        return f"{name} (from day {start:,})"
    return f"{name} (days {start:,} to {end - 1:,})"


def _set_rows(comp: Comparison) -> list[list[str]]:
    return [[s.name, ", ".join(_policy_days(comp, s, n) for n in s.enabled)
             or "(every policy off)"] for s in comp.sets]


def _img_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _html_simple_table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    trs = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"


def _md_simple_table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines)


FIGURE_TEXT = {
    DIFF_FIGURE: "Paired differences from no policy for the headline outcomes.",
    FRONTIER_FIGURE: "Efficiency against stability: credit supplied and investor losses per "
                     "policy set. Left, levels with 95% CIs of the mean; right, paired "
                     "differences from no policy with their 95% CIs.",
    "ts_platforms_operating.png": "Platforms operating over time.",
    "ts_daily_outflow.png": "Daily outflow to investors over time (7-day mean).",
    "ts_investor_losses.png": "Investor losses after cover over time: claims written off plus "
                              "the expected shortfall of estates still in resolution.",
    "ts_loans_outstanding.png": "Credit outstanding over time.",
}

METHOD = (
    "Every policy set runs the same replications: replication r uses seed base + r "
    "(base = --seed or the scenario's run.seed) in every set, so the sets face the same random "
    "draws (common random numbers) and differences are paired per replication. Δ is the mean of "
    "the per-replication differences from 'none'; its 95% confidence interval is Student-t "
    "(mean ± t(0.975, n−1)·sd/√n of the differences). A difference whose interval excludes 0 "
    "is marked (* and colour). Outcomes a run does not have (e.g. the day a fund ran dry when "
    "it never did) are left out of the mean and of the pairs. The 'none' set switches every "
    "policy off, whatever the scenario file enables; a named set switches on exactly its "
    "policies, with the scenario's parameters for them."
)


def render_html(comp: Comparison, figures: list[Path], toml_text: str,
                created: datetime) -> str:
    """The self-contained HTML report (inline CSS, images as data URIs, no external links).

    Args:
        comp: the comparison.
        figures: the PNG files to embed, in report order.
        toml_text: the scenario as run (:func:`sim.outputs.toml_text.scenario_toml`).
        created: when the report was made (UTC), shown under the title.

    Returns:
        The page.
    """
    sc = comp.scenario
    headline = headline_outcomes(comp)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Policy comparison: {html.escape(sc.name)}</title><style>{CSS}</style></head><body>",
        f"<h1>Policy comparison: {html.escape(sc.name)}</h1>",
        f"<p class='meta'>{len(comp.sets)} policy sets × {comp.replications} replications, "
        f"{sc.run.days:,} days each; {comp.elapsed_seconds:,.0f} s with {comp.workers} "
        f"worker{'s' if comp.workers != 1 else ''}; p2psim {sim.__version__}, created "
        f"{created.strftime('%Y-%m-%d %H:%M UTC')}.</p>",
        "<h2>Summary</h2><ul class='summary'>",
        *[f"<li>{_md_bold_to_html(line)}</li>" for line in summary_lines(comp)],
        "</ul>",
        "<h2>Comparison</h2>",
        "<p>Each cell: the mean over replications, then Δ, the paired difference from "
        "<i>none</i> (no policy), with its 95% confidence interval in brackets. Units in the "
        f"column header. {LOSS_NOTE}</p>",
        "<p class='legend'><span style='background:#eef8f0'>better, CI excludes 0</span>"
        "<span style='background:#fbeeee'>worse, CI excludes 0</span>"
        "<span style='background:#eef2fa'>changed, CI excludes 0 (no better direction)</span>"
        "no colour: not distinguishable from zero</p>",
        html_table(comp, headline),
        "<details><summary>Every outcome</summary>",
        html_long_table(comp, comp.outcomes),
        "</details>",
    ]
    parts.append("<h2>Figures</h2>")
    for path in figures:
        parts.append(f"<p>{html.escape(FIGURE_TEXT.get(path.name, path.name))}</p>")
        parts.append(f"<img alt='{html.escape(path.stem)}' src='{_img_uri(path)}'>")
    parts += [
        "<h2>Scenario</h2>",
        _html_simple_table(["", ""], [list(r) for r in _scenario_facts(comp)]),
        "<h3>Shocks</h3>",
        _html_simple_table(["type", "start (day)", "duration (days)", "size", "target"],
                           _shock_rows(comp)) if sc.shocks else "<p>No shocks.</p>",
        "<h3>Policy sets</h3>",
        _html_simple_table(["set", "policies on"], _set_rows(comp)),
        "<details><summary>Scenario as run (TOML; replication 0, no policy)</summary>",
        f"<pre>{html.escape(toml_text)}</pre></details>",
        "<h2>Method</h2>",
        f"<p>{html.escape(METHOD)}</p>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def render_markdown(comp: Comparison, figures: list[Path], toml_text: str) -> str:
    """The Markdown twin of the HTML report.

    Args:
        comp: the comparison.
        figures: the PNG files, linked by name (they sit next to the report).
        toml_text: the scenario as run.

    Returns:
        The Markdown text.
    """
    sc = comp.scenario
    headline = headline_outcomes(comp)
    lines = [
        f"# Policy comparison: {sc.name}", "",
        f"{len(comp.sets)} policy sets × {comp.replications} replications, {sc.run.days:,} days "
        f"each; {comp.elapsed_seconds:,.0f} s with {comp.workers} worker"
        f"{'s' if comp.workers != 1 else ''}; p2psim {sim.__version__}.", "",
        "## Summary", "",
        *[f"- {line}" for line in summary_lines(comp)], "",
        "## Comparison", "",
        "Each cell: the mean over replications, then Δ, the paired difference from *none* (no "
        "policy), with its 95% confidence interval in brackets; `*` marks an interval that "
        f"excludes 0. Units in the column header. {LOSS_NOTE}", "",
        markdown_table(comp, headline), "",
        "<details><summary>Every outcome</summary>", "",
        markdown_long_table(comp, comp.outcomes), "", "</details>", "",
        "## Figures", "",
    ]
    for path in figures:
        lines += [FIGURE_TEXT.get(path.name, path.name), "", f"![{path.stem}]({path.name})", ""]
    lines += [
        "## Scenario", "",
        _md_simple_table(["", ""], [list(r) for r in _scenario_facts(comp)]), "",
        "### Shocks", "",
        (_md_simple_table(["type", "start (day)", "duration (days)", "size", "target"],
                          _shock_rows(comp)) if sc.shocks else "No shocks."), "",
        "### Policy sets", "",
        _md_simple_table(["set", "policies on"], _set_rows(comp)), "",
        "<details><summary>Scenario as run (TOML; replication 0, no policy)</summary>", "",
        "```toml", toml_text.rstrip("\n"), "```", "", "</details>", "",
        "## Method", "", METHOD, "",
    ]
    return "\n".join(lines)
