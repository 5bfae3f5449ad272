"""The sweep report as text: plain-language findings, index tables, HTML and Markdown.

:func:`render_html` builds one self-contained page (the comparison report's CSS, figures
embedded as data URIs) and :func:`render_markdown` its twin, which links the PNGs beside it.
Every statement comes from the index table (:func:`sim.experiments.sensitivity.indices`);
labels and units come from the outcome registry and numbers are written by
:mod:`sim.outputs.formatting`. :mod:`sim.outputs.results` writes the files.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

import sim
from sim import vocabulary
from sim.experiments.sensitivity import INDICES, ranking
from sim.experiments.sweep import SweepResult
from sim.outputs import formatting
from sim.outputs.report import CSS, _html_simple_table, _img_uri, _md_bold_to_html, _md_simple_table

INDEX_TEXT = {
    "S1": "first-order Sobol' index: the share of the outcome's variance the factor explains "
          "alone",
    "ST": "total Sobol' index: the share it explains alone or through interactions",
    "mu_star": "Morris mu*: mean absolute elementary effect, the factor's overall influence (in "
               "the outcome's unit)",
    "sigma": "Morris sigma: spread of the elementary effects; large against mu* means "
             "non-linear effects or interactions",
    "spearman": "Spearman rank correlation of the factor with the outcome over the design points",
}
METHOD_TEXT = {
    "sobol": "Sobol' variance decomposition (Saltelli's sampling scheme on a scrambled Sobol' "
             "sequence, SALib); confidence intervals by bootstrap.",
    "morris": "Morris elementary effects (SALib); the interval of mu* is a bootstrap interval.",
    "lhs": "Latin hypercube sample (SALib); rank correlations with Fisher-z intervals.",
    "grid": "Full grid of the factors' levels; rank correlations with Fisher-z intervals.",
}


@dataclass
class SweepReportData:
    """What the sweep report shows.

    Attributes:
        result: the finished sweep.
        indices: from :func:`sim.experiments.sensitivity.indices`.
        missing: outcomes missing at some design points (same function).
        means: outcome means per design point (one column per analysed outcome).
        store: the store folder the runs are in.
    """

    result: SweepResult
    indices: pd.DataFrame
    missing: pd.DataFrame
    means: pd.DataFrame
    store: Path

    @property
    def labels(self) -> dict[str, str]:
        """Factor key -> label."""
        return {f.key: f.name for f in self.result.sweep.spec.factors}

    def subtitle(self) -> str:
        """One line: design, points, replications, runs and scenario."""
        sweep = self.result.sweep
        spec = sweep.spec
        return (f"{spec.design.method} design, {len(sweep.points):,} points x "
                f"{spec.replications} replication{'s' if spec.replications != 1 else ''} = "
                f"{sweep.runs:,} runs of {sweep.scenario.name} ({sweep.scenario.run.days:,} days)")


def _value(value: float, index: str, outcome: str) -> str:
    if index in ("mu_star", "sigma"):
        return formatting.short(value, vocabulary.outcome(outcome).unit)
    return formatting.number(value, 2) if np.isfinite(value) else formatting.MISSING


def _ci(row: pd.Series, outcome: str) -> str:
    if not (np.isfinite(row["low"]) and np.isfinite(row["high"])):
        return formatting.MISSING
    if row["index"] in ("mu_star", "sigma"):
        unit = vocabulary.outcome(outcome).unit
        return f"{formatting.short(row['low'], unit)} to {formatting.short(row['high'], unit)}"
    return f"{formatting.number(row['low'], 2)} to {formatting.number(row['high'], 2)}"


def _direction_sentence(data: SweepReportData, key: str) -> str:
    """' Rank correlations over the design points: X raises it (rho ...), ...' or ''."""
    rho = ranking(data.indices, key, "spearman")
    clear = [r for _, r in rho.iterrows()
             if np.isfinite(r["low"]) and (r["low"] > 0 or r["high"] < 0)]
    if not clear:
        return " No factor's rank correlation with it is distinguishable from zero."
    parts = ", ".join(f"**{data.labels[r['factor']]}** {'raises' if r['value'] > 0 else 'lowers'}"
                      f" it (rho {_value(r['value'], 'spearman', key)}, 95% CI {_ci(r, key)})"
                      for r in clear)
    return f" Main effects (rank correlations over the design points): {parts}."


def findings(data: SweepReportData) -> list[str]:
    """Plain-language findings, one per analysed outcome, then the outcomes left out.

    Args:
        data: the report's data.

    Returns:
        Sentences in Markdown (factor names in ``**bold**``).
    """
    method = data.result.sweep.spec.design.method
    labels = data.labels
    lines = []
    for key in data.result.sweep.spec.outcomes:
        label = vocabulary.outcome(key).label
        if key not in set(data.indices["outcome"]):
            continue
        if method == "sobol":
            total = ranking(data.indices, key, "ST")
            first = ranking(data.indices, key, "S1")
            top = total.iloc[0]
            clear = [r for _, r in total.iterrows() if r["low"] > 0]
            unclear = [labels[r["factor"]] for _, r in total.iterrows() if not r["low"] > 0]
            s1_sum = float(first["value"].sum())
            parts = ", ".join(f"**{labels[r['factor']]}** (ST {_value(r['value'], 'ST', key)}, "
                              f"95% CI {_ci(r, key)})" for r in clear) or "none"
            st_sum = float(total["value"].clip(lower=0).sum())
            lead = (f"**{labels[top['factor']]}** has the largest total index (ST "
                    f"{_value(top['value'], 'ST', key)}, 95% CI {_ci(top, key)}"
                    + ("" if top["low"] > 0 else "; the interval includes zero") + ")")
            text = (f"{label.capitalize()}: {lead}. Total index clearly above zero: {parts}.")
            if unclear:
                text += " Not distinguishable from zero: " + ", ".join(unclear) + "."
            if s1_sum < 0.5 or st_sum > 1.5:
                text += (f" The first-order indices add up to {s1_sum:.2f} and the total ones "
                         f"to {st_sum:.2f}: no factor moves the outcome much on its own; it "
                         "responds to the factors together (interactions, and a path-dependent "
                         "cascade in which a small change reshuffles which platforms fail). "
                         "Raise design.samples and replications to narrow the intervals.")
            else:
                text += (f" The first-order indices add up to {s1_sum:.2f}, so about "
                         f"{max(0.0, 1 - s1_sum):.0%} of the variance comes from interactions"
                         " (or estimation noise at this sample size).")
            text += _direction_sentence(data, key)
        elif method == "morris":
            mu = ranking(data.indices, key, "mu_star")
            sigma = data.indices[(data.indices["outcome"] == key)
                                 & (data.indices["index"] == "sigma")].set_index("factor")
            order = ", ".join(f"**{labels[r['factor']]}** ({_value(r['value'], 'mu_star', key)})"
                              for _, r in mu.iterrows())
            bent = [labels[r["factor"]] for _, r in mu.iterrows()
                    if r["value"] > 0 and sigma.loc[r["factor"], "value"] > r["value"]]
            text = f"{label.capitalize()}: factors by influence (mu*): {order}."
            if bent:
                text += (" Effects that vary more than they average (sigma > mu*: non-linear or "
                         "interacting): " + ", ".join(bent) + ".")
            text += _direction_sentence(data, key)
        else:
            rho = ranking(data.indices, key, "spearman")
            clear = [r for _, r in rho.iterrows()
                     if np.isfinite(r["low"]) and (r["low"] > 0 or r["high"] < 0)]
            parts = ", ".join(f"**{labels[r['factor']]}** {'raises' if r['value'] > 0 else 'lowers'}"
                              f" it (rho {_value(r['value'], 'spearman', key)}, 95% CI "
                              f"{_ci(r, key)})" for r in clear)
            text = (f"{label.capitalize()}: " + (parts if parts else
                                                 "no factor's rank correlation is "
                                                 "distinguishable from zero") + ".")
        lines.append(text)
    for _, row in data.missing.iterrows():
        if not row["analysed"]:
            lines.append(f"{vocabulary.outcome(row['outcome']).label.capitalize()} was not "
                         f"analysed: it has no value at {row['points_missing']} of "
                         f"{len(data.result.sweep.points)} design points (e.g. a contagion "
                         "multiplier without a failure hit directly by a shock), and the "
                         "estimators need a value at every point.")
    return lines


def index_rows(data: SweepReportData) -> tuple[list[str], list[list[str]]]:
    """The index table: one row per outcome x factor, the method's indices with their CIs.

    Args:
        data: the report's data.

    Returns:
        (header, rows) as text.
    """
    method = data.result.sweep.spec.design.method
    names = INDICES[method]
    head = ["outcome", "factor"] + [x for n in names for x in (n, f"{n} 95% CI")]
    rows = []
    table = data.indices
    for key in dict.fromkeys(table["outcome"]):
        first = ranking(table, key, names[-1] if method == "sobol" else names[0])
        for factor in first["factor"]:
            cells = [vocabulary.outcome(key).label, data.labels[factor]]
            for name in names:
                row = table[(table["outcome"] == key) & (table["factor"] == factor)
                            & (table["index"] == name)].iloc[0]
                cells += [_value(row["value"], name, key), _ci(row, key)]
            rows.append(cells)
    return head, rows


def _factor_rows(data: SweepReportData) -> list[list[str]]:
    rows = []
    for f in data.result.sweep.spec.factors:
        values = (f"{f.range[0]:g} to {f.range[1]:g}" + (" (integers)" if f.integer else "")
                  if f.range is not None else ", ".join(str(v) for v in f.levels))
        rows.append([f.name, f.key, values])
    return rows


def _method_text(data: SweepReportData) -> str:
    sweep = data.result.sweep
    spec = sweep.spec
    return (f"{METHOD_TEXT[spec.design.method]} Every design point runs {spec.replications} "
            f"replication{'s' if spec.replications != 1 else ''} with seeds "
            f"{', '.join(str(s) for s in sweep.seeds)} (replication r uses base seed + r at "
            f"every point: common random numbers), and the indices use the mean over "
            f"replications at each point. The design's sampler seed is {spec.design.seed}. "
            f"Runs are in the results store {data.store} (read it with "
            f"sim.outputs.store.read_store).")


def _meta(data: SweepReportData, created: datetime | None) -> str:
    progress = data.result.progress
    when = f", created {created.strftime('%Y-%m-%d %H:%M UTC')}" if created else ""
    return (f"{data.subtitle()}; {progress.ran:,} run now ({progress.skipped:,} resumed from the "
            f"store) in {progress.elapsed_seconds:,.0f} s on {progress.executor} with "
            f"{progress.workers} worker{'s' if progress.workers != 1 else ''}; p2psim "
            f"{sim.__version__}{when}.")


def render_html(data: SweepReportData, figures: list[Path], sweep_text: str,
                created: datetime) -> str:
    """The self-contained HTML report.

    Args:
        data: the report's data.
        figures: PNG files to embed, in order.
        sweep_text: the sweep file as given.
        created: when (UTC).

    Returns:
        The page.
    """
    spec = data.result.sweep.spec
    head, rows = index_rows(data)
    legend = "".join(f"<li><b>{n}</b>: {html.escape(INDEX_TEXT[n])}</li>"
                     for n in INDICES[spec.design.method])
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Sweep: {html.escape(spec.name)}</title><style>{CSS}</style></head><body>",
        f"<h1>Sweep: {html.escape(spec.name)}</h1>",
        f"<p class='meta'>{html.escape(_meta(data, created))}</p>",
        f"<p>{html.escape(spec.description)}</p>" if spec.description else "",
        "<h2>Findings</h2><ul class='summary'>",
        *[f"<li>{_md_bold_to_html(line)}</li>" for line in findings(data)],
        "</ul>",
        "<h2>Sensitivity indices</h2>", f"<ul>{legend}</ul>",
        _html_simple_table(head, rows) if rows else "<p>No outcome could be analysed.</p>",
        "<h2>Figures</h2>",
    ]
    for path in figures:
        parts.append(f"<img alt='{html.escape(path.stem)}' src='{_img_uri(path)}'>")
    parts += [
        "<h2>Factors</h2>",
        _html_simple_table(["factor", "dotted key", "values"], _factor_rows(data)),
        "<h2>Method</h2>", f"<p>{html.escape(_method_text(data))}</p>",
        "<details><summary>Sweep file</summary>",
        f"<pre>{html.escape(sweep_text)}</pre></details>",
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def render_markdown(data: SweepReportData, figures: list[Path], sweep_text: str) -> str:
    """The Markdown twin of the HTML report.

    Args:
        data: the report's data.
        figures: PNG files, linked by name (they sit beside the report).
        sweep_text: the sweep file as given.

    Returns:
        The Markdown text.
    """
    spec = data.result.sweep.spec
    head, rows = index_rows(data)
    lines = [f"# Sweep: {spec.name}", "", _meta(data, None), ""]
    if spec.description:
        lines += [spec.description, ""]
    lines += ["## Findings", "", *[f"- {line}" for line in findings(data)], "",
              "## Sensitivity indices", "",
              *[f"- **{n}**: {INDEX_TEXT[n]}" for n in INDICES[spec.design.method]], "",
              _md_simple_table(head, rows) if rows else "No outcome could be analysed.", "",
              "## Figures", ""]
    lines += [f"![{p.stem}]({p.name})\n" for p in figures]
    lines += ["## Factors", "",
              _md_simple_table(["factor", "dotted key", "values"], _factor_rows(data)), "",
              "## Method", "", _method_text(data), "",
              "<details><summary>Sweep file</summary>", "", "```toml", sweep_text.rstrip("\n"),
              "```", "", "</details>", ""]
    return "\n".join(lines)
