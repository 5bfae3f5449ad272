"""Run folders: complete contents, exact Parquet round trips and all-or-nothing writes."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.figure import Figure

import sim
from sim.outputs import plots, results

TABLES = ("timeseries", "platforms", "platform_daily", "events")
EXPECTED = {"cascade.csv", "timeseries.parquet", "timeseries.csv", "platforms.parquet", "platforms.csv",
            "platform_daily.parquet", "events.parquet", "events.csv", "summary.json",
            "manifest.json", *plots.PLOTS}


def leftovers(folder) -> list[str]:
    """Hidden staging or retired folders that a write left next to its target."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


class CrashError(Exception):
    """Stands in for a crash (disk full, a bug in a writer) in the middle of a write."""


@pytest.fixture(scope="module")
def written(tiny_result, tmp_path_factory):
    """One real run folder (with real plots) shared by the tests that only read it."""
    return results.write_run(tiny_result, tmp_path_factory.mktemp("written") / "run")


@pytest.fixture
def stub_plots(monkeypatch):
    """Blank one-inch figures instead of real charts: the write mechanics do not depend on them
    and drawing the real ones takes a second or two per folder."""
    def run_figures(result):
        return {name: Figure(figsize=(1, 1)) for name in plots.PLOTS}

    monkeypatch.setattr(plots, "run_figures", run_figures)


