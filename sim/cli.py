"""The ``p2psim`` command: run, compare, sweep, calibrate, validate, scenarios, schema, bench, app.

A bad scenario file, ``--set`` override or ``--out`` target prints one ``error:`` message on
stderr and exits with code 2 (like an argparse usage error), never with a traceback. Ctrl-C exits
with 130, SIGTERM with 143, each with a message. This is the only module that prints; files are
written by :mod:`sim.outputs.results`.

Errors come fast: every command validates its scenario (the schema and the cross-field checks),
estimates its memory and checks its ``--out`` target before it imports the model, pandas or
matplotlib, which take seconds to load.
"""

from __future__ import annotations

import argparse
import contextlib
import numbers
import os
import signal
import sys
from pathlib import Path

from sim import shipped
from sim.config import ScenarioError, json_schema, load_scenario
from sim.config.checks import scenario_warnings
from sim.config.memory import check_memory
from sim.outputs.formatting import full, full_unit, heading, interval, short
from sim.vocabulary import HEADLINE_OUTCOMES, Unit, outcome
from sim.vocabulary import outcomes as registered_outcomes

DEFAULT_SCENARIO = shipped.DEFAULT  # a shipped scenario's name: found from any folder
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143
DEFAULT_ROOT = Path("runs")  # where results go without --out (sim.outputs.results.DEFAULT_ROOT)

# The run summary table: which outcomes, in which order, at which depth (sub-rows are indented
# under the row they break down). Labels and units come from the outcome registry.
SUMMARY_LAYOUT: list[tuple[str, int]] = [
    # platforms (ever) = operating at end + failures + exits: each platform is on one line.
    ("days", 0), ("platforms_ever", 0), ("platforms_operating_end", 0),
    ("platforms_open_end", 1),
    ("failures", 0),
    *[(f"failures_{c}", 1) for c in ("run", "insolvency", "absconding", "regulatory_closure",
                                     "supervisory_winddown")],
    ("exits", 0),
    *[(f"exits_{c}", 1) for c in ("orderly_exit", "regulatory_closure", "supervisory_winddown")],
    ("first_failure_day", 0), ("cascade_size", 0),
    ("investor_losses", 0), ("investor_loss_share", 1), ("investor_losses_written_off", 1),
    ("investor_losses_pending", 1), ("investor_losses_gross", 1),
    ("protection_payouts", 0),
    ("investors_with_loss", 0), ("investors_with_loss_share", 1),
    ("credit_supplied", 0), ("borrower_interest_paid", 0), ("loan_defaults", 0), ("stolen", 0),
    ("peak_daily_outflow", 0), ("peak_unpaid_backlog", 0), ("final_investor_claims", 0),
    ("mean_promised_rate_end", 0),
    ("contagion_multiplier", 0), ("failures_direct", 1), ("failures_by_contagion", 1),
    *[(f"failures_via_{c}", 2) for c in ("information", "herding", "shared_investors",
                                         "common_borrowers", "fire_sales", "shared_guarantors")],
    ("failures_via_own", 1), ("failures_via_none", 1), ("failures_via_shock", 1),
    ("days_shock_to_peak_outflow", 0),
    *[(f"failure_share_{c}", 0) for c in ("run", "insolvency", "absconding", "regulatory_closure",
                                          "supervisory_winddown", "orderly_exit")],
]
INDENT = "  "


class UsageError(Exception):
    """A user mistake outside the scenario (e.g. a bad ``--out``); printed like a ScenarioError."""


class Terminated(BaseException):
    """SIGTERM arrived: unwind like Ctrl-C (staging folders removed), then exit 143."""


def scenario_path(name: str) -> str:
    """A scenario argument as a file: a shipped scenario's name, or the path as given.

    A path that exists wins, so a local ``baseline.toml`` is read rather than the shipped one.
    """
    if Path(name).exists() or os.sep in name:
        return name
    found = shipped.resolve(name)
    return str(found) if found.is_file() else name


def _load(path: str, overrides: list[str], copies: int = 1):
    """Load and validate a scenario, print its warnings and check it fits in memory."""
    path = scenario_path(path)
    scenario = load_scenario(path, overrides)
    for warning in scenario_warnings(scenario):
        print(f"warning: {path}: {warning}", file=sys.stderr)
    check_memory(scenario, path, copies)
    return scenario, path


def _check_out(args: argparse.Namespace, kind: str) -> None:
    """Refuse a bad ``--out`` (or an unwritable ``runs/``) before any work is done."""
    from sim.outputs import folders  # light: no pandas, no matplotlib

    try:
        if args.out:
            folders.check_out_dir(args.out, kind, args.overwrite)
        else:
            folders.check_writable((DEFAULT_ROOT / "new").absolute())
    except folders.OutputError as err:
        raise UsageError(str(err)) from None


