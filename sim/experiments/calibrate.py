"""``p2psim calibrate``: fit a scenario's free parameters to history by simulated moments.

The estimator is :mod:`sim.experiments.msm`; the moments and parameters come from the files of
:mod:`sim.experiments.moments`. The steps:

1. **First stage.** Run the scenario as it is (its parameters clipped to the bounds) ``R``
   times, replication ``r`` with seed ``base + r``, and take ``V0`` for the weighting matrix.
2. **Search.** ``scipy.optimize.differential_evolution`` (Storn & Price 1997) over the box of
   bounds, the first stage's point in the initial Latin-hypercube population, ``polish`` off.
   Why this optimizer: with common random numbers the objective is deterministic but piecewise
   constant (platforms enter and fail in whole numbers), so gradient steps and Nelder-Mead's
   small simplex moves stall on flat steps; a population search over the bounded box needs
   neither gradients nor a good start, and each generation is one batch of independent runs for
   the executor. ``updating="deferred"`` makes the proposals depend on the seed and the values
   alone, so a rerun proposes the same points.
3. **Inference** at the best point: central finite differences of the moments for ``G``, the
   sandwich standard errors and the J test (:func:`sim.experiments.msm.inference`).

**Resuming.** Every run goes through the sweep machinery: tasks to an executor
(:mod:`sim.experiments.executor`, local pool or Dask) and each finished run committed to a
:class:`sim.experiments.records.RunStore` (a :class:`sim.outputs.store.ParquetStore` on disk) as
design point ``p`` (a distinct parameter vector, numbered in the order first proposed) and
replication ``r``, with the parameter values as labels and the moments as outcomes. A calibration
started again reads its store back: a parameter vector already there is not run again, and the
optimizer, seeded and deterministic, proposes the same points, so a killed calibration resumes
and ends where an uninterrupted one would.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import differential_evolution

from sim.config import Scenario, validate_scenario
from sim.config.dotted import apply_dotted, get_dotted
from sim.experiments import identification, msm
from sim.experiments.moments import (
    CalibrationError,
    Moment,
    ParamsSpec,
    TargetsSpec,
    simulated_moments,
)
from sim.experiments.records import MemoryStore, RunRecord, RunStore, run_pending
from sim.experiments.runner import run_scenario


@dataclass
class Calibration:
    """What is calibrated: base scenario, parameters, moments, replications and seeds.

    Attributes:
        scenario: the base scenario (with any ``--set`` changes).
        params: the params file.
        targets: the targets file.
        moments: its moments.
        replications: R, runs per parameter vector.
        base_seed: replication r runs with ``base_seed + r`` at every vector.
    """

    scenario: Scenario
    params: ParamsSpec
    targets: TargetsSpec
    moments: list[Moment]
    replications: int = 2
    base_seed: int | None = None

    @property
    def seeds(self) -> list[int]:
        """The replication seeds (common random numbers)."""
        base = self.scenario.run.seed if self.base_seed is None else self.base_seed
        return [base + r for r in range(self.replications)]

    @property
    def names(self) -> list[str]:
        """Moment names, in order."""
        return [m.name for m in self.moments]

    def start(self) -> np.ndarray:
        """The scenario's own values of the parameters, clipped to their bounds."""
        data = self.scenario.model_dump(mode="json")
        values = []
        for key in self.params.keys:
            value = get_dotted(data, key)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise CalibrationError(f"param '{key}': the scenario's value {value!r} is not a "
                                       "number, so it cannot be calibrated")
            values.append(float(value))
        b = self.params.bounds
        return np.clip(np.array(values), b[:, 0], b[:, 1])

    def check(self) -> np.ndarray:
        """Validate the start and both corners of the bounds box before any run.

        Returns:
            The start (:meth:`start`).

        Raises:
            CalibrationError: a param the scenario does not have or that is not a number.
            ScenarioError: a bound the scenario's schema does not allow, naming the key.
        """
        start = self.start()
        for name, corner in (("lower", self.params.bounds[:, 0]),
                             ("upper", self.params.bounds[:, 1])):
            validate_scenario(self.scenario_data(corner), source=f"params: {name} bounds")
        return start

    def scenario_data(self, theta: np.ndarray) -> dict:
        """The base scenario's data with the parameters set to ``theta``."""
        values = {k: float(v) for k, v in zip(self.params.keys, theta, strict=True)}
        return apply_dotted(self.scenario.model_dump(mode="json"), values)

    def fingerprint(self) -> str:
        """sha256 of what the runs are: base scenario, keys, moments and seeds."""
        identity = {"scenario": self.scenario.model_dump(mode="json"),
                    "keys": self.params.keys, "moments": [m.plain() for m in self.moments],
                    "seeds": self.seeds}
        return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()
                              ).hexdigest()


