"""Policy comparison: policy sets, common random numbers, replications and paired statistics.

A comparison runs one scenario under several *policy sets* (the levers), ``N`` replications each,
and compares every outcome with the no-policy baseline ``none``.

* **Policy sets.** A set is a name and a ``[policies]`` section. Sets come from names
  (:func:`parse_policy_names`: policy names from :class:`~sim.config.PoliciesConfig`,
  ``all-single``, ``package`` and ``a+b`` combinations) or from a TOML file of ``[[set]]`` tables
  (:func:`load_policy_file`). The baseline ``none`` is always first.
* **Common random numbers.** Replication ``r`` of every set runs with seed ``base + r``, where
  ``base`` is ``--seed`` or the scenario's ``run.seed``. Replication 0 of ``none`` is therefore
  exactly ``p2psim run SCENARIO`` with every policy off. The model turns the integer into its
  generator through numpy's ``SeedSequence``, so neighbouring seeds give independent streams.
  Every set sees the same seeds, so differences from ``none`` are paired per replication.
* **Statistics.** For each set and outcome: the mean over replications, the paired difference
  from ``none`` (mean of the per-replication differences) and its 95% Student-t confidence
  interval. ``None`` outcomes (e.g. a fund that never ran dry) count as missing (NaN) and are
  left out of the pairs.

Nothing here prints or writes files: :mod:`sim.cli` prints and :mod:`sim.report` writes.
"""

from __future__ import annotations

import math
import multiprocessing
import time
import tomllib
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from tqdm import tqdm

from sim.config import Scenario, ScenarioError, validate_scenario
from sim.mechanisms.policies import registered_policies

BASELINE = "none"
ALL_SINGLE = "all-single"
PACKAGE = "package"
CONFIDENCE = 0.95

# Outcomes compared, in report order: (summary key, label, unit kind, better direction).
# Kinds: "count", "yuan", "share", "ratio", "day". Direction: -1 lower is better, +1 higher is
# better, 0 neither (a cost or a timing). Keys a run does not report are skipped; any
# ``failures_*``, ``ew_*`` and ``reserve_*`` key a run reports is added (see :func:`outcome_keys`).
OUTCOMES: list[tuple[str, str, str, int]] = [
    ("failures", "failures (incl. absconding)", "count", -1),
    ("failures_run", "failures: run", "count", -1),
    ("failures_insolvency", "failures: insolvency", "count", -1),
    ("failures_absconding", "failures: owner absconded", "count", -1),
    ("failures_regulatory_closure", "failures: closed by regulator", "count", -1),
    ("failures_orderly_exit", "orderly exits", "count", 0),
    # After protection and guarantees, incl. the expected shortfall of estates still open.
    ("investor_losses", "investor losses after cover", "yuan", -1),
    ("investor_losses_gross", "investor losses before cover", "yuan", -1),
    ("investor_losses_written_off", "investor claims written off so far", "yuan", -1),
    ("investor_loss_share", "investor losses, share invested", "share", -1),
    ("investors_with_loss", "investors who lost money", "count", -1),
    ("credit_supplied", "credit supplied", "yuan", +1),
    ("borrower_interest_paid", "borrower interest paid", "yuan", 0),
    ("peak_daily_outflow", "peak daily outflow", "yuan", -1),
    ("cascade_size", "failures after the first", "count", -1),
    ("contagion_multiplier", "contagion multiplier", "ratio", -1),
    ("protection_levies", "protection fund levies", "yuan", 0),
    ("protection_payouts", "protection fund payouts", "yuan", 0),
    ("protection_fund_dry_day", "day the protection fund ran dry", "day", 0),
    ("stolen", "stolen or diverted", "yuan", -1),
]
DYNAMIC_PREFIXES = ("failures_", "ew_", "reserve_")

# Outcomes printed by the CLI and shown first in the report.
HEADLINE = ("failures", "investor_losses", "investor_losses_gross", "investors_with_loss",
            "credit_supplied", "peak_daily_outflow", "contagion_multiplier", "stolen")