# ----------------------------------------------------------------------------- tables
def _summary_row(key: str, value, depth: int = 0, unit: Unit | None = None) -> tuple[str, str]:
    """(label, value text) of one summary row; label and unit from the outcome registry."""
    item = outcome(key)
    unit = item.unit if unit is None else unit
    return INDENT * depth + heading(item.label, full_unit(unit)), full(value, unit)


def summary_table(summary: dict) -> str:
    """Plain aligned two-column table (outcome, value) of a run's summary.

    The outcomes of :data:`SUMMARY_LAYOUT` come first; every other number the summary holds
    follows, except those that stayed zero or empty (mostly policies that were off).

    Args:
        summary: a run's summary (values may be numpy scalars, NaN or ``None``).

    Returns:
        The table as text, without a trailing newline.
    """
    rows = [_summary_row(key, summary[key], depth)
            for key, depth in SUMMARY_LAYOUT if key in summary]
    laid_out = {key for key, _ in SUMMARY_LAYOUT}
    registered = {o.key for o in registered_outcomes()}
    for key in sorted(set(summary) - laid_out):
        value = summary[key]
        # Lists, strings and tables are not for this table.
        if isinstance(value, numbers.Real) and value != 0:
            # An integer the registry does not know yet is a count, whatever its name suggests.
            unit = (Unit.COUNT if key not in registered and isinstance(value, numbers.Integral)
                    else None)
            rows.append(_summary_row(key, value, unit=unit))
    label_width = max(len("outcome"), *(len(label) for label, _ in rows))
    value_width = max(len("value"), *(len(text) for _, text in rows))
    lines = [f"{'outcome':<{label_width}}  {'value':>{value_width}}",
             f"{'-' * label_width}  {'-' * value_width}"]
    lines += [f"{label:<{label_width}}  {text:>{value_width}}" for label, text in rows]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- commands
def _overrides(args: argparse.Namespace) -> list[str]:
    """``--set`` values plus the shortcut flags, as overrides validated with the file."""
    sets = list(args.set or [])
    if getattr(args, "steps", None) is not None:
        sets.append(f"run.days={args.steps}")
    if getattr(args, "seed", None) is not None:
        sets.append(f"run.seed={args.seed}")
    if getattr(args, "check", False):
        sets.append("run.check_invariants=true")
    return sets


def cmd_run(args: argparse.Namespace) -> int:
    """Run a scenario, write its folder, print the summary table and the folder path."""
    scenario, path = _load(args.scenario, _overrides(args))
    _check_out(args, "run")  # before a run that may take minutes, not after it
    # Imported only now, so bad input is refused without paying for matplotlib.
    from sim.experiments.runner import run_scenario
    from sim.outputs import results

    try:
        try:
            result = run_scenario(scenario, progress=not args.no_progress)
        except ScenarioError as err:  # found while setting up the model: say which file
            raise ScenarioError(f"{path}: {err}") from None
        folder = results.write_run(result, args.out, overwrite=args.overwrite,
                                   plots=not args.no_plots)
    except results.OutputError as err:
        raise UsageError(str(err)) from None
    print(f"{scenario.name}: {result.days:,} days, seed {result.seed}, "
          f"{result.elapsed_seconds:.1f} s")
    print()
    print(summary_table(result.summary))
    print()
    print(f"results: {folder}")
    return EXIT_OK