def test_folder_has_every_file_and_an_honest_manifest(tiny_result, written):
    folder = written
    assert {p.name for p in folder.iterdir()} == EXPECTED
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["seed"] == 11 and manifest["days"] == 25
    assert manifest["scenario"] == tiny_result.scenario.model_dump(mode="json")
    assert manifest["versions"]["p2psim"] == sim.__version__
    assert {"python", "numpy", "pandas", "mesa"} <= set(manifest["versions"])
    canonical = json.dumps(manifest["scenario"], sort_keys=True, separators=(",", ":"))
    assert manifest["scenario_sha256"] == hashlib.sha256(canonical.encode()).hexdigest()
    assert set(manifest["files"]) == EXPECTED - {"manifest.json"}
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    for name in plots.PLOTS:
        assert (folder / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plt.get_fignums() == [], "plots never go through pyplot's global figure list"
    assert leftovers(folder.parent) == []


@pytest.mark.parametrize("table", TABLES)
def test_parquet_round_trip_is_exact(tiny_result, written, table):
    frame = getattr(tiny_result, table)
    pd.testing.assert_frame_equal(pd.read_parquet(written / f"{table}.parquet"), frame)


def test_platform_daily_keeps_status_categorical(written):
    status = pd.read_parquet(written / "platform_daily.parquet")["status"]
    assert isinstance(status.dtype, pd.CategoricalDtype)


def test_summary_json_is_strict_json(stub_plots, tiny_result, tmp_path):
    odd = {**tiny_result.summary, "nan_outcome": math.nan, "none_outcome": None}
    folder = results.write_run(dataclasses.replace(tiny_result, summary=odd), tmp_path / "run")
    text = (folder / "summary.json").read_text()
    assert "NaN" not in text
    loaded = json.loads(text)
    assert loaded["nan_outcome"] is None and loaded["none_outcome"] is None
    assert loaded["days"] == 25


def half_written_then(error: type[BaseException]):
    """A table writer that writes some files, then fails as a crash or Ctrl-C would."""
    def write(result, folder):
        result.timeseries.to_csv(folder / "timeseries.csv", index=False)
        (folder / "summary.json").write_text("{}")
        raise error
    return write


@pytest.mark.parametrize("error", [CrashError, KeyboardInterrupt])
def test_crash_mid_write_leaves_nothing(stub_plots, tiny_result, tmp_path, monkeypatch, error):
    monkeypatch.setattr(results, "write_tables", half_written_then(error))
    target = tmp_path / "run"
    with pytest.raises(error):
        results.write_run(tiny_result, target)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == [], "no staging folder may leak"


def test_crash_while_plotting_leaves_nothing(tiny_result, tmp_path, monkeypatch):
    def crash(result):
        raise CrashError

    monkeypatch.setattr(plots, "run_figures", crash)
    with pytest.raises(CrashError):
        results.write_run(tiny_result, tmp_path / "run")
    assert list(tmp_path.iterdir()) == []


def test_crash_while_replacing_keeps_the_earlier_run(stub_plots, tiny_result, tmp_path, monkeypatch):
    target = results.write_run(tiny_result, tmp_path / "run")
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    monkeypatch.setattr(results, "write_tables", half_written_then(CrashError))
    with pytest.raises(CrashError):
        results.write_run(tiny_result, target, overwrite=True)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert leftovers(tmp_path) == []


def test_failed_swap_puts_the_earlier_run_back(stub_plots, tiny_result, tmp_path, monkeypatch):
    target = results.write_run(tiny_result, tmp_path / "run")
    manifest = (target / "manifest.json").read_bytes()
    real_rename = os.rename
    calls = []

    def rename(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:  # the old run is aside; the new one fails to move in
            raise CrashError
        real_rename(src, dst)

    monkeypatch.setattr(results.os, "rename", rename)
    with pytest.raises(CrashError):
        results.write_run(tiny_result, target, overwrite=True)
    assert (target / "manifest.json").read_bytes() == manifest
    assert leftovers(tmp_path) == []


def test_overwrite_replaces_an_earlier_run(stub_plots, tiny_result, tmp_path):
    target = results.write_run(tiny_result, tmp_path / "run")
    with pytest.raises(results.OutputError, match="--overwrite"):
        results.write_run(tiny_result, target)
    results.write_run(tiny_result, target, overwrite=True)
    assert {p.name for p in target.iterdir()} == EXPECTED
    assert leftovers(tmp_path) == []


def test_a_file_added_to_a_run_folder_makes_it_the_users(stub_plots, tiny_result, tmp_path):
    target = results.write_run(tiny_result, tmp_path / "run")
    (target / "notes.txt").write_text("my notes on this run")
    with pytest.raises(results.OutputError, match="did not write there.*notes.txt"):
        results.write_run(tiny_result, target, overwrite=True)
    assert (target / "notes.txt").read_text() == "my notes on this run"


def test_a_bare_manifest_is_not_a_signature(stub_plots, tiny_result, tmp_path):
    # The case: mkdir d; echo {} > d/manifest.json; echo x > d/thesis.tex
    d = tmp_path / "d"
    d.mkdir()
    (d / "manifest.json").write_text("{}")
    (d / "thesis.tex").write_text("x")
    for overwrite in (False, True):
        with pytest.raises(results.OutputError, match="not a p2psim results folder"):
            results.write_run(tiny_result, d, overwrite=overwrite)
    assert sorted(p.name for p in d.iterdir()) == ["manifest.json", "thesis.tex"]


def test_a_folder_of_another_kind_is_never_replaced(stub_plots, tiny_result, tmp_path):
    target = results.write_run(tiny_result, tmp_path / "run")
    with pytest.raises(results.OutputError, match="not a compare"):
        results.check_out_dir(target, "compare", overwrite=True)


def test_stale_staging_of_a_dead_writer_is_removed(stub_plots, tiny_result, tmp_path):
    dead = tmp_path / ".run.pid999999999.abc123.partial"  # no such process
    dead.mkdir()
    (dead / "timeseries.csv").write_text("half")
    live = tmp_path / f".run.pid{os.getpid()}.zzz.partial"  # ours: a live writer's
    live.mkdir()
    results.write_run(tiny_result, tmp_path / "run")
    assert not dead.exists() and live.exists()


def test_unwritable_target_is_refused_before_any_work(tmp_path):
    with pytest.raises(results.OutputError, match="cannot write"):
        results.check_out_dir("/sys/p2psim-test/run")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(results.OutputError, match="is a file"):
        results.check_out_dir(blocker / "sub" / "run")


def test_empty_folder_is_used(stub_plots, tiny_result, tmp_path):
    (tmp_path / "run").mkdir()
    results.write_run(tiny_result, tmp_path / "run")
    assert (tmp_path / "run" / "manifest.json").exists()


def test_refuses_to_replace_what_is_not_a_run(stub_plots, tiny_result, tmp_path):
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("years of work")
    with pytest.raises(results.OutputError, match="not a p2psim results folder"):
        results.write_run(tiny_result, precious)
    assert [p.name for p in precious.iterdir()] == ["chapter1.tex"]
    afile = tmp_path / "notes.txt"
    afile.write_text("x")
    with pytest.raises(results.OutputError, match="is a file"):
        results.write_run(tiny_result, afile)
    assert leftovers(tmp_path) == []


def test_default_folders_are_named_and_never_collide(stub_plots, tiny_result, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = results.write_run(tiny_result)
    second = results.write_run(tiny_result)  # same second: must not replace the first
    assert first != second and first.exists() and second.exists()
    assert first.parent == tmp_path / "runs"
    assert first.name.startswith("tiny-seed11-") and first.name.endswith("Z")
    odd = dataclasses.replace(tiny_result, scenario=tiny_result.scenario.model_copy(
        update={"name": "../my run/€"}))
    assert results.default_folder(odd).parent == results.DEFAULT_ROOT
    assert "/" not in results.default_folder(odd).name


def test_write_text_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "schema.json"
    results.write_text(path, "old\n")
    assert path.read_text() == "old\n"

    def crash(src, dst):
        raise CrashError

    monkeypatch.setattr(results.os, "replace", crash)
    with pytest.raises(CrashError):
        results.write_text(path, "new\n")
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["schema.json"]


def test_run_charts_are_returned_not_saved(tiny_result, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    figures = plots.run_figures(tiny_result)
    assert list(figures) == list(plots.PLOTS)
    assert all(isinstance(f, Figure) for f in figures.values())
    assert list(tmp_path.iterdir()) == [], "only sim.outputs.results writes files"
    assert plt.get_fignums() == []
    saved = results.save_figures(figures, tmp_path)
    assert saved == [tmp_path / name for name in plots.PLOTS]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in saved)