# Daily series kept from every run for confidence bands: name -> function of the timeseries.
SERIES: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "platforms_operating": lambda ts: ts["platforms_active"] + ts["platforms_distressed"],
    "platforms_failed": lambda ts: sum(ts[c] for c in ("platforms_failed", "platforms_absconded",
                                                       "platforms_closed") if c in ts),
    "payouts": lambda ts: ts["payouts"],
    "deposits": lambda ts: ts["deposits"],
    "unpaid_backlog": lambda ts: ts["unpaid_backlog"],
    "investor_claims": lambda ts: ts["investor_claims"],
    "loans_outstanding": lambda ts: ts["loans_outstanding"],
    "credit_supplied_cum": lambda ts: ts["credit_supplied"].cumsum(),
    "investor_losses": lambda ts: ts["investor_losses_expected"],
}


class PolicySetError(ScenarioError):
    """A bad ``--policies`` argument or policy file; printed as one ``error:`` line."""


# ----------------------------------------------------------------------------- policy sets
@dataclass(frozen=True)
class PolicySet:
    """A named lever setting.

    Attributes:
        name: shown in tables and legends (``none``, ``custody``, ``custody+liquidity_reserve``).
        policies: a ``[policies]`` section as raw data (policy name -> its table).
    """

    name: str
    policies: dict = field(default_factory=dict)


def policy_names() -> list[str]:
    """The registered policies, in the order they act.

    Read from the registry (:func:`sim.mechanisms.policies.registered_policies`), so a new
    policy is known here without any change.
    """
    return list(registered_policies())


def _known_names_text() -> str:
    return ", ".join([BASELINE, *policy_names(), ALL_SINGLE, PACKAGE])


def _switched(scenario: Scenario, on: Iterable[str]) -> dict:
    """The scenario's ``[policies]`` section with exactly ``on`` enabled and the rest off.

    Parameters other than ``enabled`` are kept as the scenario sets them (the defaults when it
    has no ``[policies]`` section).
    """
    on = set(on)
    section = scenario.policies.model_dump(mode="json")
    for name in policy_names():
        section[name]["enabled"] = name in on
    return section


def parse_policy_names(text: str, scenario: Scenario | None = None) -> list[PolicySet]:
    """Policy sets from a comma-separated list of names.

    Names: any policy of :func:`policy_names`; ``all-single`` (each policy alone); ``package``
    (every policy on at once); ``a+b`` (those policies together); ``none`` (the baseline, always
    included first anyway). Duplicates are dropped, keeping the first.

    Args:
        text: e.g. ``"custody,liquidity_reserve,custody+liquidity_reserve,package"``.
        scenario: whose policy parameters are used (defaults when ``None``).

    Returns:
        The sets, ``none`` first. Each switches on exactly its policies and switches every other
        policy off, whatever the scenario file enables.

    Raises:
        PolicySetError: an unknown name; the message lists the known names.
    """
    scenario = scenario or Scenario()
    known = policy_names()
    combos: list[tuple[str, ...]] = []
    for item in (part.strip() for part in text.split(",")):
        if not item or item == BASELINE:
            continue
        if item == ALL_SINGLE:
            combos.extend((name,) for name in known)
            continue
        if item == PACKAGE:
            combos.append((PACKAGE,))
            continue
        parts = tuple(p.strip() for p in item.split("+"))
        for part in parts:
            if part not in known:
                raise PolicySetError(
                    f"--policies: unknown policy '{part}'"
                    + (f" in '{item}'" if part != item else "")
                    + f". Known names: {_known_names_text()}; combine policies with '+', "
                    "e.g. custody+liquidity_reserve")
        combos.append(parts)
    sets = [PolicySet(BASELINE, _switched(scenario, ()))]
    seen = {BASELINE}
    for combo in combos:
        name = "+".join(combo)
        if name in seen:
            continue
        seen.add(name)
        on = known if combo == (PACKAGE,) else combo
        sets.append(PolicySet(name, _switched(scenario, on)))
    return sets


