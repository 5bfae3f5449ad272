"""The ``p2psim`` command: run, validate, schema, bench.

Errors in scenario files are printed as one ``error:`` line and exit with code 2, never with a
traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.config import ScenarioError, json_schema, load_scenario

DEFAULT_SCENARIO = "scenarios/baseline.toml"

# (summary key, label, kind): kind says how to format the value.
SUMMARY_ROWS = [
    ("days", "days simulated", "int"),
    ("platforms_ever", "platforms (ever)", "int"),
    ("platforms_open_end", "platforms open at end", "int"),
    ("failures", "failures and absconds", "int"),
    ("failures_run", "  caused by a run", "int"),
    ("failures_insolvency", "  caused by insolvency", "int"),
    ("failures_absconding", "  absconded", "int"),
    ("failures_orderly_exit", "orderly exits", "int"),
    ("first_failure_day", "first failure (day)", "int"),
    ("cascade_size", "failures after the first", "int"),
    ("investor_losses", "investor losses (yuan)", "yuan"),
    ("investor_loss_share", "  share of money invested", "pct"),
    ("investors_with_loss", "investors who lost money", "int"),
    ("investors_with_loss_share", "  share of investors", "pct"),
    ("credit_supplied", "credit supplied (yuan)", "yuan"),
    ("loan_defaults", "loan defaults (yuan)", "yuan"),
    ("stolen", "stolen or diverted (yuan)", "yuan"),
    ("peak_daily_outflow", "peak daily outflow (yuan)", "yuan"),
    ("peak_unpaid_backlog", "peak unpaid backlog (yuan)", "yuan"),
    ("mean_promised_rate_end", "mean promised rate at end", "pct"),
]


def format_value(value, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "pct":
        return f"{100 * float(value):.2f}%"
    return f"{float(value):,.0f}"


def summary_table(summary: dict) -> str:
    """Aligned two-column table of the outcomes a user looks at first."""
    width = max(len(label) for _, label, _ in SUMMARY_ROWS)
    lines = [f"{'outcome':<{width}}  value", f"{'-' * width}  {'-' * 16}"]
    for key, label, kind in SUMMARY_ROWS:
        lines.append(f"{label:<{width}}  {format_value(summary.get(key), kind):>16}")
    return "\n".join(lines)


def _overrides(args) -> list[str]:
    sets = list(args.set or [])
    if getattr(args, "steps", None) is not None:
        sets.append(f"run.days={args.steps}")
    if getattr(args, "seed", None) is not None:
        sets.append(f"run.seed={args.seed}")
    if getattr(args, "check", False):
        sets.append("run.check_invariants=true")
    return sets


def cmd_run(args) -> int:
    from sim.results import write_run
    from sim.runner import run_scenario

    scenario = load_scenario(args.scenario, _overrides(args))
    result = run_scenario(scenario, progress=not args.no_progress)
    folder = write_run(result, Path(args.out) if args.out else None)
    print(f"{scenario.name}: {scenario.run.days} days, seed {result.seed}, "
          f"{result.elapsed_seconds:.1f} s")
    print(summary_table(result.summary))
    print(f"results: {folder}")
    return 0


def cmd_validate(args) -> int:
    s = load_scenario(args.scenario, _overrides(args))
    print(f"OK: {s.name} ({s.run.days} days, {s.platforms.count + len(s.platforms.custom)} "
          f"platforms, {s.investors.count:,} investors, {s.borrowers.count:,} borrowers, "
          f"{len(s.shocks)} shocks)")
    return 0


def cmd_schema(args) -> int:
    text = json_schema()
    if args.out:
        Path(args.out).write_text(text)
        print(f"wrote {args.out}")
    else:
        print(text, end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="p2psim", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a scenario and write a results folder")
    run.add_argument("scenario", nargs="?", default=DEFAULT_SCENARIO)
    run.add_argument("--seed", type=int, help="override run.seed")
    run.add_argument("--steps", type=int, help="override run.days (one step is one day)")
    run.add_argument("--out", help="results folder (default runs/<name>-seed<N>-<time>)")
    run.add_argument("--set", action="append", metavar="KEY=VALUE",
                     help="override a scenario field, e.g. investors.count=5000")
    run.add_argument("--check", action="store_true", help="check money conservation every day")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    run.set_defaults(func=cmd_run)

    val = sub.add_parser("validate", help="check a scenario file without running it")
    val.add_argument("scenario")
    val.add_argument("--set", action="append", metavar="KEY=VALUE")
    val.set_defaults(func=cmd_validate)

    schema = sub.add_parser("schema", help="print the scenario JSON Schema")
    schema.add_argument("--out", help="write it to this file")
    schema.set_defaults(func=cmd_schema)

    sub.add_parser("bench", help="benchmark the engines (see p2psim bench --help)")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:  # bench parses its own flags
        from sim import bench

        return bench.main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ScenarioError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: no results were written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
