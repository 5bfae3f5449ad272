"""Bad input, as a user meets it: one clear ``error:`` message, exit code 2, no traceback.

Each case in ``CASES`` runs ``python -m sim.cli`` in a subprocess, exactly as from a shell.
Starting Python and importing the model takes seconds, so all of them start together in a thread
pool (one fixture for the module) and each test only checks its own finished process. Variants of
the same mistakes (``MORE_CASES``) go through :func:`sim.cli.main` in process, which is fast.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from sim import cli
from tests.conftest import BASELINE, ROOT

PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8


@dataclass(frozen=True)
class Case:
    """One bad input: the scenario text (None: use baseline), CLI args and expected phrases."""

    args: tuple[str, ...]
    needles: tuple[str, ...]
    text: str | bytes | None = None
    command: str = "validate"


CASES = {
    "unknown_key": Case((), ("investors.cuont", "unknown key", "Allowed here", "count"),
                        "[investors]\ncuont = 5\n"),
    "wrong_type": Case((), ("investors.count", "'many'", "integer"),
                       '[investors]\ncount = "many"\n', command="run"),
    "negative_count": Case((), ("platforms.count", "-5", "greater than or equal to 0"),
                           "[platforms]\ncount = -5\n"),
    "rate_above_one": Case((), ("market.outside_rate", "1.5", "less than or equal to 1"),
                           "[market]\noutside_rate = 1.5\n", command="run"),
    "empty_file": Case((), ("empty",), "", command="run"),
    "png_file": Case((), ("not a text file",), PNG_BYTES, command="run"),
    "random_text": Case((), ("not valid TOML",), "Dear user,\nthis is a letter, not TOML.\n"),
    "shock_names_no_platform": Case(
        ("--steps", "3", "--no-progress"), ("shocks.0.platform", "Nowhere"),
        "[investors]\ncount = 50\n[borrowers]\ncount = 10\n[platforms]\ncount = 3\n"
        '[[shocks]]\ntype = "rumour"\nplatform = "Nowhere"\nstart = 2\nsize = 1\n',
        command="run"),
    "set_unknown_key": Case(("--set", "investors.cuont=5"), ("investors.cuont", "unknown key")),
    "set_wrong_type": Case(("--set", "investors.count=lots"), ("investors.count", "'lots'"),
                           command="run"),
    "steps_zero": Case(("--steps", "0"), ("run.days", "0", "greater than or equal to 1"),
                       command="run"),
}

MORE_CASES = {
    "unknown_shock_type": Case((), ("shocks.0.type", "meteor"),
                               '[[shocks]]\ntype = "meteor"\nstart = 3\nsize = 1\n'),
    "unknown_section": Case((), ("unknown key 'invstors'", "investors"),
                            "[invstors]\ncount = 5\n"),
    "blank_file": Case((), ("empty",), "\n   \n"),
    "json_file": Case((), ("not valid TOML",), '{"investors": {"count": 5}}\n'),
    "rate_min_above_max": Case((), ("rate_min", "rate_max"),
                               "[platforms]\nrate_min = 0.3\nrate_max = 0.1\n"),
    "set_rate_above_one": Case(("--set", "market.outside_rate=2"), ("market.outside_rate", "2")),
    "set_without_equals": Case(("--set", "investors.count"), ("dotted.key=value",)),
    "set_into_a_value": Case(("--set", "run.days.x=1"), ("is a value, not a table",)),
    "negative_seed": Case(("--seed", "-1"), ("run.seed", "-1"), command="run"),
    # Bad policy configurations.
    "policy_share_above_one": Case(
        (), ("policies.protection_fund.coverage_share", "1.5", "less than or equal to 1"),
        "[policies.protection_fund]\nenabled = true\ncoverage_share = 1.5\n"),
    "policy_unknown_parameter": Case(
        (), ("policies.early_warning.capacity", "unknown key", "inspections_per_review"),
        "[policies.early_warning]\nenabled = true\ncapacity = 3\n"),
    "unknown_policy": Case((), ("policies.deposit_insurance", "unknown key", "protection_fund"),
                           "[policies.deposit_insurance]\nenabled = true\n"),
    "policy_switch_not_bool": Case(("--set", "policies.custody.enabled=maybe"),
                                   ("policies.custody.enabled", "'maybe'", "boolean")),
    "negative_inspections": Case(
        ("--set", "policies.early_warning.inspections_per_review=-2"),
        ("policies.early_warning.inspections_per_review", "-2", "greater than or equal to 0")),
}


def scenario_path(tmp_dir, name: str, case: Case):
    if case.text is None:
        return BASELINE
    path = tmp_dir / f"{name}.toml"
    if isinstance(case.text, bytes):
        path.write_bytes(case.text)
    else:
        path.write_text(case.text)
    return path


def p2psim(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim.cli", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """Every case (plus the extra ones below) run once, concurrently: name -> (path, process)."""
    tmp = tmp_path_factory.mktemp("bad_input")
    jobs = {name: (path := scenario_path(tmp, name, case), [case.command, path, *case.args])
            for name, case in CASES.items()}
    jobs["missing_file"] = (tmp / "nope.toml", ["run", tmp / "nope.toml"])
    jobs["directory"] = (tmp, ["validate", tmp])
    precious = tmp / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    jobs["out_not_a_run_folder"] = (precious, ["run", BASELINE, "--out", precious])
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        procs = {name: pool.submit(p2psim, *argv) for name, (_, argv) in jobs.items()}
        return {name: (jobs[name][0], proc.result()) for name, proc in procs.items()}


def assert_clean_error(proc: subprocess.CompletedProcess, *needles) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.startswith("error: "), proc.stderr
    assert proc.stderr.count("error:") == 1, "one message, not a cascade"
    assert proc.stdout == "", "nothing printed as if it had worked"
    for needle in needles:
        assert str(needle) in proc.stderr, (needle, proc.stderr)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_scenario_or_override(finished, name):
    path, proc = finished[name]
    assert_clean_error(proc, *CASES[name].needles)
    if CASES[name].text is not None:  # the message says which file
        assert str(path) in proc.stderr


@pytest.mark.slow
def test_missing_file(finished):
    path, proc = finished["missing_file"]
    assert_clean_error(proc, path, "no such scenario file")


@pytest.mark.slow
def test_directory_instead_of_file(finished):
    path, proc = finished["directory"]
    assert_clean_error(proc, path, "is a directory")


@pytest.mark.slow
def test_out_that_is_not_a_run_folder_is_left_alone(finished):
    path, proc = finished["out_not_a_run_folder"]
    assert_clean_error(proc, path, "not a p2psim results folder")
    assert [p.name for p in path.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize("name", sorted(MORE_CASES))
def test_more_bad_input_in_process(tmp_path, capsys, name):
    case = MORE_CASES[name]
    path = scenario_path(tmp_path, name, case)
    assert cli.main([case.command, str(path), *case.args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ") and captured.err.count("error:") == 1
    for needle in case.needles:
        assert needle in captured.err, (needle, captured.err)