def load_policy_file(path: str | Path, scenario: Scenario | None = None) -> list[PolicySet]:
    """Policy sets from a TOML file of ``[[set]]`` tables.

    Each table has a ``name`` and a ``policies`` sub-table shaped like a scenario's
    ``[policies]`` section; it *replaces* the scenario's section (policies it does not mention
    take their defaults, i.e. off). Example::

        [[set]]
        name = "backed fund"
        [set.policies.protection_fund]
        enabled = true
        public_backstop = true

    Args:
        path: the TOML file.
        scenario: validated against (so a bad field is reported as in a scenario file).

    Returns:
        The sets, with ``none`` (every policy off) first.

    Raises:
        PolicySetError: unreadable file, missing or duplicate names, unknown keys in a set.
        ScenarioError: a policy field that does not validate; the message names the field.
    """
    path = Path(path)
    if not path.is_file():
        raise PolicySetError(f"{path}: no such policy file"
                             + (" (it is a folder)" if path.is_dir() else ""))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise PolicySetError(f"{path}: not a valid TOML policy file ({err})") from None
    extra = sorted(set(data) - {"set"})
    if extra:
        raise PolicySetError(f"{path}: unknown key '{extra[0]}'; a policy file holds [[set]] "
                             "tables, each with a name and a policies table")
    tables = data.get("set")
    if not isinstance(tables, list) or not tables:
        raise PolicySetError(f"{path}: no [[set]] tables; each needs a name and a policies table")
    scenario = scenario or Scenario()
    sets = [PolicySet(BASELINE, _switched(scenario, ()))]
    for i, table in enumerate(tables):
        where = f"{path}: set {i + 1}"
        if not isinstance(table, dict):
            raise PolicySetError(f"{where}: expected a [[set]] table")
        unknown = sorted(set(table) - {"name", "policies"})
        if unknown:
            raise PolicySetError(f"{where}: unknown key '{unknown[0]}'. Allowed here: name, "
                                 "policies")
        name = table.get("name")
        if not isinstance(name, str) or not name.strip():
            raise PolicySetError(f"{where}: needs a name, e.g. name = \"custody\"")
        name = name.strip()
        if any(s.name == name for s in sets):
            raise PolicySetError(f"{where}: the name '{name}' is "
                                 + ("reserved for the baseline" if name == BASELINE
                                    else "used twice"))
        policies = table.get("policies", {})
        if not isinstance(policies, dict):
            raise PolicySetError(f"{where} ('{name}'): policies must be a table")
        policy_set = PolicySet(name, policies)
        scenario_for(scenario, policy_set, source=f"{path}: set '{name}'")  # validate now
        sets.append(policy_set)
    return sets


def policy_sets(spec: str, scenario: Scenario | None = None) -> list[PolicySet]:
    """Policy sets from ``--policies``: a TOML file (ends in ``.toml`` or exists) or names."""
    if spec.strip().endswith(".toml") or Path(spec).is_file():
        return load_policy_file(spec, scenario)
    return parse_policy_names(spec, scenario)


def scenario_for(scenario: Scenario, policy_set: PolicySet, seed: int | None = None,
                 source: str = "scenario") -> Scenario:
    """The scenario with its ``[policies]`` section replaced by the set's, validated.

    Raises:
        ScenarioError: the set's policies do not validate; the message names the field.
    """
    data = scenario.model_dump(mode="json")
    data["policies"] = policy_set.policies
    if seed is not None:
        data["run"]["seed"] = seed
    return validate_scenario(data, source=source)


def replication_seeds(base: int, replications: int) -> list[int]:
    """Seeds of the replications: ``base + r`` for ``r`` in ``0 .. replications - 1``.

    Every policy set uses the same list (common random numbers).
    """
    return [base + r for r in range(replications)]