def run_moments(task: dict) -> RunRecord:
    """Run one (parameter vector, replication) and return its moments (top level for workers).

    Args:
        task: ``point``, ``replication``, ``seed``, ``labels`` (parameter values by key),
            ``scenario`` (JSON data) and ``moments`` (:meth:`Moment.plain` each).

    Returns:
        The run, the moments as its outcomes.
    """
    scenario = validate_scenario(task["scenario"], source=f"calibration point {task['point']}")
    result = run_scenario(scenario, progress=False)
    return RunRecord(point=task["point"], replication=task["replication"], seed=task["seed"],
                     labels=dict(task["labels"]),
                     outcomes=simulated_moments(result, task["moments"]),
                     run_seconds=result.elapsed_seconds)


class _Recording:
    """A store wrapper that also keeps each committed record's moments in memory."""

    def __init__(self, store: RunStore, sink: dict) -> None:
        self.store, self.sink = store, sink

    def done(self) -> set[tuple[int, int]]:
        return self.store.done()

    def commit(self, record: RunRecord) -> None:
        self.store.commit(record)
        self.sink[record.key] = record.outcomes


@dataclass
class Evaluator:
    """Moments at parameter vectors, through the executor and the store (see the module doc).

    Attributes:
        calibration: what is calibrated.
        store: where runs are committed (and read back from on a resume).
        executor: an entered executor, or ``None`` to run in this process.
        progress: tqdm bars.
        ran: runs done now; resumed: runs read back from the store.
        log: one row per distinct vector evaluated: point, values, objective (filled later).
    """

    calibration: Calibration
    store: RunStore
    executor: object = None
    progress: bool = False
    ran: int = 0
    resumed: int = 0
    seconds: float = 0.0
    points: dict[tuple, int] = field(default_factory=dict)
    values: dict[tuple[int, int], dict] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        keys = self.calibration.params.keys
        runs = self.store.runs()
        for row in runs.to_dict("records"):
            self.points.setdefault(tuple(float(row[k]) for k in keys), int(row["point"]))
            self.values[(int(row["point"]), int(row["replication"]))] = {
                n: row.get(n, math.nan) for n in self.calibration.names}
        self._stored = set(self.values)

    def _point(self, theta: np.ndarray) -> int:
        key = tuple(float(x) for x in theta)
        if key not in self.points:
            self.points[key] = max(self.points.values(), default=-1) + 1
        return self.points[key]

    def evaluate(self, thetas: list[np.ndarray]) -> list[np.ndarray]:
        """R x m moments at each vector: read back where stored, else run (one batch).

        Args:
            thetas: parameter vectors.

        Returns:
            One R x m array per vector.
        """
        cal = self.calibration
        moments = [m.plain() for m in cal.moments]
        tasks, wanted = [], []
        for theta in thetas:
            point = self._point(theta)
            wanted.append(point)
            if point not in self.order:
                self.order.append(point)
            labels = {k: float(v) for k, v in zip(cal.params.keys, theta, strict=True)}
            for r, seed in enumerate(cal.seeds):
                if (point, r) in self.values or any(
                        t["point"] == point and t["replication"] == r for t in tasks):
                    continue
                data = cal.scenario_data(theta)
                data["run"]["seed"] = seed
                tasks.append({"point": point, "replication": r, "seed": seed,
                              "labels": labels, "scenario": data, "moments": moments})
        hits = {(p, r) for p in set(wanted) for r in range(cal.replications)} & self._stored
        self.resumed += len(hits)
        self._stored -= hits  # count a stored run as resumed once
        if tasks:
            start = time.perf_counter()
            done = run_pending(run_moments, tasks, _Recording(self.store, self.values),
                               executor=self.executor, progress=self.progress,
                               desc="calibrate")
            self.ran += done.ran
            self.seconds += time.perf_counter() - start
        return [self.runs_at(p) for p in wanted]

    def runs_at(self, point: int) -> np.ndarray:
        """R x m moments of a stored point."""
        names = self.calibration.names
        return np.array([[self.values[(point, r)].get(n, math.nan) for n in names]
                         for r in range(self.calibration.replications)], dtype=float)


