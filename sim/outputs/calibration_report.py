"""The text of a calibration: parameter and moment tables, the J test, and ``report.md``.

Numbers come from :class:`sim.experiments.calibrate.CalibrationResult`; nothing here writes
files (:func:`sim.outputs.results.write_calibration` does).
"""

from __future__ import annotations

import pandas as pd

from sim.experiments.calibrate import CalibrationResult


def _g(x: float, digits: int = 4) -> str:
    return "–" if pd.isna(x) else f"{x:.{digits}g}"


def _table(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def params_text(result: CalibrationResult) -> str:
    """The fitted parameters as aligned text: bounds, start, estimate, se, 95% interval."""
    table = result.params_table()
    rows = [[r.key, f"[{_g(r.low)}, {_g(r.high)}]", _g(r.start), _g(r.estimate), _g(r.se, 2),
             f"[{_g(r.ci_low)}, {_g(r.ci_high)}]"] for r in table.itertuples()]
    return _table(["parameter", "bounds", "start", "estimate", "se", "95% interval"], rows)


def test_text(result: CalibrationResult) -> str:
    """The objective, the J statistic and the over-identification test, one line each."""
    inf = result.inference
    m, k = len(result.calibration.moments), len(result.theta)
    lines = [f"objective Q = g'Wg: {result.objective:.4g} at the estimate "
             f"({result.calibration.targets.weighting} weighting); start "
             f"{_start_objective(result):.4g}",
             f"J = g' diag(V)^-1 g = {inf.j:.4g} with {m} moments and {k} parameters"]
    if inf.df > 0:
        lines.append(f"over-identification (m - k = {inf.df}): p = {inf.p_chi2:.3g} by chi2("
                     f"{inf.df}), p = {inf.p_weighted:.3g} by J's law under the W used")
    else:
        lines.append("exactly identified (m = k): no over-identification test")
    lines.append(f"condition number of G'WG: {inf.condition:.3g}")
    return "\n".join(lines)


def _start_objective(result: CalibrationResult) -> float:
    from sim.experiments import msm

    return msm.objective(result.start_runs.mean(axis=0) - result.targets, result.weighting)


def identification_text(result: CalibrationResult) -> str:
    """One line per parameter: verdict, the moment it moves most and by how many sd."""
    rows = [[r.param, r.verdict, r.most_moved_moment, f"{r.morris_mu_star_sd:.2f}",
             f"{r.local_range_effect_sd:.2f}", f"{r.se_share_of_range:.2f}"]
            for r in result.identification.itertuples()]
    source = "Morris mu*/sd" if result.morris is not None else "Jacobian x 2/3 (no Morris)"
    return _table(["parameter", "verdict", "moves most", source, "local, range/sd",
                   "se/range"], rows)


def moments_markdown(result: CalibrationResult) -> str:
    """Every moment as a Markdown table: target (sd), simulated mean [95% of runs], start, t."""
    rows = ["| moment | unit | target (sd) | fitted [95% of runs] | start | t |",
            "|---|---|---|---|---|---|"]
    for r in result.moments_table().itertuples():
        rows.append(f"| {r.moment} | {r.unit} | {_g(r.target)} ({_g(r.target_sd, 2)}) | "
                    f"{_g(r.simulated)} [{_g(r.sim_low)}, {_g(r.sim_high)}] | "
                    f"{_g(r.start_simulated)} | {r.t:+.2f} |")
    return "\n".join(rows)


def render_markdown(result: CalibrationResult, figures: list[str], command: str) -> str:
    """``report.md``: what was fitted, how, the tables, the test and the figures."""
    cal, opt = result.calibration, result.optimizer
    lines = [
        f"# Calibration of {cal.scenario.name}", "",
        f"`{command}`", "",
        f"Method of simulated moments: {len(cal.moments)} moments, {len(result.theta)} "
        f"parameters, {cal.replications} replications per parameter vector on common random "
        f"numbers (seeds {', '.join(map(str, cal.seeds))}), {cal.targets.weighting} weighting "
        f"from a first stage at the start, {opt['method']} (population "
        f"{opt['popsize'] * len(result.theta)}, {opt['generations']} generations, "
        f"{opt['evaluations']} parameter vectors, seed {opt['seed']}, polish off; "
        f"{opt['message']}). {result.ran} runs now, {result.resumed} read back from the store, "
        f"{result.seconds:.0f} s.", "",
        "## Parameters", "", "```", params_text(result), "```", "",
        "Standard errors: MSM sandwich `(G'WG)^-1 G'W V W G (G'WG)^-1` with "
        "`V = (1 + 1/R) S + diag(sd^2)` and `G` by central differences (see "
        "`sim/experiments/msm.py`).", "",
        "## Fit", "", "```", test_text(result), "```", "",
        moments_markdown(result), "",
        "## Identification", "", "```", identification_text(result), "```", "",
        "A parameter is identified when some moment moves by at least 1 sd of that moment in "
        "one Morris step (2/3 of the parameter's range; mu*, SALib) and its se is below a "
        "quarter of its range (`sim/experiments/identification.py`).", "",
    ]
    lines += [f"![{name}]({name})" for name in figures]
    return "\n".join(lines) + "\n"