# ----------------------------------------------------------------------------- running
def run_task(task: dict) -> dict:
    """Run one (set, replication) and return its summary and daily series (small, picklable).

    Top level and fed plain JSON data, so it works in ``spawn``-started worker processes.

    Args:
        task: ``set``, ``replication``, ``seed`` and ``scenario`` (the scenario as JSON data, with
            its policies and seed already set).

    Returns:
        ``set``, ``replication``, ``seed``, ``summary`` (numbers with ``None`` as NaN),
        ``series`` (name -> float array over days) and ``elapsed_seconds``.
    """
    from sim.experiments.runner import (
        run_scenario,  # lazy: the parent only needs it with --workers 1
    )

    scenario = validate_scenario(task["scenario"], source=f"set '{task['set']}'")
    result = run_scenario(scenario, progress=False)
    ts = result.timeseries
    return {
        "set": task["set"],
        "replication": task["replication"],
        "seed": task["seed"],
        "summary": {k: _number(v) for k, v in result.summary.items() if _is_number(v)},
        "series": {"day": ts["day"].to_numpy(dtype=np.int64),
                   **{name: np.asarray(f(ts), dtype=np.float64) for name, f in SERIES.items()}},
        "elapsed_seconds": result.elapsed_seconds,
    }


def _is_number(value) -> bool:
    return value is None or (isinstance(value, int | float | np.number)
                             and not isinstance(value, bool | np.bool_))


def _number(value) -> float:
    return math.nan if value is None else float(value)


@dataclass
class Comparison:
    """Everything a comparison produced.

    Attributes:
        scenario: the scenario as given (its own policies are replaced by each set's).
        sets: the policy sets, ``none`` first.
        seeds: replication seeds (the same for every set).
        runs: one row per set x replication: ``set``, ``replication``, ``seed`` and every
            numeric summary value (NaN for ``None``), sorted by set order then replication.
        series: long daily table: ``set``, ``replication``, ``day`` and the :data:`SERIES`.
        table: one row per set x outcome: ``set``, ``outcome``, ``mean``, ``diff``, ``ci_low``,
            ``ci_high``, ``n`` (see :func:`compare_outcomes`).
        workers: processes used.
        elapsed_seconds: wall time of all runs.
        run_seconds: summed run times (CPU-bound work, whatever the number of workers).
    """

    scenario: Scenario
    sets: list[PolicySet]
    seeds: list[int]
    runs: pd.DataFrame
    series: pd.DataFrame
    table: pd.DataFrame
    workers: int
    elapsed_seconds: float
    run_seconds: float

    @property
    def replications(self) -> int:
        """Replications per set."""
        return len(self.seeds)

    def rows(self) -> dict[tuple[str, str], pd.Series]:
        """The comparison table keyed by (set, outcome); each row keeps every column."""
        return {(r["set"], r["outcome"]): r for _, r in self.table.iterrows()}

    @property
    def set_names(self) -> list[str]:
        """Set names in order, ``none`` first."""
        return [s.name for s in self.sets]


def make_tasks(scenario: Scenario, sets: list[PolicySet], seeds: list[int]) -> list[dict]:
    """One task per set x replication, each with its full scenario as JSON data."""
    tasks = []
    for policy_set in sets:
        for r, seed in enumerate(seeds):
            sc = scenario_for(scenario, policy_set, seed=seed, source=f"set '{policy_set.name}'")
            tasks.append({"set": policy_set.name, "replication": r, "seed": seed,
                          "scenario": sc.model_dump(mode="json")})
    return tasks