@dataclass
class CalibrationResult:
    """A finished calibration (every array in the order of the params and moments files).

    Attributes:
        calibration: what was calibrated.
        theta: fitted parameters; start: the first stage's point.
        inference: standard errors and the J test.
        weighting: W; variance: V at the estimate.
        runs: R x m moments at the estimate; start_runs: at the start.
        jacobian: G (m x k).
        evaluations: one row per distinct vector of the search (order, point, values, Q).
        convergence: one row per generation: evaluations so far and best Q.
        optimizer: scipy's message, generations and stop reason.
        ran, resumed: runs done now and read back from the store; seconds: wall time.
        identification: one verdict per parameter (:mod:`sim.experiments.identification`);
        local: the Jacobian's effects in sd units; morris: the Morris indices, if asked.
    """

    calibration: Calibration
    theta: np.ndarray
    start: np.ndarray
    inference: msm.Inference
    weighting: np.ndarray
    variance: np.ndarray
    runs: np.ndarray
    start_runs: np.ndarray
    jacobian: np.ndarray
    evaluations: pd.DataFrame
    convergence: pd.DataFrame
    optimizer: dict
    ran: int
    resumed: int
    seconds: float
    identification: pd.DataFrame = field(default_factory=pd.DataFrame)
    local: pd.DataFrame = field(default_factory=pd.DataFrame)
    morris: pd.DataFrame | None = None

    @property
    def objective(self) -> float:
        """Q at the estimate."""
        return msm.objective(self.runs.mean(axis=0) - self.targets, self.weighting)

    @property
    def targets(self) -> np.ndarray:
        """The target values."""
        return np.array([m.target for m in self.calibration.moments])

    def params_table(self) -> pd.DataFrame:
        """key, low, high, start, estimate, se, 95% interval (estimate +- 1.96 se)."""
        b = self.calibration.params.bounds
        se = self.inference.se
        return pd.DataFrame({"key": self.calibration.params.keys, "low": b[:, 0],
                             "high": b[:, 1], "start": self.start, "estimate": self.theta,
                             "se": se, "ci_low": self.theta - 1.96 * se,
                             "ci_high": self.theta + 1.96 * se})

    def moments_table(self) -> pd.DataFrame:
        """Every moment: target and sd, simulated mean and 95% interval over replications."""
        rows = []
        for i, m in enumerate(self.calibration.moments):
            sims, start = self.runs[:, i], self.start_runs[:, i]
            rows.append({"moment": m.name, "quantity": m.quantity, "year": m.year,
                         "unit": m.unit, "target": m.target, "target_sd": m.sd,
                         "weight": float(self.weighting[i, i]),
                         "simulated": float(np.mean(sims)),
                         "sim_low": float(np.quantile(sims, 0.025)),
                         "sim_high": float(np.quantile(sims, 0.975)),
                         "start_simulated": float(np.mean(start)),
                         "t": float((np.mean(sims) - m.target) / math.sqrt(self.variance[i, i]))})
        return pd.DataFrame(rows)