def comparison_table(comp, outcomes: list[str] | None = None) -> str:
    """Plain text blocks, one per outcome: each set's mean, Δ from none and 95% CI.

    ``*`` marks a difference whose confidence interval excludes zero.

    Args:
        comp: a :class:`sim.experiments.compare.Comparison`.
        outcomes: outcome keys; default the headline outcomes the comparison has.

    Returns:
        The blocks as text, separated by blank lines.
    """
    # Lazy, like the commands' imports: analysis pulls in scipy, which validate and schema and
    # their error paths never need.
    from sim.experiments.analysis import significant, zero_variance
    from sim.experiments.policy_sets import BASELINE

    outcomes = outcomes or [o for o in HEADLINE_OUTCOMES if o in set(comp.table["outcome"])]
    table = comp.rows()
    width = max(len("policy set"), *(len(n) for n in comp.set_names))
    blocks = []
    for key in outcomes:
        item = outcome(key)
        rows = []
        for name in comp.set_names:
            row = table[(name, key)]
            mean = short(row["mean"], item.unit)
            if name == BASELINE:
                rows.append((name, mean, "reference", ""))
                continue
            diff = short(row["diff"], item.unit, signed=True)
            ci = interval(row["ci_low"], row["ci_high"], item.unit)
            mark = "*" if significant(row) else "=" if zero_variance(row) else ""
            rows.append((name, mean, diff + mark, ci))
        w = [width, *(max(len(h), *(len(r[i]) for r in rows))
                      for i, h in ((1, "mean"), (2, "diff vs none"), (3, "95% CI of diff")))]
        lines = [item.label,
                 f"  {'policy set':<{w[0]}}  {'mean':>{w[1]}}  {'diff vs none':>{w[2]}}  "
                 f"{'95% CI of diff':>{w[3]}}"]
        lines += [f"  {a:<{w[0]}}  {b:>{w[1]}}  {c:>{w[2]}}  {d:>{w[3]}}" for a, b, c, d in rows]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def cmd_compare(args: argparse.Namespace) -> int:
    """Run every policy set with common random numbers, write the report folder, print a table."""
    if args.replications < 1:
        raise UsageError(f"--replications {args.replications}: must be at least 1")
    _check_workers(args)
    if not args.policies.strip(" ,"):
        raise UsageError("--policies '': name at least one policy (e.g. --policies "
                         "protection_fund), 'all-single', 'package' or a TOML file of sets")
    sets_ = list(args.set or [])
    if args.steps is not None:
        sets_.append(f"run.days={args.steps}")
    scenario, path = _load(args.scenario, sets_, copies=workers_used(args.workers, args.workers))
    _check_out(args, "compare")
    from sim.experiments import compare, policy_sets
    from sim.experiments.executor import ExecutorError
    from sim.experiments.records import experiment_fingerprint
    from sim.outputs import results
    from sim.outputs.store import ParquetStore, default_store

    sets = policy_sets.policy_sets(args.policies, scenario)
    base = scenario.run.seed if args.seed is None else args.seed
    tasks = compare.make_tasks(scenario, sets,
                               policy_sets.replication_seeds(base, args.replications))
    experiment = experiment_fingerprint("comparison", tasks)
    try:
        store_dir = args.store or default_store("compare", scenario.name, experiment, args.out)
        with _executor(args, len(tasks)) as ex, ParquetStore(
                store_dir, "comparison", experiment,
                {"scenario": scenario.name, "policy_sets": [s.name for s in sets],
                 "seeds": {"base": base, "replications": args.replications,
                           "rule": "replication r uses base + r in every policy set"}}) as store:
            try:
                comp = compare.run_comparison(scenario, sets, args.replications, seed=args.seed,
                                              workers=workers_used(args.workers, len(tasks)),
                                              progress=not args.no_progress,
                                              store=store, executor=ex)
            except ScenarioError as err:  # found while setting up a model: say which file
                raise ScenarioError(f"{path}: {err}") from None
        folder = results.write_comparison(comp, args.out, overwrite=args.overwrite)
    except (results.OutputError, ExecutorError) as err:
        raise UsageError(str(err)) from None
    runs = len(sets) * comp.replications
    print(f"{scenario.name}: {len(sets)} policy sets x {comp.replications} replications "
          f"= {runs} runs of {scenario.run.days:,} days, seeds {comp.seeds[0]}"
          f"{'' if comp.replications == 1 else f'..{comp.seeds[-1]}'}, "
          f"{comp.elapsed_seconds:.1f} s with {comp.workers} worker"
          f"{'s' if comp.workers != 1 else ''}"
          f"{f' ({args.workers} requested)' if comp.workers != args.workers else ''}")
    print()
    print(comparison_table(comp))
    print()
    print("* the 95% confidence interval of the paired difference excludes zero")
    from sim.experiments.analysis import zero_variance

    if any(zero_variance(row) for _, row in comp.table.iterrows()):
        print("= the same difference in every replication: a t interval needs variation, so "
              "no star")
    if comp.replications < 5:
        print(f"n = {comp.replications} replications is small: intervals are wide and "
              "fragile; use --replications 5 or more for conclusions")
    print(f"store: {store_dir} (runs are kept; the same command resumes or reuses them)")
    print(f"results: {folder}")
    return EXIT_OK


def _check_workers(args: argparse.Namespace) -> None:
    """Refuse bad ``--workers``, ``--dask-workers``, ``--chunk`` before any work."""
    if args.workers < 1:
        raise UsageError(f"--workers {args.workers}: must be at least 1")
    if args.dask_workers is not None and args.dask_workers < 1:
        raise UsageError(f"--dask-workers {args.dask_workers}: must be at least 1")
    if getattr(args, "chunk", 1) < 1:
        raise UsageError(f"--chunk {args.chunk}: must be at least 1")
    if args.scheduler is not None and args.dask_workers is not None:
        raise UsageError("give --scheduler or --dask-workers, not both")


