"""Which parameters the moments identify: Morris screening and the local Jacobian.

Two checks, both in units of each moment's standard deviation ``sqrt(V_ii)`` so that moments in
platforms, percent and months compare:

* **Global (Morris).** Elementary effects over the whole box of bounds (Morris 1991; Campolongo,
  Cariboni & Saltelli 2007), drawn and analysed by SALib as in the sweep
  (:mod:`sim.experiments.sensitivity`, ``SALib.sample.morris`` / ``SALib.analyze.morris``),
  each design point's moments averaged over the calibration's replications (common random
  numbers, through the same evaluator, store and executor). ``mu_star / sd`` is how far a
  moment moves, in its own sd, in one elementary step: on SALib's grid of ``p`` = 4 levels a
  step is ``p / (2 (p - 1))`` = 2/3 of the parameter's range.
* **Local (Jacobian).** ``|G_ij| (high_j - low_j) / sqrt(V_ii)``: the linearised change of
  moment ``i`` over parameter ``j``'s whole range, at the estimate.

A parameter is called identified when some moment moves by at least one sd (:data:`THRESHOLD`)
in the Morris screen and its standard error is below a quarter of its range; otherwise weakly
identified, or not at all when no moment moves.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

THRESHOLD = 1.0  # sd of a moment: the smallest move that the fit can see
LEVELS = 4
STEP = LEVELS / (2 * (LEVELS - 1))  # a Morris step as a share of the range (SALib's delta)


def morris_points(bounds: np.ndarray, keys: list[str], trajectories: int, seed: int
                  ) -> np.ndarray:
    """The Morris design on the box of bounds: ``trajectories * (k + 1)`` points.

    Raises:
        ImportError: SALib (the ``sweep`` extra) is missing.
    """
    from SALib.sample import morris

    problem = {"num_vars": len(keys), "names": keys, "bounds": bounds.tolist()}
    return morris.sample(problem, trajectories, num_levels=LEVELS, seed=seed)


def morris_table(bounds: np.ndarray, keys: list[str], points: np.ndarray, means: np.ndarray,
                 names: list[str], sd: np.ndarray, seed: int) -> pd.DataFrame:
    """Morris indices of every moment with respect to every parameter, scaled by the moment's sd.

    Args:
        bounds: k x 2.
        keys: parameter keys.
        points: the design (:func:`morris_points`).
        means: points x m, mean moments at each point.
        names: moment names.
        sd: sqrt(V_ii) of each moment.
        seed: of SALib's bootstrap.

    Returns:
        Columns moment, param, mu_star, sigma, mu_star_sd (mu_star / sd).
    """
    from SALib.analyze import morris

    problem = {"num_vars": len(keys), "names": keys, "bounds": bounds.tolist()}
    rows = []
    for i, name in enumerate(names):
        y = means[:, i]
        if not np.all(np.isfinite(y)):
            continue
        res = morris.analyze(problem, points, y, num_levels=LEVELS, seed=seed)
        for j, key in enumerate(keys):
            rows.append({"moment": name, "param": key, "mu_star": float(res["mu_star"][j]),
                         "sigma": float(res["sigma"][j]),
                         "mu_star_sd": float(res["mu_star"][j] / sd[i])})
    return pd.DataFrame(rows, columns=["moment", "param", "mu_star", "sigma", "mu_star_sd"])


def local_table(jacobian: np.ndarray, bounds: np.ndarray, keys: list[str], names: list[str],
                sd: np.ndarray) -> pd.DataFrame:
    """``|G_ij| (high_j - low_j) / sd_i`` for every moment and parameter (long form)."""
    span = bounds[:, 1] - bounds[:, 0]
    scaled = np.abs(jacobian) * span[None, :] / sd[:, None]
    return pd.DataFrame([{"moment": n, "param": k, "range_effect_sd": float(scaled[i, j])}
                         for i, n in enumerate(names) for j, k in enumerate(keys)])


def verdicts(morris: pd.DataFrame | None, local: pd.DataFrame, se: np.ndarray,
             bounds: np.ndarray, keys: list[str]) -> pd.DataFrame:
    """One row per parameter: the moment that moves most, by how much, and the verdict."""
    rows = []
    for j, key in enumerate(keys):
        loc = local[local["param"] == key].sort_values("range_effect_sd", ascending=False)
        glob = (morris[morris["param"] == key].sort_values("mu_star_sd", ascending=False)
                if morris is not None and not morris.empty else None)
        top = glob.iloc[0] if glob is not None and len(glob) else None
        moved = top["mu_star_sd"] if top is not None else loc.iloc[0]["range_effect_sd"] * STEP
        relative_se = float(se[j] / (bounds[j, 1] - bounds[j, 0]))
        if moved >= THRESHOLD and relative_se < 0.25:
            verdict = "identified"
        elif moved >= THRESHOLD / 4:
            verdict = "weakly identified"
        else:
            verdict = "not identified"
        rows.append({"param": key, "verdict": verdict,
                     "most_moved_moment": top["moment"] if top is not None else loc.iloc[0][
                         "moment"], "morris_mu_star_sd": float(moved),
                     "local_top_moment": loc.iloc[0]["moment"],
                     "local_range_effect_sd": float(loc.iloc[0]["range_effect_sd"]),
                     "se_share_of_range": relative_se})
    return pd.DataFrame(rows)
