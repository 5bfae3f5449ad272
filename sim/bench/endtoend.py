"""The end-to-end split of ``p2psim run``: import, build, simulate, write and plot.

:func:`cli_split` starts a fresh interpreter that does what ``p2psim run`` does, one stage at a time, and prints the time of each stage as JSON:

* **import**: the modules ``p2psim run`` imports (the command line, the runner, the results
  writer), from a fresh interpreter;
* **build**: loading the scenario and constructing the model;
* **simulate**: every day of the run;
* **write**: collecting the output tables and writing them (Parquet, CSV, JSON) to a folder;
* **plot**: drawing and saving the run's charts (skipped with ``plots=False``, as
  ``p2psim run --no-plots`` does).

The parent also times the whole child process, so interpreter start-up shows as the remainder.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _stages(started: float, scenario_path: str, plots: bool,
            overrides: list[str]) -> dict[str, float]:
    """Run ``scenario_path`` (with ``key=value`` overrides) stage by stage; seconds per stage.

    ``started`` is the ``perf_counter`` reading taken before anything of ``sim`` was imported.
    """
    out: dict[str, float] = {}
    start = started
    # By name: the bench times the command line's imports, it does not use the command line
    # (which dispatches to the bench: a static import would be a cycle).
    importlib.import_module("sim.cli")
    from sim.config import load_scenario
    from sim.experiments.runner import RunResult
    from sim.model import P2PModel
    from sim.outputs import results
    out["import"] = time.perf_counter() - start

    start = time.perf_counter()
    scenario = load_scenario(scenario_path, overrides)
    model = P2PModel(scenario, seed=scenario.run.seed)
    out["build"] = time.perf_counter() - start

    start = time.perf_counter()
    model.run()
    out["simulate"] = time.perf_counter() - start

    start = time.perf_counter()
    result = RunResult(
        scenario=scenario, seed=model.seed, timeseries=model.timeseries(),
        platforms=model.platform_table(), platform_daily=model.platform_daily(),
        events=model.events_table(), cascade=model.cascade_table(), summary=model.summary(),
        elapsed_seconds=0.0)
    with tempfile.TemporaryDirectory() as folder:
        results.write_tables(result, Path(folder))
        out["write"] = time.perf_counter() - start
        if plots:
            start = time.perf_counter()
            from sim.outputs import plots as run_plots

            results.save_figures(run_plots.run_figures(result), Path(folder))
            out["plot"] = time.perf_counter() - start
    return out


def cli_split(scenario_path: str | Path, plots: bool = True,
              overrides: list[str] | None = None) -> dict[str, float]:
    """Time the stages of a run in a fresh interpreter.

    Args:
        scenario_path: the scenario file.
        plots: draw the charts too.
        overrides: ``key=value`` scenario overrides (e.g. a shorter run for a test).

    Returns:
        Seconds per stage (``import``, ``build``, ``simulate``, ``write``, ``plot``), plus
        ``total`` (the child process, start to exit) and ``startup`` (the rest: the
        interpreter's own start-up and exit).
    """
    # The clock starts before the first import of sim (which loads the configuration), as the
    # p2psim entry point's would.
    code = ("import sys, time; started = time.perf_counter(); "
            "from sim.bench.endtoend import child_main; child_main(started, sys.argv[1:])")
    cmd = [sys.executable, "-c", code, str(scenario_path), *(overrides or [])]
    if not plots:
        cmd.append("--no-plots")
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    total = time.perf_counter() - start
    stages = json.loads(done.stdout.strip().splitlines()[-1])
    stages["total"] = total
    stages["startup"] = total - sum(v for k, v in stages.items() if k != "total")
    return stages


def child_main(started: float, argv: list[str]) -> None:
    """The child's side: ``argv`` is the scenario, overrides and ``--no-plots``; prints JSON."""
    flags = argv[1:]
    print(json.dumps(_stages(started, argv[0], "--no-plots" not in flags,
                             [f for f in flags if f != "--no-plots"])))
