"""The ``p2psim`` command: run, compare, validate, schema and bench.

A bad scenario file, ``--set`` override or ``--out`` target prints one ``error:`` message on
stderr and exits with code 2 (like an argparse usage error), never with a traceback. Ctrl-C exits
with 130. This is the only module that prints; files are written by :mod:`sim.results`.
"""

from __future__ import annotations

import argparse
import math
import numbers
import sys

from sim.config import ScenarioError, json_schema, load_scenario

DEFAULT_SCENARIO = "scenarios/baseline.toml"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

# The outcomes a user reads first, in order: (summary key, label, format). Formats: "int" count
# or day, "yuan" money with thousands separators, "pct" share shown in %, "rate" annual rate in %.
SUMMARY_ROWS = [
    ("days", "days simulated", "int"),
    ("platforms_ever", "platforms (ever)", "int"),
    ("platforms_open_end", "platforms open at end", "int"),
    ("failures", "failures (incl. absconding)", "int"),
    ("failures_run", "  caused by a run", "int"),
    ("failures_insolvency", "  caused by insolvency", "int"),
    ("failures_absconding", "  owner absconded", "int"),
    ("failures_regulatory_closure", "  closed by regulator", "int"),
    ("failures_supervisory_winddown", "  wound down by supervisor", "int"),
    ("failures_orderly_exit", "orderly exits", "int"),
    ("first_failure_day", "first failure (day)", "int"),
    ("cascade_size", "failures after the first", "int"),
    ("investor_losses", "investor losses, after cover (yuan)", "yuan"),
    ("investor_loss_share", "  share of money invested", "pct"),
    ("investor_losses_written_off", "  written off so far (yuan)", "yuan"),
    ("investor_losses_pending", "  expected from estates still open (yuan)", "yuan"),
    ("investor_losses_gross", "  before protection and guarantees (yuan)", "yuan"),
    ("protection_payouts", "protection fund payouts (yuan)", "yuan"),
    ("investors_with_loss", "investors who lost money", "int"),
    ("investors_with_loss_share", "  share of investors", "pct"),
    ("credit_supplied", "credit supplied (yuan)", "yuan"),
    ("borrower_interest_paid", "borrower interest paid (yuan)", "yuan"),
    ("loan_defaults", "loan defaults (yuan)", "yuan"),
    ("stolen", "stolen or diverted (yuan)", "yuan"),
    ("peak_daily_outflow", "peak daily payouts (yuan/day)", "yuan"),
    ("peak_unpaid_backlog", "peak unpaid backlog (yuan)", "yuan"),
    ("final_investor_claims", "investor claims at end (yuan)", "yuan"),
    ("mean_promised_rate_end", "mean promised rate at end", "rate"),
    ("contagion_multiplier", "contagion multiplier", "ratio"),
    ("failures_direct", "  failures hit directly by a shock", "int"),
    ("failures_by_contagion", "  failures carried by contagion", "int"),
    *[(f"failures_via_{c}", f"    via {c.replace('_', ' ')}", "int")
      for c in ("information", "herding", "shared_investors", "common_borrowers", "fire_sales",
                "shared_guarantors")],
    ("failures_via_own", "  owner's own choice", "int"),
    ("failures_via_none", "  no outside stress", "int"),
    ("failures_via_shock", "  (direct shock)", "int"),
    ("days_shock_to_peak_outflow", "days from first shock to peak outflow", "int"),
    *[(f"failure_share_{c}", f"share of failures: {c.replace('_', ' ')}", "pct")
      for c in ("run", "insolvency", "absconding", "regulatory_closure", "supervisory_winddown",
                "orderly_exit")],
]




class UsageError(Exception):
    """A user mistake outside the scenario (e.g. a bad ``--out``); printed like a ScenarioError."""


# ----------------------------------------------------------------------------- formatting
def format_value(value, kind: str) -> str:
    """One summary value as text: ``1,234,567`` yuan, ``12.34%`` shares and rates."""
    if value is None:
        return "none"
    number = float(value)
    if math.isnan(number):
        return "n/a"
    if kind == "int":
        return f"{int(number):,}"
    if kind == "pct":
        return f"{100 * number:.2f}%"
    if kind == "rate":
        return f"{100 * number:.2f}% a year"
    if kind == "ratio":
        return f"{number:.2f}x"
    return f"{number:,.0f}"