def calibrate(cal: Calibration, store: RunStore | None = None, executor=None,
              maxiter: int | None = None, budget: int | None = None,
              progress: bool = False, identify: int = 0) -> CalibrationResult:
    """Estimate the parameters (see the module doc for the steps).

    Args:
        cal: what to calibrate.
        store: where runs go (a ParquetStore makes it resumable); default in memory.
        executor: an entered executor; default this process.
        maxiter: generations of the search (default the params file's).
        budget: stop the search after this many distinct parameter vectors (default none).
        progress: tqdm bars on stderr.
        identify: Morris trajectories of the identification screen (0: none; each costs
            ``(k + 1) * R`` runs).

    Returns:
        The result.
    """
    store = MemoryStore() if store is None else store
    ev = Evaluator(cal, store, executor, progress)
    search, bounds = cal.params.search, cal.params.bounds
    targets = np.array([m.target for m in cal.moments])
    sd = np.array([m.sd for m in cal.moments])
    weights = np.array([m.weight for m in cal.moments])
    start = cal.start()
    start_runs = ev.evaluate([start])[0]
    weighting = msm.weighting_matrix(cal.targets.weighting, msm.moment_variance(start_runs, sd),
                                     weights)
    log: list[dict] = []

    def q_of(runs: np.ndarray) -> float:
        return msm.objective(runs.mean(axis=0) - targets, weighting)

    def batch(function, thetas) -> list[float]:
        thetas = [np.asarray(t, dtype=float) for t in thetas]
        for theta, runs in zip(thetas, ev.evaluate(thetas), strict=True):
            log.append({"evaluation": len(log), "point": ev.points[tuple(map(float, theta))],
                        **dict(zip(cal.params.keys, theta.tolist(), strict=True)),
                        "objective": q_of(runs)})
        return [function(t) for t in thetas]

    def fun(theta: np.ndarray) -> float:
        return q_of(ev.evaluate([np.asarray(theta, dtype=float)])[0])

    generations: list[dict] = []

    # scipy passes an OptimizeResult only to a parameter named intermediate_result.
    def callback(intermediate_result) -> bool:
        generations.append({"generation": len(generations), "evaluations": len(log),
                            "best_objective": float(intermediate_result.fun)})
        return budget is not None and len(log) >= budget

    k = len(cal.params.params)
    opt = differential_evolution(
        fun, bounds=[tuple(b) for b in bounds], x0=start, popsize=search.popsize,
        maxiter=search.maxiter if maxiter is None else maxiter, rng=search.seed, polish=False,
        init="latinhypercube", updating="deferred", workers=batch, callback=callback)
    theta = np.asarray(opt.x, dtype=float)
    # Central differences (one-sided at a bound), all 2k points in one batch on the same seeds.
    h = search.jacobian_step * (bounds[:, 1] - bounds[:, 0])
    lower = [np.where(np.arange(k) == j, np.maximum(theta - h, bounds[:, 0]), theta)
             for j in range(k)]
    upper = [np.where(np.arange(k) == j, np.minimum(theta + h, bounds[:, 1]), theta)
             for j in range(k)]
    at = ev.evaluate([theta, *lower, *upper])
    runs = at[0]
    minus = np.array([r.mean(axis=0) for r in at[1:k + 1]])
    plus = np.array([r.mean(axis=0) for r in at[k + 1:]])
    steps = np.array([upper[j][j] - lower[j][j] for j in range(k)])
    g = msm.jacobian(minus, plus, steps)
    variance = msm.moment_variance(runs, sd)
    inf = msm.inference(runs.mean(axis=0) - targets, g, weighting, variance, seed=search.seed)
    sd_v = np.sqrt(np.diag(variance))
    local = identification.local_table(g, bounds, cal.params.keys, cal.names, sd_v)
    morris = None
    if identify > 0:
        points = identification.morris_points(bounds, cal.params.keys, identify, search.seed)
        means = np.array([r.mean(axis=0) for r in ev.evaluate(list(points))])
        morris = identification.morris_table(bounds, cal.params.keys, points, means, cal.names,
                                             sd_v, search.seed)
    verdicts = identification.verdicts(morris, local, inf.se, bounds, cal.params.keys)
    return CalibrationResult(
        calibration=cal, theta=theta, start=start, inference=inf, weighting=weighting,
        variance=variance, runs=runs, start_runs=start_runs, jacobian=g,
        evaluations=pd.DataFrame(log), convergence=pd.DataFrame(generations),
        optimizer={"method": "scipy.optimize.differential_evolution", "message": opt.message,
                   "generations": int(opt.nit), "evaluations": len(log), "popsize": search.popsize,
                   "seed": search.seed, "polish": False, "updating": "deferred"},
        ran=ev.ran, resumed=ev.resumed, seconds=ev.seconds, identification=verdicts,
        local=local, morris=morris)


__all__ = ["Calibration", "CalibrationResult", "Evaluator", "calibrate", "run_moments"]