def execute(tasks: list[dict], workers: int = 1, progress: bool = True) -> list[dict]:
    """Run the tasks, in process (``workers == 1``) or in a ``spawn`` process pool.

    The outputs come back in task order whatever order the runs finish in, so the results do not
    depend on ``workers``.
    """
    out: dict[int, dict] = {}
    # disable=None: tqdm switches itself off when stderr is not a terminal (pipes, CI, tests).
    with tqdm(total=len(tasks), unit="run", desc="compare", disable=None if progress else True,
              dynamic_ncols=True) as bar:
        if workers <= 1:
            for i, task in enumerate(tasks):
                out[i] = run_task(task)
                bar.update()
        else:
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                futures = {pool.submit(run_task, task): i for i, task in enumerate(tasks)}
                try:
                    for future in as_completed(futures):
                        out[futures[future]] = future.result()
                        bar.update()
                except BaseException:
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise
    return [out[i] for i in range(len(tasks))]


def run_comparison(scenario: Scenario, sets: list[PolicySet], replications: int,
                   seed: int | None = None, workers: int = 1,
                   progress: bool = True) -> Comparison:
    """Run every policy set ``replications`` times with common random numbers and compare.

    Args:
        scenario: validated scenario (``run.days`` as it should run).
        sets: from :func:`policy_sets`; ``none`` must be first.
        replications: runs per set (at least 1; 2 or more for confidence intervals).
        seed: base seed (default the scenario's ``run.seed``); replication ``r`` uses ``seed + r``.
        workers: processes; 1 runs in this process.
        progress: tqdm bar over all runs on stderr (only when stderr is a terminal).

    Returns:
        The comparison.

    Raises:
        ScenarioError: a set that does not validate or a model that cannot be set up.
        ValueError: ``replications`` or ``workers`` below 1, or ``none`` not first.
    """
    if replications < 1:
        raise ValueError("replications must be at least 1")
    if workers < 1:
        raise ValueError("workers must be at least 1")
    if not sets or sets[0].name != BASELINE:
        raise ValueError(f"the first policy set must be the baseline '{BASELINE}'")
    base = scenario.run.seed if seed is None else int(seed)
    seeds = replication_seeds(base, replications)
    tasks = make_tasks(scenario, sets, seeds)
    start = time.perf_counter()
    outputs = execute(tasks, workers=min(workers, len(tasks)), progress=progress)
    elapsed = time.perf_counter() - start

    runs = pd.DataFrame([{"set": o["set"], "replication": o["replication"], "seed": o["seed"],
                          **o["summary"]} for o in outputs])
    series = pd.concat([pd.DataFrame({"set": o["set"], "replication": o["replication"],
                                      **o["series"]}) for o in outputs], ignore_index=True)
    order = {s.name: i for i, s in enumerate(sets)}
    runs = runs.sort_values(["set", "replication"], key=lambda c: c.map(order)
                            if c.name == "set" else c, kind="stable").reset_index(drop=True)
    table = compare_outcomes(runs, [s.name for s in sets])
    return Comparison(scenario=scenario, sets=sets, seeds=seeds, runs=runs, series=series,
                      table=table, workers=workers, elapsed_seconds=elapsed,
                      run_seconds=float(sum(o["elapsed_seconds"] for o in outputs)))


# ----------------------------------------------------------------------------- statistics
def outcome_keys(columns: Iterable[str]) -> list[str]:
    """Outcomes to compare among ``columns``: :data:`OUTCOMES` first, then dynamic keys."""
    columns = list(columns)
    listed = [key for key, *_ in OUTCOMES if key in columns]
    extra = [c for c in columns if c.startswith(DYNAMIC_PREFIXES) and c not in listed
             and not c.startswith("failure_share_")]
    return listed + extra


def outcome_info(key: str) -> tuple[str, str, int]:
    """(label, unit kind, better direction) of an outcome, guessed for keys not listed."""
    for k, label, kind, better in OUTCOMES:
        if k == key:
            return label, kind, better
    label = key.replace("_", " ")
    if key.endswith(("_share", "_rate")):
        return label, "share", 0
    if "day" in key or "lead" in key:
        return label, "day", 0
    if key.startswith("failures_"):
        return label.replace("failures ", "failures: ", 1), "count", -1
    if key.startswith("ew_"):
        return label.replace("ew ", "early warning: ", 1), "count", 0
    if key.startswith("reserve_"):
        return label.replace("reserve ", "risk reserve: ", 1), "yuan", 0
    if any(w in key for w in ("hits", "alarms", "count", "failures")):
        return label, "count", 0
    return label, "yuan", 0