def workers_used(requested: int, tasks: int) -> int:
    """Local processes worth starting: no more than the tasks, nor than the CPUs."""
    return max(1, min(requested, tasks, os.cpu_count() or 1))


def _executor(args: argparse.Namespace, tasks: int):
    """The executor ``--workers``, ``--scheduler``, ``--dask-workers`` and ``--chunk`` ask for.

    ``--workers`` is capped by :func:`workers_used`, and the summary line reports the cap.
    """
    from sim.experiments.executor import make_executor

    _check_workers(args)
    return make_executor(workers_used(args.workers, tasks), args.scheduler, args.dask_workers,
                         getattr(args, "chunk", 1))


def index_table(data) -> str:
    """The sweep's sensitivity indices as plain aligned text.

    Args:
        data: a :class:`sim.outputs.sweep_report.SweepReportData`.

    Returns:
        The table, or a line saying no outcome could be analysed.
    """
    from sim.outputs.sweep_report import index_rows

    head, rows = index_rows(data)
    if not rows:
        return "no outcome could be analysed"
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run a sweep file into its store, analyse it and write the report folder."""
    _check_workers(args)
    _check_out(args, "sweep")
    from sim.experiments import sensitivity
    from sim.experiments.executor import ExecutorError
    from sim.experiments.sweep import load_sweep, run_sweep
    from sim.outputs import results
    from sim.outputs.store import ParquetStore, default_store
    from sim.outputs.sweep_report import SweepReportData

    overrides = list(args.set or [])
    if args.steps is not None:
        overrides.append(f"run.days={args.steps}")
    sweep = load_sweep(args.sweep, overrides)  # every design point validated here
    check_memory(sweep.scenario, args.sweep, workers_used(args.workers, sweep.runs))
    spec = sweep.spec
    print(f"{spec.name}: {spec.design.method} design, {len(sweep.points):,} points x "
          f"{spec.replications} replication{'s' if spec.replications != 1 else ''} = "
          f"{sweep.runs:,} runs of {sweep.scenario.name} ({sweep.scenario.run.days:,} days), "
          f"seeds {sweep.seeds[0]}{'' if len(sweep.seeds) == 1 else f'..{sweep.seeds[-1]}'}")
    if args.dry_run:
        return EXIT_OK
    try:
        store_dir = args.store or default_store("sweep", spec.name, sweep.fingerprint(), args.out)
        with _executor(args, sweep.runs) as ex, ParquetStore(
                store_dir, "sweep", sweep.fingerprint(),
                {"sweep": spec.model_dump(mode="json"), "design_points": len(sweep.points),
                 "runs": sweep.runs, "seeds": {"replications": sweep.seeds,
                                               "rule": "replication r uses base + r"}}) as store:
            result = run_sweep(sweep, store=store, executor=ex, progress=not args.no_progress)
        table, missing = sensitivity.indices(result)
        analysed = [k for k in spec.outcomes if k in set(table["outcome"])]
        means = {k: result.point_means(k) for k in spec.outcomes if k in result.runs}
        data = SweepReportData(result=result, indices=table, missing=missing,
                               means=pd_frame(means), store=Path(store_dir))
        folder = results.write_sweep(data, Path(args.sweep).read_text(encoding="utf-8"),
                                     args.out, overwrite=args.overwrite)
    except (results.OutputError, ExecutorError) as err:
        raise UsageError(str(err)) from None
    progress = result.progress
    for warning in progress.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{progress.ran:,} runs now, {progress.skipped:,} resumed from the store; "
          f"{progress.elapsed_seconds:,.1f} s on {progress.executor} with {progress.workers} "
          f"worker{'s' if progress.workers != 1 else ''}")
    print()
    print(index_table(data))
    if len(analysed) < len(spec.outcomes):
        print(f"not analysed (missing at some design points): "
              f"{', '.join(k for k in spec.outcomes if k not in analysed)}")
    print()
    print(f"store: {store_dir}")
    print(f"results: {folder}")
    return EXIT_OK


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Fit a scenario's parameters to targets by simulated moments and write the folder."""
    _check_workers(args)
    if args.replications < 1:
        raise UsageError(f"--replications {args.replications}: must be at least 1")
    if args.identify < 0:
        raise UsageError(f"--identify {args.identify}: must be 0 or more")
    for flag in ("maxiter", "budget"):
        value = getattr(args, flag)
        if value is not None and value < (0 if flag == "maxiter" else 1):
            raise UsageError(f"--{flag} {value}: must be at least {0 if flag == 'maxiter' else 1}")
    overrides = list(args.set or [])
    if args.steps is not None:
        overrides.append(f"run.days={args.steps}")
    _check_out(args, "calibration")
    scenario, scenario_file = _load(args.scenario, overrides, workers_used(args.workers, 2))
    if scenario.history is None:
        raise UsageError(f"{args.scenario}: has no [history] table (start date and sampling "
                         "ratio), so its runs cannot be held against yearly targets")
    # Heavy imports only once the command line, the scenario and --out are known to be good.
    from sim.experiments.calibrate import Calibration, calibrate
    from sim.experiments.executor import ExecutorError
    from sim.experiments.moments import load_params, load_targets
    from sim.outputs import calibration_report, results
    from sim.outputs.store import ParquetStore, default_store

    spec, moments, _ = load_targets(args.targets)
    params = load_params(args.params)
    cal = Calibration(scenario, params, spec, moments, replications=args.replications,
                      base_seed=args.seed)
    cal.check()  # a missing key or a bound out of the schema is reported before any run
    k, m = len(params.params), len(moments)
    print(f"{scenario.name}: {k} parameters, {m} moments, {args.replications} replication"
          f"{'s' if args.replications != 1 else ''} per point (seeds {cal.seeds[0]}"
          f"{'' if len(cal.seeds) == 1 else f'..{cal.seeds[-1]}'}), differential evolution "
          f"(population {params.search.popsize * k}, seed {params.search.seed})")
    try:
        store_dir = args.store or default_store("calibration", scenario.name, cal.fingerprint(),
                                                args.out)
        # A generation of the search is the largest batch of runs handed out at once.
        generation_runs = params.search.popsize * k * args.replications
        with _executor(args, generation_runs) as ex, ParquetStore(
                store_dir, "calibration", cal.fingerprint(),
                {"params": params.model_dump(mode="json"), "moments": [x.plain() for x in moments],
                 "seeds": {"replications": cal.seeds, "rule": "replication r uses base + r"}}
        ) as store:
            result = calibrate(cal, store=store, executor=ex, maxiter=args.maxiter,
                               budget=args.budget, progress=not args.no_progress,
                               identify=args.identify)
        inputs = {"targets.toml": Path(args.targets).read_text(encoding="utf-8"),
                  "params.toml": Path(args.params).read_text(encoding="utf-8"),
                  "scenario.toml": Path(scenario_file).read_text(encoding="utf-8")}
        folder = results.write_calibration(result, inputs, store_dir, args.out,
                                           overwrite=args.overwrite)
    except (results.OutputError, ExecutorError) as err:
        raise UsageError(str(err)) from None
    print(f"{result.ran:,} runs now, {result.resumed:,} read back from the store; "
          f"{result.seconds:,.1f} s of runs")
    print()
    print(calibration_report.params_text(result))
    print()
    print(calibration_report.test_text(result))
    print()
    print(calibration_report.identification_text(result))
    print()
    print(f"store: {store_dir}")
    print(f"results: {folder}")
    return EXIT_OK