def _guess_kind(key: str, value) -> str:
    """Format for an outcome the table does not list yet, so new outcomes still show."""
    if key.endswith("_share"):
        return "pct"
    if "rate" in key:
        return "rate"
    if "day" in key or isinstance(value, numbers.Integral):
        return "int"
    return "yuan"


def summary_table(summary: dict) -> str:
    """Plain aligned two-column table (outcome, value) of a run's summary."""
    known = {key for key, _, _ in SUMMARY_ROWS}
    rows = [(label, format_value(summary[key], kind))
            for key, label, kind in SUMMARY_ROWS if key in summary]
    for key in sorted(set(summary) - known):
        value = summary[key]
        # Other outcomes follow; those that stayed empty (mostly policies that were off) are
        # left out. Lists, strings and tables are not for this table.
        if isinstance(value, numbers.Real) and value != 0:
            rows.append((key.replace("_", " "), format_value(value, _guess_kind(key, value))))
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
    # Imported here so validate/schema and bad-input errors do not pay for matplotlib.
    from sim.experiments.runner import run_scenario
    from sim.outputs import results

    scenario = load_scenario(args.scenario, _overrides(args))
    try:
        if args.out:  # refuse a bad target before a run that may take minutes, not after it
            results.check_out_dir(args.out)
        try:
            result = run_scenario(scenario, progress=not args.no_progress)
        except ScenarioError as err:  # found while setting up the model: say which file
            raise ScenarioError(f"{args.scenario}: {err}") from None
        folder = results.write_run(result, args.out)
    except results.OutputError as err:
        raise UsageError(str(err)) from None
    print(f"{scenario.name}: {result.days:,} days, seed {result.seed}, "
          f"{result.elapsed_seconds:.1f} s")
    print()
    print(summary_table(result.summary))
    print()
    print(f"results: {folder}")
    return EXIT_OK


