"""The bad-input catalogue: every command, every class of mistake, one table.

Each case is a command line (and, where it needs one, a scenario file's text). Every case must
end with exit code 2, exactly one ``error:`` line on stderr, no traceback, nothing on stdout and
nothing written: the folder it runs in is the same before and after. The cases run in process
(``sim.cli.main``), so the whole catalogue takes seconds; the subprocess cases of
``test_bad_input.py`` prove the same holds from a shell.

The classes (issue #9): unreadable files, bad values and non-finite numbers, cross-field
mistakes (shock targets, platform names and counts, owner shares), ``--set`` mistakes, scenarios
too big for memory, output targets (foreign folders, earlier results without ``--overwrite``,
another kind, unwritable places), and each command's own options (compare, sweep, calibrate, validate,
bench, app, schema, scenarios).

The scenario every case starts from is tiny (5 days, a few hundred agents), so if a mistake
were ever let through, the run it starts would still end in a second.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pytest

from sim import cli

TINY = """
name = "tiny"
[run]
days = 5
seed = 3
[platforms]
count = 4
[investors]
count = 200
[borrowers]
count = 40
[[shocks]]
type = "rumour"
start = 2
duration = 2
size = 1.0
"""
SWEEP = """
name = "tiny_sweep"
scenario = "tiny.toml"
outcomes = ["failures"]
[design]
method = "grid"
points = 2
[[factors]]
key = "shocks.0.size"
range = [0.5, 1.5]
"""
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
SIGNED = {"generator": "p2psim", "files": {}}


@dataclass(frozen=True)
class Case:
    """One bad input.

    Attributes:
        argv: the command line; ``{s}`` is the scenario file (``text`` if given, else TINY).
        needle: a phrase the error line must contain.
        text: the scenario file's content, when the mistake is in the file.
    """

    argv: tuple[str, ...]
    needle: str = ""
    text: str | bytes | None = None


CASES: dict[str, Case] = {}


def add(name: str, *argv: str, needle: str = "", text: str | bytes | None = None) -> None:
    assert name not in CASES, name
    CASES[name] = Case(tuple(argv), needle, text)


# ---------------------------------------------------------------- files
for command in ("run", "validate", "compare"):
    extra = ("--policies", "custody") if command == "compare" else ()
    add(f"{command}_missing_file", command, "nope.toml", *extra, needle="no such scenario file")
    add(f"{command}_directory", command, "foreign", *extra, needle="is a directory")
    add(f"{command}_empty_file", command, "{s}", *extra, needle="empty", text="")
    add(f"{command}_comments_only", command, "{s}", *extra, needle="no settings",
        text="# a scenario\n# to be written\n")
    add(f"{command}_png", command, "{s}", *extra, needle="not a text file", text=PNG)
    add(f"{command}_letter", command, "{s}", *extra, needle="not valid TOML",
        text="Dear user,\nthis is a letter.\n")
add("blank_file", "validate", "{s}", needle="empty", text="\n   \n\t\n")
add("json_file", "validate", "{s}", needle="not valid TOML", text='{"investors": {"count": 5}}')
add("latin1_file", "validate", "{s}", needle="not a text file",
    text="name = 'caf\xe9'\n".encode("latin-1"))
add("bom_then_bad_toml", "validate", "{s}", needle="not valid TOML",
    text="\ufeff[investors\ncount = 5\n")
add("bom_comments_only", "validate", "{s}", needle="no settings", text="\ufeff# nothing\n")
add("unclosed_string", "validate", "{s}", needle="not valid TOML", text='name = "tiny\n')
add("duplicate_key", "validate", "{s}", needle="not valid TOML",
    text="[run]\ndays = 3\ndays = 4\n")
add("unknown_section", "validate", "{s}", needle="unknown key 'invstors'",
    text="[invstors]\ncount = 5\n")
add("unknown_key", "validate", "{s}", needle="investors.cuont", text="[investors]\ncuont = 5\n")
add("unknown_shock_type", "validate", "{s}", needle="shocks.0.type",
    text='[[shocks]]\ntype = "meteor"\nstart = 3\n')
add("unknown_policy", "validate", "{s}", needle="policies.deposit_insurance",
    text="[policies.deposit_insurance]\nenabled = true\n")
add("wrong_type_in_file", "run", "{s}", needle="investors.count",
    text='[investors]\ncount = "many"\n')

# ---------------------------------------------------------------- numbers
BAD_NUMBERS = {"inf": "inf", "neg_inf": "-inf", "nan": "nan", "huge": "1e308"}
FLOAT_FIELDS = ["investors.choice_sensitivity", "investors.wealth_min", "platforms.leverage_median",
                "policies.early_warning.flag_threshold", "platforms.entry_per_year",
                "borrowers.loan_size_median", "market.fire_sale_impact",
                "channels.information.strength", "platforms.real_claims_per_platform",
                "policies.protection_fund.coverage_cap", "investors.panic_redemption",
                "shocks.0.size"]
for field in FLOAT_FIELDS:
    for label, value in BAD_NUMBERS.items():
        add(f"{field}={label}", "run", "{s}", "--set", f"{field}={value}", "--no-progress",
            needle=field)
add("negative_count", "validate", "{s}", "--set", "platforms.count=-5", needle="platforms.count")
add("rate_above_one", "run", "{s}", "--set", "market.outside_rate=1.5",
    needle="market.outside_rate")
add("rate_min_above_max", "validate", "{s}", "--set", "platforms.rate_min=0.3",
    "--set", "platforms.rate_max=0.1", needle="rate_min")
add("days_above_a_century", "validate", "{s}", "--set", "run.days=100000", needle="run.days")
add("seed_negative", "run", "{s}", "--seed", "-1", needle="run.seed")
add("steps_zero", "run", "{s}", "--steps", "0", needle="run.days")
add("shock_size_above_max", "validate", "{s}", "--set", "shocks.0.size=1000",
    needle="at most")
add("policy_share_above_one", "validate", "{s}", "--set",
    "policies.protection_fund.coverage_share=1.5", needle="coverage_share")
add("bool_not_bool", "validate", "{s}", "--set", "policies.custody.enabled=maybe",
    needle="policies.custody.enabled")
add("count_not_integer", "validate", "{s}", "--set", "investors.count=2.5",
    needle="investors.count")
add("investors_count_1e9", "run", "{s}", "--set", "investors.count=1000000000",
    needle="investors.count")
add("max_platforms_1e9", "run", "{s}", "--set", "platforms.max_platforms=1000000000",
    needle="max_platforms")

# ---------------------------------------------------------------- across fields
add("shock_unknown_platform", "run", "{s}", "--set", "shocks.0.platform=Nowhere",
    needle="shocks.0.platform")
add("validate_unknown_platform", "validate", "{s}", "--set", "shocks.0.platform=Nowhere",
    needle="names no platform")
add("shock_platform_beyond_count", "validate", "{s}", "--set", "shocks.0.platform=P0009",
    needle="P0009")
add("shock_platform_unpadded_id", "validate", "{s}", "--set", "shocks.0.platform=P1",
    needle="P1")
add("shock_unknown_sector", "validate", "{s}", "--set", 'shocks.0.type="credit"',
    "--set", "shocks.0.sector=9", needle="shocks.0.sector")
add("count_above_max_platforms", "validate", "{s}", "--set", "platforms.count=50",
    "--set", "platforms.max_platforms=20", needle="max_platforms")
add("custom_push_over_max", "validate", "{s}", "--set", "platforms.max_platforms=4",
    "--set", 'platforms.custom=[{name = "Alpha"}]', needle="max_platforms")
add("duplicate_custom_names", "validate", "{s}", "--set",
    'platforms.custom=[{name = "Alpha"}, {name = "Alpha"}]', needle="unique")
add("custom_named_like_builtin", "run", "{s}", "--set", 'platforms.custom=[{name = "P0001"}]',
    needle="built-in")
add("custom_named_largest", "validate", "{s}", "--set",
    'platforms.custom=[{name = "largest"}]', needle="built-in")
add("owner_shares_above_one", "validate", "{s}", "--set", "platforms.share_ponzi=0.7",
    "--set", "platforms.share_fraud=0.6", needle="exceed 1")
add("custom_empty_name", "validate", "{s}", "--set", 'platforms.custom=[{name = ""}]',
    needle="platforms.custom.0.name")
add("custom_leverage_below_one", "validate", "{s}", "--set",
    'platforms.custom=[{name = "A", leverage = 0.5}]', needle="leverage")

# ---------------------------------------------------------------- --set
add("set_without_equals", "validate", "{s}", "--set", "investors.count", needle="dotted.key")
add("set_empty_key", "validate", "{s}", "--set", "=5", needle="empty key")
add("set_double_dot", "validate", "{s}", "--set", "investors..count=5", needle="dotted key")
add("set_unknown_key", "validate", "{s}", "--set", "investors.cuont=5", needle="unknown key")
add("set_into_a_value", "validate", "{s}", "--set", "run.days.x=1", needle="not a table")
add("set_index_out_of_range", "validate", "{s}", "--set", "shocks.3.size=2",
    needle="out of range")
add("set_name_for_index", "validate", "{s}", "--set", "shocks.first.size=2",
    needle="must be an index")
add("set_custom_index_missing", "run", "{s}", "--set", "platforms.custom.1.leverage=20",
    needle="out of range")
add("set_list_entry_bad_value", "validate", "{s}", "--set", "shocks.0.size=-1",
    needle="shocks.0.size")
add("set_wrong_type", "run", "{s}", "--set", "investors.count=lots", needle="'lots'")
add("set_table_for_value", "validate", "{s}", "--set", "run.days={a = 1}", needle="run.days")

# ---------------------------------------------------------------- memory
add("memory_investors", "run", "{s}", "--set", "investors.count=100000000", needle="memory")
add("memory_borrowers", "run", "{s}", "--set", "borrowers.count=100000000", needle="memory")
add("memory_validate_too", "validate", "{s}", "--set", "investors.count=90000000",
    needle="MemAvailable")
add("memory_compare_workers", "compare", "{s}", "--policies", "custody", "--set",
    "investors.count=60000000", needle="memory")
add("memory_object_engine", "run", "{s}", "--set", 'run.engine="object"',
    "--set", "investors.count=40000000", needle="memory")

# ---------------------------------------------------------------- output targets
for command, extra in (("run", ()), ("compare", ("--policies", "custody"))):
    base = (command, "{s}", *extra, "--no-progress")
    add(f"{command}_out_foreign_folder", *base, "--out", "foreign", needle="not a p2psim")
    add(f"{command}_out_foreign_overwrite", *base, "--out", "foreign", "--overwrite",
        needle="not a p2psim")
    add(f"{command}_out_bare_manifest", *base, "--out", "bare", "--overwrite",
        needle="signature")
    add(f"{command}_out_is_a_file", *base, "--out", "afile.txt", needle="is a file")
    add(f"{command}_out_under_a_file", *base, "--out", "afile.txt/sub", needle="is a file")
    add(f"{command}_out_unwritable", *base, "--out", "/sys/p2psim-out", needle="cannot write")
    add(f"{command}_out_run_plus_notes", *base, "--out", "prev_run_notes", "--overwrite",
        needle="did not write" if command == "run" else "not a compare")
add("run_out_earlier_run", "run", "{s}", "--no-progress", "--out", "prev_run",
    needle="--overwrite")
add("compare_out_earlier_compare", "compare", "{s}", "--policies", "custody", "--no-progress",
    "--out", "prev_compare", needle="--overwrite")
add("run_into_compare_folder", "run", "{s}", "--no-progress", "--out", "prev_compare",
    "--overwrite", needle="not a run")
add("compare_into_run_folder", "compare", "{s}", "--policies", "custody", "--no-progress",
    "--out", "prev_run", "--overwrite", needle="not a compare")
add("sweep_out_foreign", "sweep", "sweep.toml", "--no-progress", "--out", "foreign",
    needle="not a p2psim")
add("sweep_out_run_folder", "sweep", "sweep.toml", "--no-progress", "--out", "prev_run",
    "--overwrite", needle="not a sweep")
add("sweep_out_unwritable", "sweep", "sweep.toml", "--no-progress", "--out", "/proc/p2psim",
    needle="cannot write")
add("compare_store_foreign", "compare", "{s}", "--policies", "custody", "--no-progress",
    "--store", "foreign", needle="not a p2psim results store")
add("compare_store_is_run_folder", "compare", "{s}", "--policies", "custody", "--no-progress",
    "--store", "prev_run", needle="not a p2psim results store")
add("schema_out_folder", "schema", "--out", "foreign", needle="is a folder")
add("schema_out_missing_folder", "schema", "--out", "nowhere/schema.json",
    needle="does not exist")
add("schema_out_over_a_users_file", "schema", "--out", "afile.txt", needle="refusing to overwrite")

# ---------------------------------------------------------------- compare options
CMP = ("compare", "{s}", "--no-progress")
add("compare_policies_empty", *CMP, "--policies", "", needle="--policies")
add("compare_policies_commas", *CMP, "--policies", ",,", needle="--policies")
add("compare_policies_unknown", *CMP, "--policies", "deposit_insurance",
    needle="deposit_insurance")
add("compare_policies_file_missing", *CMP, "--policies", "sets.toml", needle="sets")
add("compare_replications_zero", *CMP, "--policies", "custody", "--replications", "0",
    needle="--replications")
add("compare_workers_zero", *CMP, "--policies", "custody", "--workers", "0",
    needle="--workers")
add("compare_dask_workers_zero", *CMP, "--policies", "custody", "--dask-workers", "0",
    needle="--dask-workers")
add("compare_scheduler_and_dask", *CMP, "--policies", "custody", "--scheduler",
    "tcp://127.0.0.1:1", "--dask-workers", "2", needle="not both")
add("compare_no_policies_flag", *CMP, needle="--policies")
add("compare_replications_not_int", *CMP, "--policies", "custody", "--replications", "many",
    needle="invalid int")

# ---------------------------------------------------------------- sweep options
add("sweep_missing_file", "sweep", "nope.toml", needle="no such sweep file")
add("sweep_empty_file", "sweep", "{s}", needle="sweep", text="")
add("sweep_not_toml", "sweep", "{s}", needle="not a valid TOML", text="this is not toml\n")
add("sweep_workers_zero", "sweep", "sweep.toml", "--workers", "0", needle="--workers")
add("sweep_chunk_zero", "sweep", "sweep.toml", "--chunk", "0", needle="--chunk")
add("sweep_bad_set", "sweep", "sweep.toml", "--set", "investors.count=-1",
    needle="investors.count")
add("sweep_set_inf", "sweep", "sweep.toml", "--set", "investors.choice_sensitivity=inf",
    needle="choice_sensitivity")
add("sweep_memory", "sweep", "sweep.toml", "--set", "investors.count=100000000",
    needle="memory")

# ---------------------------------------------------------------- calibrate options
_CAL = Path(__file__).resolve().parent.parent / "scenarios" / "calibration"
CAL = ("calibrate", "china_2013_2020", "--targets", str(_CAL / "china_targets.toml"),
       "--params", str(_CAL / "china_params.toml"), "--no-progress")
add("calibrate_out_foreign", *CAL, "--out", "foreign", needle="not a p2psim")
add("calibrate_out_run_folder", *CAL, "--out", "prev_run", "--overwrite",
    needle="not a calibration")
add("calibrate_out_unwritable", *CAL, "--out", "/sys/p2psim-cal", needle="cannot write")
add("calibrate_workers_zero", *CAL, "--workers", "0", needle="--workers")
add("calibrate_replications_zero", *CAL, "--replications", "0", needle="--replications")
add("calibrate_set_inf", *CAL, "--set", "investors.choice_sensitivity=inf",
    needle="choice_sensitivity")
add("calibrate_memory", *CAL, "--set", "investors.count=100000000", needle="memory")
add("calibrate_no_history", "calibrate", "{s}", "--targets", str(_CAL / "china_targets.toml"),
    "--params", str(_CAL / "china_params.toml"), needle="[history]")
add("calibrate_targets_missing", "calibrate", "china_2013_2020", "--targets", "none.toml",
    "--params", str(_CAL / "china_params.toml"), needle="none.toml")
add("calibrate_unknown_scenario", "calibrate", "no_such_scenario", "--targets",
    str(_CAL / "china_targets.toml"), "--params", str(_CAL / "china_params.toml"),
    needle="no_such_scenario")

# ---------------------------------------------------------------- other commands
add("unknown_command", "simulate", needle="invalid choice")
add("run_unknown_flag", "run", "{s}", "--fast", needle="unrecognized")
add("run_steps_not_int", "run", "{s}", "--steps", "ten", needle="invalid int")
add("validate_no_scenario", "validate", needle="required")
add("bench_sizes_zero", "bench", "--sizes", "0", needle="sizes")
add("bench_sizes_1e9", "bench", "--sizes", "1000000000", needle="at most")
add("bench_sizes_memory", "bench", "--sizes", "60000000", needle="memory")
add("bench_object_sizes_memory", "bench", "--sizes", "1000", "--object-sizes", "50000000",
    needle="memory")
add("bench_days_zero", "bench", "--days", "0", needle="--days")
add("bench_unknown_flag", "bench", "--fast", needle="unrecognized")
add("app_unknown_scenario", "app", "no_such_scenario", needle="no such scenario file")
add("app_bad_scenario", "app", "{s}", needle="investors.count",
    text="[investors]\ncount = -3\n")
add("app_inf_value", "app", "{s}", "--port", "1", needle="choice_sensitivity",
    text="[investors]\nchoice_sensitivity = inf\n")
add("scenarios_copy_unknown", "scenarios", "--copy", "no_such", needle="no shipped scenario")
add("scenarios_copy_onto_file", "scenarios", "--copy", "rumour", "--to", "afile.txt",
    needle="exists")
add("scenarios_copy_unwritable", "scenarios", "--copy", "rumour", "--to", "/sys/rumour.toml",
    needle="cannot write")


# ---------------------------------------------------------------- the harness
def prepare(folder) -> None:
    """The files and folders cases point at (none may change)."""
    (folder / "tiny.toml").write_text(TINY, encoding="utf-8")
    (folder / "sweep.toml").write_text(SWEEP, encoding="utf-8")
    (folder / "afile.txt").write_text("a file", encoding="utf-8")
    foreign = folder / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me", encoding="utf-8")
    bare = folder / "bare"
    bare.mkdir()
    (bare / "manifest.json").write_text("{}", encoding="utf-8")
    (bare / "thesis.tex").write_text("years of work", encoding="utf-8")
    for name, kind in (("prev_run", "run"), ("prev_compare", "compare"),
                       ("prev_run_notes", "run")):
        (folder / name).mkdir()
        (folder / name / "manifest.json").write_text(
            json.dumps({**SIGNED, "folder_kind": kind}), encoding="utf-8")
    (folder / "prev_run_notes" / "notes.txt").write_text("mine", encoding="utf-8")


def snapshot(folder) -> dict[str, bytes | None]:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


def run_case(case: Case, folder, capsys) -> tuple[int, str, str]:
    argv = list(case.argv)
    if case.text is not None:
        path = folder / "case.toml"
        if isinstance(case.text, bytes):
            path.write_bytes(case.text)
        else:
            path.write_text(case.text, encoding="utf-8")
        argv = [str(path) if a == "{s}" else a for a in argv]
    else:
        argv = ["tiny.toml" if a == "{s}" else a for a in argv]
    try:
        code = cli.main(argv)
    except SystemExit as stop:  # argparse's own usage errors
        code = stop.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_catalogue_is_large_and_covers_every_command():
    assert len(CASES) >= 100
    commands = {c.argv[0] for c in CASES.values()}
    assert {"run", "compare", "sweep", "calibrate", "validate", "bench", "app", "schema",
            "scenarios"} <= commands


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_gets_one_clear_error_and_writes_nothing(name, tmp_path, monkeypatch, capsys):
    case = CASES[name]
    monkeypatch.chdir(tmp_path)
    prepare(tmp_path)
    before = snapshot(tmp_path)
    code, out, err = run_case(case, tmp_path, capsys)
    after = snapshot(tmp_path)
    after.pop("case.toml", None)
    assert code == 2, (code, err[-2000:])
    assert "Traceback" not in err, err
    assert sum("error:" in line for line in err.splitlines()) == 1, err
    assert out == "", out
    assert case.needle in err, (case.needle, err)
    assert after == before, "something was written or changed"


def test_numbers_in_the_catalogue_are_really_non_finite_or_huge():
    assert all(not math.isfinite(float(v)) or float(v) > 1e300 for v in BAD_NUMBERS.values())