def pd_frame(columns: dict):
    """A DataFrame of equal-length columns (keeps pandas out of the module's import time)."""
    import pandas as pd

    return pd.DataFrame(columns)


def cmd_validate(args: argparse.Namespace) -> int:
    """Check a scenario file (and overrides) without running it: every check ``run`` makes."""
    s, _ = _load(args.scenario, _overrides(args))
    platforms = s.platforms.count + len(s.platforms.custom)
    count = len(s.shocks)
    shocks = f", {count} shock{'' if count == 1 else 's'}" if count else ""
    print(f"OK: {s.name} ({s.run.days} days, {platforms} platforms, {s.investors.count} "
          f"investors, {s.borrowers.count} borrowers{shocks})")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    """Print the scenario JSON Schema, or write it to ``--out``."""
    text = json_schema()
    if args.out:
        if not _is_schema_file(Path(args.out)):
            raise UsageError(f"--out {args.out}: exists and is not a p2psim scenario schema; "
                             "refusing to overwrite it. Choose a new file name.")
        from sim.outputs import results

        try:
            print(f"wrote {results.write_text(args.out, text)}")
        except results.OutputError as err:
            raise UsageError(str(err)) from None
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _is_schema_file(path: Path) -> bool:
    """Whether ``path`` is missing, or holds a scenario schema p2psim wrote (so may be replaced)."""
    import json

    if not path.is_file():
        return True  # new (or a folder: the writer says so)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("title") == "Scenario" and "$defs" in data


def _app_scenario(name: str | None) -> tuple[str, str]:
    """(TOML text, name) of ``p2psim app``'s scenario: a shipped name or a file, validated."""
    from sim.app.sources import shipped_scenarios

    if name is None:
        return "", "lesson"
    known = shipped_scenarios()
    path = str(known.get(name, name))
    _load(path, [])  # the same checks and messages as p2psim run
    return Path(path).read_text(encoding="utf-8"), Path(path).name