def t_quantile(n: int, confidence: float = CONFIDENCE) -> float:
    """Two-sided Student-t quantile for ``n`` observations (NaN below 2)."""
    if n < 2:
        return math.nan
    return float(stats.t.ppf(0.5 + confidence / 2, n - 1))


def mean_ci(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float, int]:
    """Mean of the finite values and its t confidence interval: (mean, low, high, n)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan, n
    half = t_quantile(n, confidence) * float(x.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half, n


def paired_difference(values: np.ndarray, baseline: np.ndarray,
                      confidence: float = CONFIDENCE) -> tuple[float, float, float, int]:
    """Mean of per-replication differences ``values - baseline`` and its t interval.

    Replications where either value is missing (NaN) are left out.

    Returns:
        (difference, ci_low, ci_high, n pairs); the interval is NaN with fewer than 2 pairs.
    """
    diff = np.asarray(values, dtype=float) - np.asarray(baseline, dtype=float)
    return mean_ci(diff, confidence)


def compare_outcomes(runs: pd.DataFrame, set_names: list[str]) -> pd.DataFrame:
    """The long comparison table.

    Args:
        runs: one row per set x replication (columns ``set``, ``replication`` and outcomes).
        set_names: set order; the first is the reference.

    Returns:
        One row per set x outcome: ``mean`` (over replications with a value), ``diff`` (paired
        mean difference from the reference), ``ci_low`` / ``ci_high`` (95% t interval of the
        difference) and ``n`` (replications paired).
    """
    reference = runs[runs["set"] == set_names[0]].set_index("replication")
    rows = []
    for name in set_names:
        group = runs[runs["set"] == name].set_index("replication")
        for key in outcome_keys(runs.columns):
            values = group[key].astype(float)
            base = reference[key].astype(float).reindex(values.index)
            finite = values.to_numpy()[np.isfinite(values.to_numpy())]
            diff, low, high, n = paired_difference(values.to_numpy(), base.to_numpy())
            rows.append({"set": name, "outcome": key,
                         "mean": float(finite.mean()) if finite.size else math.nan,
                         "diff": diff, "ci_low": low, "ci_high": high, "n": n})
    return pd.DataFrame(rows, columns=["set", "outcome", "mean", "diff", "ci_low", "ci_high", "n"])


def significant(row) -> bool:
    """True when the row's confidence interval excludes zero."""
    low, high = row["ci_low"], row["ci_high"]
    return bool(np.isfinite(low) and np.isfinite(high) and (low > 0 or high < 0))


def series_bands(series: pd.DataFrame, column: str, rolling: int = 1,
                 confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Mean and t confidence band across replications of one daily series, per set.

    Args:
        series: :attr:`Comparison.series`.
        column: one of :data:`SERIES`.
        rolling: trailing rolling mean over this many days within each run first (e.g. 7 for a
            noisy daily flow).

    Returns:
        Columns ``set``, ``day``, ``mean``, ``low``, ``high``, ``n`` (band = mean ± t·se; equal
        to the mean with one replication).
    """
    df = series[["set", "replication", "day", column]].copy()
    if rolling > 1:
        df[column] = (df.groupby(["set", "replication"], sort=False)[column]
                      .transform(lambda s: s.rolling(rolling, min_periods=1).mean()))
    grouped = df.groupby(["set", "day"], sort=False)[column]
    out = grouped.agg(mean="mean", sd="std", n="count").reset_index()
    t = out["n"].map(lambda n: t_quantile(int(n), confidence))
    half = (t * out["sd"] / np.sqrt(out["n"])).fillna(0.0)
    out["low"], out["high"] = out["mean"] - half, out["mean"] + half
    return out[["set", "day", "mean", "low", "high", "n"]]
