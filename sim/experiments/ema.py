"""An EMA workbench adapter: p2psim as an ``ema_workbench`` Model, and PRIM scenario discovery.

The EMA workbench's vocabulary maps onto p2psim's:

* **uncertainties**: what nobody controls: the scenario's shocks (their sizes) and investor
  behaviour (:func:`default_uncertainties`);
* **levers**: what a regulator chooses: the policies, each switched on or off, and their
  parameters (:func:`default_levers`);
* **outcomes**: the KPIs of the outcome registry (:func:`sim.vocabulary.outcome`), each a
  ``ScalarOutcome`` minimised or maximised as the registry's ``better`` says.

Every parameter is a scenario field named by its dotted key with ``__`` for ``.``
(``shocks__1__size``, ``policies__custody__enabled``), since EMA names must be identifiers;
:func:`run_experiment` applies them to the base scenario through :mod:`sim.config.dotted` and
validates the result like a scenario file. Every experiment runs with the base scenario's seed
(common random numbers), so experiments differ only by their parameters.

:func:`scenario_discovery` is the documented example: it samples uncertainties and levers with
``perform_experiments`` and asks PRIM which conditions make investor losses exceed a threshold.
``ema_workbench`` is an optional extra (``pip install p2psim[ema]``).
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

with warnings.catch_warnings():  # it warns that ipyparallel (an evaluator we do not use) is absent
    warnings.simplefilter("ignore", UserWarning)
    from ema_workbench import (
        BooleanParameter,
        Model,
        RealParameter,
        ScalarOutcome,
        perform_experiments,
    )
    from ema_workbench.analysis import prim

from sim.config import Scenario, validate_scenario
from sim.config.dotted import KWARG_SEPARATOR, SEPARATOR, apply_dotted, normalise_key
from sim.experiments.runner import run_scenario
from sim.mechanisms.policies import registered_policies
from sim.mechanisms.shocks import shock_types
from sim.vocabulary import HEADLINE_OUTCOMES, outcome

# Investor behaviour that is uncertain: key -> (low, high), around the defaults.
BEHAVIOUR = {
    "investors.panic_redemption": (0.1, 0.4),
    "investors.news_weight": (0.3, 1.2),
    "investors.liquidity_need_per_year": (1.0, 4.0),
    "channels.information.strength": (0.3, 1.2),
}
# Policy parameters offered as levers besides the on/off switches: key -> (low, high).
POLICY_PARAMETERS = {
    "policies.protection_fund.coverage_share": (0.2, 1.0),
    "policies.liquidity_reserve.ratio": (0.05, 0.3),
}


def ema_name(key: str) -> str:
    """The EMA name of a dotted key: ``shocks.1.size`` -> ``shocks__1__size``."""
    return key.replace(SEPARATOR, KWARG_SEPARATOR)


def default_uncertainties(base: Scenario) -> list:
    """Each shock's size from half to one and a half times the scenario's, and :data:`BEHAVIOUR`.

    Sizes are kept within each shock type's allowed maximum.

    Args:
        base: the base scenario.

    Returns:
        ``RealParameter`` objects named by :func:`ema_name`.
    """
    params = []
    types = dict(shock_types())
    for i, shock in enumerate(base.shocks):
        if shock.size <= 0:
            continue
        high = 1.5 * shock.size
        limit = getattr(types[shock.type], "max_size", None)
        if limit is not None:
            high = min(high, limit)
        params.append(RealParameter(ema_name(f"shocks.{i}.size"), 0.5 * shock.size, high))
    params += [RealParameter(ema_name(k), lo, hi) for k, (lo, hi) in BEHAVIOUR.items()]
    return params


def default_levers(policies: list[str] | None = None) -> list:
    """An on/off switch per policy, plus :data:`POLICY_PARAMETERS` of the policies chosen.

    Args:
        policies: policy names (default every registered policy).

    Returns:
        ``BooleanParameter`` and ``RealParameter`` objects named by :func:`ema_name`.
    """
    names = list(registered_policies()) if policies is None else policies
    levers = [BooleanParameter(ema_name(f"policies.{name}.enabled")) for name in names]
    levers += [RealParameter(ema_name(k), lo, hi) for k, (lo, hi) in POLICY_PARAMETERS.items()
               if k.split(".")[1] in names]
    return levers


def default_outcomes(keys: tuple[str, ...] | list[str] = HEADLINE_OUTCOMES) -> list:
    """Registry outcomes as ``ScalarOutcome`` objects (minimised, maximised or information).

    Args:
        keys: outcome keys of the registry.

    Returns:
        The outcomes.
    """
    kinds = {-1: ScalarOutcome.MINIMIZE, 1: ScalarOutcome.MAXIMIZE, 0: ScalarOutcome.INFO}
    return [ScalarOutcome(key, kind=kinds[outcome(key).better]) for key in keys]


def run_experiment(base: dict, outcome_keys: tuple[str, ...], **parameters) -> dict:
    """One EMA experiment: the base scenario with ``parameters`` applied, run, its outcomes.

    Module level (a ``functools.partial`` of it is the model's function), so EMA's
    multiprocessing evaluator can send it to workers.

    Args:
        base: the base scenario as JSON data.
        outcome_keys: the outcomes to return.
        **parameters: EMA parameter names (``__`` for ``.``) to values.

    Returns:
        Outcome key -> float (NaN where the summary has ``None``).

    Raises:
        ScenarioError: parameters that make an invalid scenario.
    """
    values = {normalise_key(k): (v.item() if isinstance(v, np.generic) else v)
              for k, v in parameters.items()}
    data = apply_dotted({k: v for k, v in base.items()}, values)
    scenario = validate_scenario(_deep_copy(data), source="EMA experiment")
    summary = run_scenario(scenario, progress=False).summary
    return {k: math.nan if summary.get(k) is None else float(summary[k]) for k in outcome_keys}


def _deep_copy(data):
    if isinstance(data, dict):
        return {k: _deep_copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_deep_copy(v) for v in data]
    return data


def ema_model(base: Scenario, uncertainties: list | None = None, levers: list | None = None,
              outcomes: list[str] | tuple[str, ...] = HEADLINE_OUTCOMES,
              name: str = "p2psim") -> Model:
    """An ``ema_workbench.Model`` of the base scenario (the Model factory).

    Args:
        base: the base scenario (its seed is used by every experiment).
        uncertainties: EMA parameters (default :func:`default_uncertainties`).
        levers: EMA parameters (default :func:`default_levers`).
        outcomes: registry outcome keys.
        name: the model's name (an identifier).

    Returns:
        The model, ready for ``perform_experiments``.
    """
    keys = tuple(outcomes)
    model = Model(name, function=functools.partial(run_experiment, base.model_dump(mode="json"),
                                                   keys))
    model.uncertainties = default_uncertainties(base) if uncertainties is None else uncertainties
    model.levers = default_levers() if levers is None else levers
    model.outcomes = default_outcomes(keys)
    return model


@dataclass
class Discovery:
    """What :func:`scenario_discovery` found.

    Attributes:
        experiments: one row per experiment (EMA's experiments table: parameters, then
            ``scenario``, ``policy``, ``model``).
        outcomes: outcome key -> one value per experiment, aligned with ``experiments``.
        threshold: the loss above which an experiment is "of interest".
        share_of_interest: share of experiments above it.
        box: PRIM's box limits of the chosen box (restricted dimensions only), or empty.
        stats: coverage, density, mass and restricted dimensions of the chosen box.
        trajectory: PRIM's peeling trajectory.
    """

    experiments: pd.DataFrame
    outcomes: dict
    threshold: float
    share_of_interest: float
    box: pd.DataFrame
    stats: dict
    trajectory: pd.DataFrame


def scenario_discovery(base: Scenario, scenarios: int = 100, policies: int = 4,
                       threshold: float | None = None, key: str = "investor_losses",
                       min_density: float = 0.8, uncertainties: list | None = None,
                       levers: list | None = None, evaluator=None,
                       outcomes: tuple[str, ...] = HEADLINE_OUTCOMES) -> Discovery:
    """Which conditions make ``key`` exceed ``threshold``? ``perform_experiments``, then PRIM.

    Samples ``scenarios`` points of the uncertainties and ``policies`` of the levers (Latin
    hypercube, EMA's default), runs every combination, marks the experiments whose ``key`` is
    above ``threshold`` (default its 80th percentile), and lets PRIM peel the input space down
    to a box where such experiments are concentrated. The box chosen is the one with the most
    coverage among those with a density of at least ``min_density`` (the last box of the
    trajectory if none reaches it).

    Args:
        base: the base scenario.
        scenarios: uncertainty samples.
        policies: lever samples (0: the base scenario's own policies).
        threshold: the value of interest (yuan for losses).
        key: the outcome to explain.
        min_density: share of experiments of interest a box must hold.
        uncertainties: EMA parameters (default :func:`default_uncertainties`).
        levers: EMA parameters (default :func:`default_levers`).
        evaluator: an EMA evaluator (default sequential); e.g. ``MultiprocessingEvaluator``.
        outcomes: outcomes to record (must include ``key``).

    Returns:
        The experiments, outcomes and PRIM's box.
    """
    model = ema_model(base, uncertainties, levers if policies else [], outcomes)
    kwargs = {"scenarios": scenarios}
    if policies:
        kwargs["policies"] = policies
    if evaluator is None:
        experiments, results = perform_experiments(model, **kwargs)
    else:
        with evaluator(model) if isinstance(evaluator, type) else evaluator as ev:
            experiments, results = ev.perform_experiments(**kwargs)
    y_values = np.asarray(results[key], dtype=float)
    threshold = float(np.nanpercentile(y_values, 80)) if threshold is None else threshold
    y = np.nan_to_num(y_values, nan=-np.inf) > threshold
    x = experiments.drop(columns=[c for c in ("scenario", "policy", "model")
                                  if c in experiments.columns])
    for column in x.columns:  # PRIM takes categories, not booleans
        if x[column].dtype == bool:
            x[column] = x[column].astype("category")
    box_limits, stats, trajectory = pd.DataFrame(), {}, pd.DataFrame()
    if 0 < y.sum() < len(y):
        box = prim.Prim(x, y, mass_min=0.05).find_box()
        trajectory = box.peeling_trajectory.copy()
        dense = trajectory[trajectory["density"] >= min_density]
        chosen = int(dense["coverage"].idxmax()) if len(dense) else len(trajectory) - 1
        box.select(chosen)
        row = trajectory.iloc[chosen]
        restricted = [c for c in box.box_lim.columns
                      if not box.box_lim[c].equals(box.box_lims[0][c])]
        box_limits = box.box_lim[restricted]
        stats = {"coverage": float(row["coverage"]), "density": float(row["density"]),
                 "mass": float(row["mass"]), "restricted": restricted}
    return Discovery(experiments=experiments, outcomes=results, threshold=threshold,
                     share_of_interest=float(y.mean()), box=box_limits, stats=stats,
                     trajectory=trajectory)