def cmd_app(args: argparse.Namespace) -> int:
    """Serve the teaching app on localhost (or ``--host``) until Ctrl-C."""
    from sim.app import launch

    problem = launch.missing_extra()
    if problem:
        raise UsageError(problem)
    text, name = _app_scenario(args.scenario)
    from sim.app.model import ClassroomModel  # builds it once: set-up errors show here

    label = ClassroomModel(text, source=name).config.name
    server = launch.start(text, name, args.host, args.port)
    print(f"p2psim app: {label} at {launch.url(args.host, args.port)} "
          f"(open it in a browser; Ctrl-C stops the app)", flush=True)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return server.wait()
    except KeyboardInterrupt:
        return EXIT_OK
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=10)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def cmd_scenarios(args: argparse.Namespace) -> int:
    """List the shipped scenarios, or copy one out to edit (``--copy NAME``)."""
    from sim.app.sources import shipped_scenarios

    known = shipped_scenarios(shipped.folder())
    if args.copy is None:
        for name, path in known.items():
            print(f"{name:<22} {_first_comment(path)}")
        print(f"\n{len(known)} shipped scenarios in {shipped.folder()}; run one by name "
              "(p2psim run stress_2018) or copy it to edit (p2psim scenarios --copy NAME)")
        return EXIT_OK
    if args.copy not in known:
        raise UsageError(f"--copy {args.copy}: no shipped scenario of that name; choose one of: "
                         f"{', '.join(known)}")
    target = Path(args.to or f"{args.copy}.toml")
    if target.is_dir():
        target = target / f"{args.copy}.toml"
    if target.exists():  # never overwrite a file p2psim did not create just now
        raise UsageError(f"--to {target}: exists; choose a new file name")
    from sim.outputs import folders

    try:
        folders.check_writable(target.absolute())
    except folders.OutputError as err:
        raise UsageError(str(err).replace("--out", "--to")) from None
    with open(target, "x", encoding="utf-8") as out:  # "x": fails if it appeared meanwhile
        out.write(known[args.copy].read_text(encoding="utf-8"))
    print(f"wrote {target} (p2psim validate {target}; p2psim run {target})")
    return EXIT_OK


def _first_comment(path: Path) -> str:
    """The first comment line of a scenario file (what it demonstrates)."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            text = line.lstrip("#").strip()
            return text[:70] + ("..." if len(text) > 70 else "")
    return ""


def cmd_bench(argv: list[str]) -> int:
    """Hand the arguments to :func:`sim.bench.main`, which parses its own flags."""
    # lazy: the benchmark pulls in timing helpers nobody else needs. The submodule, not the
    # package's ``main``: once ``sim.bench.main`` is imported it shadows that name
    from sim.bench.main import main as bench_main

    return int(bench_main(argv) or 0)


def _executor_options(parser: argparse.ArgumentParser, chunk: bool) -> None:
    """``--scheduler``, ``--dask-workers`` (and ``--chunk``) on a command's parser."""
    parser.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                        help="run on this Dask scheduler (needs p2psim[dask] on the workers)")
    parser.add_argument("--dask-workers", type=int, metavar="N",
                        help="run on a Dask LocalCluster of N worker processes")
    if chunk:
        parser.add_argument("--chunk", type=int, default=1, metavar="N",
                            help="runs sent to a local worker at a time (default 1; raise it "
                                 "for runs well under a second)")



def _stored_run_options(parser: argparse.ArgumentParser, kind: str, folder: str,
                        chunk: bool) -> None:
    """The options of a command whose runs go to a resumable results store (sweep, calibrate).

    Args:
        parser: the command's parser.
        kind: the folder kind, which names the default store and folder (``sweep``).
        folder: what ``--out`` holds, for the help text (``sweep report folder``).
        chunk: whether the local pool takes ``--chunk``.
    """
    parser.add_argument("--workers", type=int, default=1, metavar="K",
                        help="local processes (default 1); results do not depend on it")
    _executor_options(parser, chunk=chunk)
    parser.add_argument("--store", metavar="DIR",
                        help=f"results store (default store/{kind}-<name>-<hash> beside the "
                             "folder, named by the inputs and the code, so the same command "
                             "resumes)")
    parser.add_argument("--out", metavar="DIR",
                        help=f"{folder} (default runs/{kind}-<name>-<UTC time>); it must be new "
                             "or empty, unless --overwrite")
    parser.add_argument("--overwrite", action="store_true",
                        help=f"replace an earlier p2psim {folder} at --out (the store resumes "
                             "either way)")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE",
                        help="override a field of the scenario (repeatable)")
    parser.add_argument("--steps", type=int, metavar="N", help="override run.days")

