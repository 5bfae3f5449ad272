"""Issue #9 behaviours that are not bad input: what valid input now does, and signals.

The bad inputs themselves are in ``test_catalogue.py``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import cli, shipped
from sim.config import load_scenario
from sim.config.memory import available_bytes, check_memory, estimate_bytes
from sim.experiments.analysis import significant, zero_variance
from tests.conftest import ROOT, TINY_SETS

TINY = TINY_SETS + ["--no-progress"]


# ----------------------------------------------------------------- --set and files
def test_set_reaches_list_entries(tmp_path, capsys):
    path = tmp_path / "two.toml"
    path.write_text('name = "two"\n[[platforms.custom]]\nname = "A"\n[[platforms.custom]]\n'
                    'name = "B"\n[[shocks]]\ntype = "rumour"\nstart = 3\n', encoding="utf-8")
    sc = load_scenario(path, ["shocks.0.size=2", "platforms.custom.1.leverage=20"])
    assert sc.shocks[0].size == 2 and sc.platforms.custom[1].leverage == 20
    assert sc.platforms.custom[0].leverage is None


def test_a_byte_order_mark_is_read_like_any_file(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes("\ufeffname = \"bom\"\n[investors]\ncount = 300\n".encode())
    assert load_scenario(path).investors.count == 300


def test_validate_warns_of_a_shock_after_the_last_day(tmp_path, capsys):
    path = tmp_path / "late.toml"
    path.write_text('name = "late"\n[run]\ndays = 30\n[[shocks]]\ntype = "credit"\nstart = 40\n',
                    encoding="utf-8")
    assert cli.main(["validate", str(path)]) == 0
    err = capsys.readouterr().err
    assert "warning:" in err and "shocks.0 (credit)" in err and "day 40" in err


# ----------------------------------------------------------------- shipped scenarios
def test_shipped_scenarios_are_found_from_any_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert shipped.resolve().is_file() and "stress_2018" in shipped.names()
    assert cli.main(["validate", "stress_2018"]) == 0
    assert cli.main(["scenarios"]) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in shipped.names())
    assert cli.main(["scenarios", "--copy", "rumour"]) == 0
    assert (tmp_path / "rumour.toml").read_text() == shipped.resolve("rumour").read_text()


def test_run_with_no_argument_runs_the_shipped_baseline_anywhere(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", *TINY, "--steps", "3"]) == 0
    assert capsys.readouterr().out.startswith("baseline: 3 days")
    assert len(list((tmp_path / "runs").iterdir())) == 1


def test_the_package_data_lists_every_shipped_file():
    import tomllib

    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["sim"]
    package = ROOT / "sim"
    matched = {p.resolve() for g in globs for p in package.glob(g)}
    wanted = {p.resolve() for p in (ROOT / "scenarios").rglob("*") if p.is_file()}
    assert (package / "scenarios").resolve() == (ROOT / "scenarios").resolve()
    assert wanted <= matched, wanted - matched


# ----------------------------------------------------------------- memory
def test_memory_estimate_grows_with_every_size():
    sc = load_scenario(shipped.resolve("baseline"))
    base = estimate_bytes(sc)
    assert 200 * 2**20 < base < 2 * 2**30  # the baseline: a few hundred MB
    for section, field, value in (("investors", "count", 400_000), ("borrowers", "count", 400_000),
                                  ("platforms", "max_platforms", 200_000), ("run", "days", 7300)):
        bigger = sc.model_copy(deep=True)
        setattr(getattr(bigger, section), field, value)
        assert estimate_bytes(bigger) > base, field
    assert check_memory(sc) == base
    assert available_bytes() is None or available_bytes() > 0


# ----------------------------------------------------------------- statistics
def test_a_difference_the_same_in_every_replication_gets_no_star():
    same = pd.Series({"ci_low": -1.0, "ci_high": -1.0})
    assert not significant(same) and zero_variance(same)
    assert significant(pd.Series({"ci_low": -2.0, "ci_high": -0.5}))
    assert not zero_variance(pd.Series({"ci_low": 0.0, "ci_high": 0.0}))
    assert not significant(pd.Series({"ci_low": np.nan, "ci_high": np.nan}))


def test_workers_are_reported_as_used(scenario_file, tmp_path, capsys):
    code = cli.main(["compare", str(scenario_file), "--policies", "custody", "--replications",
                     "1", "--workers", "1000", "--steps", "5", "--no-progress",
                     "--out", str(tmp_path / "c")])
    out = capsys.readouterr().out
    used = min(2, os.cpu_count() or 1)
    assert code == 0
    assert f"with {used} worker" in out and "(1000 requested)" in out
    assert "n = 1 replications is small" in out


# ----------------------------------------------------------------- signals and leftovers
def _catches_sigterm(pid: int) -> bool:
    """Whether process ``pid`` has a handler for SIGTERM (Linux: SigCgt in /proc)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return False
    caught = int(next(line.split()[1] for line in status.splitlines()
                      if line.startswith("SigCgt:")), 16)
    return bool(caught & (1 << (signal.SIGTERM - 1)))


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_sigterm_exits_143_with_a_message_and_leaves_nothing(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "run", "baseline", "--set", "investors.count=20000",
         "--out", str(tmp_path / "run")],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not _catches_sigterm(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)  # until p2psim has installed its handler (Python's default has none)
    time.sleep(1.0)  # into the run
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    err = err.decode()
    assert proc.returncode == 143, err
    assert "terminated" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_a_run_folder_manifest_carries_the_signature(tmp_path, capsys):
    assert cli.main(["run", "baseline", *TINY, "--steps", "3", "--out", str(tmp_path / "r")]) == 0
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["generator"] == "p2psim" and manifest["folder_kind"] == "run"
    assert cli.main(["run", "baseline", *TINY, "--steps", "3", "--out", str(tmp_path / "r"),
                     "--overwrite"]) == 0