def comparison_table(comp, outcomes=None) -> str:
    """Plain text blocks, one per headline outcome: each set's mean, Δ from none and 95% CI.

    ``*`` marks a difference whose confidence interval excludes zero.
    """
    from sim.experiments import analysis
    from sim.experiments.policy_sets import BASELINE
    from sim.outputs import report
    from sim.vocabulary import HEADLINE_OUTCOMES

    outcomes = outcomes or [o for o in HEADLINE_OUTCOMES if o in set(comp.table["outcome"])]
    table = comp.rows()
    width = max(len("policy set"), *(len(n) for n in comp.set_names))
    blocks = []
    for outcome in outcomes:
        label, kind, _ = report.outcome_info(outcome)
        rows = []
        for name in comp.set_names:
            row = table[(name, outcome)]
            mean = report.fmt(row["mean"], kind)
            if name == BASELINE:
                rows.append((name, mean, "reference", ""))
                continue
            diff = report.fmt(row["diff"], kind, signed=True)
            ci = report.fmt_range(row["ci_low"], row["ci_high"], kind)
            rows.append((name, mean, diff + ("*" if analysis.significant(row) else ""), ci))
        w = [width, *(max(len(h), *(len(r[i]) for r in rows))
                      for i, h in ((1, "mean"), (2, "diff vs none"), (3, "95% CI of diff")))]
        lines = [label,
                 f"  {'policy set':<{w[0]}}  {'mean':>{w[1]}}  {'diff vs none':>{w[2]}}  "
                 f"{'95% CI of diff':>{w[3]}}"]
        lines += [f"  {a:<{w[0]}}  {b:>{w[1]}}  {c:>{w[2]}}  {d:>{w[3]}}" for a, b, c, d in rows]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def cmd_compare(args: argparse.Namespace) -> int:
    """Run every policy set with common random numbers, write the report folder, print a table."""
    from sim.experiments import compare, policy_sets
    from sim.outputs import report, results

    if args.replications < 1:
        raise UsageError(f"--replications {args.replications}: must be at least 1")
    if args.workers < 1:
        raise UsageError(f"--workers {args.workers}: must be at least 1")
    sets_ = list(args.set or [])
    if args.steps is not None:
        sets_.append(f"run.days={args.steps}")
    scenario = load_scenario(args.scenario, sets_)
    sets = policy_sets.policy_sets(args.policies, scenario)
    try:
        if args.out:  # refuse a bad target before runs that may take many minutes
            results.check_out_dir(args.out)
        try:
            comp = compare.run_comparison(scenario, sets, args.replications, seed=args.seed,
                                          workers=args.workers, progress=not args.no_progress)
        except ScenarioError as err:  # found while setting up a model: say which file
            raise ScenarioError(f"{args.scenario}: {err}") from None
        folder = report.write_comparison(comp, args.out)
    except results.OutputError as err:
        raise UsageError(str(err)) from None
    runs = len(sets) * comp.replications
    print(f"{scenario.name}: {len(sets)} policy sets x {comp.replications} replications "
          f"= {runs} runs of {scenario.run.days:,} days, seeds {comp.seeds[0]}"
          f"{'' if comp.replications == 1 else f'..{comp.seeds[-1]}'}, "
          f"{comp.elapsed_seconds:.1f} s with {comp.workers} worker"
          f"{'s' if comp.workers != 1 else ''}")
    print()
    print(comparison_table(comp))
    print()
    print("* the 95% confidence interval of the paired difference excludes zero")
    print(f"results: {folder}")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    """Check a scenario file (and overrides) without running it."""
    s = load_scenario(args.scenario, _overrides(args))
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
        from sim.outputs import results

        try:
            print(f"wrote {results.write_text(args.out, text)}")
        except results.OutputError as err:
            raise UsageError(str(err)) from None
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_bench(argv: list[str]) -> int:
    """Hand the arguments to :func:`sim.bench.main`, which parses its own flags."""
    from sim import bench  # lazy: the benchmark pulls in timing helpers nobody else needs

    return int(bench.main(argv) or 0)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (``bench`` is listed here but dispatched before parsing)."""
    parser = argparse.ArgumentParser(
        prog="p2psim", description="Agent-based stress simulator of a P2P lending market.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run a scenario and write a results folder",
                         description="Run a scenario and write a results folder.")
    run.add_argument("scenario", nargs="?", default=DEFAULT_SCENARIO,
                     help=f"TOML scenario file (default {DEFAULT_SCENARIO})")
    run.add_argument("--seed", type=int, metavar="N", help="override run.seed")
    run.add_argument("--steps", type=int, metavar="N",
                     help="override run.days (one step is one day)")
    run.add_argument("--out", metavar="DIR",
                     help="results folder (default runs/<name>-seed<N>-<UTC time>); an earlier "
                          "run folder there is replaced")
    run.add_argument("--set", action="append", metavar="KEY=VALUE",
                     help="override a scenario field, e.g. --set investors.count=5000 "
                          "(repeatable)")
    run.add_argument("--check", action="store_true",
                     help="check money conservation every day (slower)")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    run.set_defaults(func=cmd_run)

    cmp = sub.add_parser(
        "compare", help="compare policy sets over replications and write a report",
        description="Run a scenario under several policy sets, N replications each with common "
                    "random numbers (replication r uses seed base + r in every set), and write "
                    "a comparison folder with report.html. The baseline 'none' (every policy "
                    "off) is always included and is the reference for paired differences.")
    cmp.add_argument("scenario", help="TOML scenario file")
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
                     help="results folder (default runs/compare-<name>-<UTC time>); an earlier "
                          "results folder there is replaced")
    cmp.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    cmp.set_defaults(func=cmd_compare)

    val = sub.add_parser("validate", help="check a scenario file without running it",
                         description="Check a scenario file without running it.")
    val.add_argument("scenario", help="TOML scenario file")
    val.add_argument("--set", action="append", metavar="KEY=VALUE",
                     help="override a scenario field (repeatable)")
    val.set_defaults(func=cmd_validate)

    schema = sub.add_parser("schema", help="print the scenario JSON Schema",
                            description="Print the scenario JSON Schema (for editors).")
    schema.add_argument("--out", metavar="FILE", help="write it to FILE instead")
    schema.set_defaults(func=cmd_schema)

    sub.add_parser("bench", help="benchmark the engines (p2psim bench --help for options)",
                   add_help=False)
    return parser


def _dispatch(argv: list[str]) -> int:
    if argv[:1] == ["bench"]:  # bench parses its own flags, which this parser does not know
        return cmd_bench(argv[1:])
    args = build_parser().parse_args(argv)
    return args.func(args)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``p2psim`` command; returns the exit code.

    Args:
        argv: arguments without the program name (default ``sys.argv[1:]``).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        return _dispatch(argv)
    except (ScenarioError, UsageError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\ninterrupted: no results folder was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `p2psim schema | head`: the reader left, nothing to report
        sys.stderr.close()
        return EXIT_OK
    except OSError as err:  # disk full, permission denied: the user can act on it
        print(f"error: {err}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())