def build_parser() -> argparse.ArgumentParser:
    """The argument parser (``bench`` is listed here but dispatched before parsing)."""
    parser = argparse.ArgumentParser(
        prog="p2psim", description="Agent-based stress simulator of a P2P lending market.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run a scenario and write a results folder",
                         description="Run a scenario and write a results folder.")
    run.add_argument("scenario", nargs="?", default=DEFAULT_SCENARIO,
                     help=f"TOML scenario file or a shipped scenario's name (default "
                          f"{DEFAULT_SCENARIO}; see p2psim scenarios)")
    run.add_argument("--seed", type=int, metavar="N", help="override run.seed")
    run.add_argument("--steps", type=int, metavar="N",
                     help="override run.days (one step is one day)")
    run.add_argument("--out", metavar="DIR",
                     help="results folder (default runs/<name>-seed<N>-<UTC time>); it must be "
                          "new or empty, unless --overwrite")
    run.add_argument("--overwrite", action="store_true",
                     help="replace an earlier p2psim run folder at --out (only one p2psim "
                          "wrote and nobody added files to)")
    run.add_argument("--set", action="append", metavar="KEY=VALUE",
                     help="override a scenario field, e.g. --set investors.count=5000 "
                          "(repeatable)")
    run.add_argument("--check", action="store_true",
                     help="check money conservation every day (slower)")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    run.add_argument("--no-plots", action="store_true",
                     help="write the tables only, no PNG charts (faster: matplotlib is not "
                          "even imported)")
    run.set_defaults(func=cmd_run)

    cmp = sub.add_parser(
        "compare", help="compare policy sets over replications and write a report",
        description="Run a scenario under several policy sets, N replications each with common "
                    "random numbers (replication r uses seed base + r in every set), and write "
                    "a comparison folder with report.html. The baseline 'none' (every policy "
                    "off) is always included and is the reference for paired differences.")
    cmp.add_argument("scenario", help="TOML scenario file or a shipped scenario's name")
    cmp.add_argument("--policies", required=True, metavar="FILE_OR_NAMES",
                     help="comma-separated policy names (a policy of [policies], 'all-single' "
                          "for each alone, 'package' for all together, 'a+b' to combine), or a "
                          "TOML file of [[set]] tables with name and policies")
    cmp.add_argument("--replications", type=int, default=4, metavar="N",
                     help="runs per policy set (default 4; 2 or more for confidence intervals)")
    cmp.add_argument("--workers", type=int, default=1, metavar="K",
                     help="processes (default 1: run in this process); results do not depend on it")
    cmp.add_argument("--seed", type=int, metavar="S",
                     help="base seed (default the scenario's run.seed); replication r uses S + r")
    cmp.add_argument("--steps", type=int, metavar="N", help="override run.days")
    cmp.add_argument("--set", action="append", metavar="KEY=VALUE",
                     help="override a scenario field (repeatable)")
    cmp.add_argument("--out", metavar="DIR",
                     help="results folder (default runs/compare-<name>-<UTC time>); it must be "
                          "new or empty, unless --overwrite")
    cmp.add_argument("--overwrite", action="store_true",
                     help="replace an earlier p2psim comparison folder at --out")
    cmp.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    _executor_options(cmp, chunk=False)
    cmp.add_argument("--store", metavar="DIR",
                     help="results store of the runs (default store/compare-<name>-<hash> beside "
                          "the results folder); runs already there are not run again")
    cmp.set_defaults(func=cmd_compare)

    swp = sub.add_parser(
        "sweep", help="run a parameter sweep (grid, LHS, Sobol, Morris) and its sensitivity "
                      "analysis",
        description="Run a sweep file: every design point x replication of its base scenario "
                    "(replication r uses seed base + r at every point), each run committed to a "
                    "resumable results store as it finishes, then the sensitivity indices "
                    "(SALib) and a report folder. Run again, it resumes.")
    swp.add_argument("sweep", help="TOML sweep file (see scenarios/sweeps/)")
    _stored_run_options(swp, "sweep", "sweep report folder", chunk=True)
    swp.add_argument("--dry-run", action="store_true",
                     help="validate every design point and print the size; run nothing")
    swp.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    swp.set_defaults(func=cmd_sweep)

    cal = sub.add_parser(
        "calibrate", help="fit a scenario's parameters to history by simulated moments",
        description="Fit the parameters of a params file to the moments of a targets file by "
                    "the method of simulated moments: moments averaged over R replications on "
                    "common random numbers, inverse-variance (or identity) weighting, "
                    "differential evolution over the bounds, sandwich standard errors and the "
                    "J test. Every run goes to a resumable results store: run again, it resumes.")
    cal.add_argument("scenario", help="TOML scenario file (or a shipped scenario's name) with a "
                                      "[history] table")
    cal.add_argument("--targets", required=True, metavar="FILE",
                     help="targets TOML (see scenarios/calibration/china_targets.toml)")
    cal.add_argument("--params", required=True, metavar="FILE",
                     help="params TOML: dotted keys with bounds, and the search settings")
    cal.add_argument("--replications", type=int, default=2, metavar="R",
                     help="runs per parameter vector (default 2); replication r uses seed base + r")
    cal.add_argument("--seed", type=int, metavar="S", help="base seed (default run.seed)")
    cal.add_argument("--maxiter", type=int, metavar="N",
                     help="generations of the search (default the params file's)")
    cal.add_argument("--budget", type=int, metavar="N",
                     help="stop the search at the end of the generation that reaches N parameter vectors")
    cal.add_argument("--identify", type=int, default=0, metavar="N",
                     help="Morris screen of N trajectories after the fit: which parameters the "
                          "moments identify ((k + 1) x N x R more runs; default 0: the local "
                          "Jacobian only)")
    _stored_run_options(cal, "calibration", "calibration folder", chunk=False)
    cal.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    cal.set_defaults(func=cmd_calibrate)

    val = sub.add_parser("validate", help="check a scenario file without running it",
                         description="Check a scenario file without running it.")
    val.add_argument("scenario", help="TOML scenario file or a shipped scenario's name")
    val.add_argument("--set", action="append", metavar="KEY=VALUE",
                     help="override a scenario field (repeatable)")
    val.set_defaults(func=cmd_validate)

    scn = sub.add_parser("scenarios", help="list the shipped scenarios, or copy one out to edit",
                         description="List the shipped scenarios (run any by name, from any "
                                     "folder), or copy one to a file to edit it.")
    scn.add_argument("--copy", metavar="NAME", help="copy this shipped scenario to a file")
    scn.add_argument("--to", metavar="FILE",
                     help="where --copy writes (default NAME.toml here; never overwritten)")
    scn.set_defaults(func=cmd_scenarios)

    schema = sub.add_parser("schema", help="print the scenario JSON Schema",
                            description="Print the scenario JSON Schema (for editors).")
    schema.add_argument("--out", metavar="FILE", help="write it to FILE instead")
    schema.set_defaults(func=cmd_schema)

    sub.add_parser("bench", help="benchmark the engines (p2psim bench --help for options)",
                   add_help=False)

    app = sub.add_parser(
        "app", help="serve the teaching app (SolaraViz) on localhost",
        description="Serve the teaching app: the market's network, live charts, shocks now, "
                    "lessons and side-by-side policy runs. It listens on localhost unless "
                    "--host is given, and opens only lessons, shipped scenarios and TOML text "
                    "pasted or uploaded into it.")
    app.add_argument("scenario", nargs="?", metavar="SCENARIO",
                     help="a shipped scenario's name (e.g. liquidity_run) or a TOML file "
                          "(default: the first lesson)")
    app.add_argument("--host", default="127.0.0.1",
                     help="address to listen on (default 127.0.0.1: this machine only)")
    app.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    app.set_defaults(func=cmd_app)
    return parser


def _dispatch(argv: list[str]) -> int:
    if argv[:1] == ["bench"]:  # bench parses its own flags, which this parser does not know
        return cmd_bench(argv[1:])
    args = build_parser().parse_args(argv)
    return args.func(args)


def _on_sigterm(main_pid: int):
    """A SIGTERM handler that unwinds the main process like Ctrl-C.

    Worker processes forked from it inherit the handler; they die as SIGTERM asks (default
    action), so a pool can still stop its workers.
    """
    def handler(signum, frame) -> None:
        if os.getpid() != main_pid:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        raise Terminated

    return handler


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``p2psim`` command; returns the exit code.

    Args:
        argv: arguments without the program name (default ``sys.argv[1:]``).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    previous = None
    with contextlib.suppress(ValueError):  # only the main thread may set handlers
        previous = signal.signal(signal.SIGTERM, _on_sigterm(os.getpid()))
    try:
        return _dispatch(argv)
    except (ScenarioError, UsageError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\ninterrupted: no results folder was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("\nterminated (SIGTERM): no results folder was written", file=sys.stderr)
        return EXIT_TERMINATED
    except BrokenPipeError:  # e.g. `p2psim schema | head`: the reader left, nothing to report
        sys.stderr.close()
        return EXIT_OK
    except OSError as err:  # disk full, permission denied: the user can act on it
        print(f"error: {err}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    raise SystemExit(main())
