"""Writing results to disk: the only module in p2psim that writes files.

It writes a run folder (:func:`write_run`: tables, summary, charts) and a comparison folder
(:func:`write_comparison`: tables, report, charts), saving the figures that
:mod:`sim.outputs.plots` and :mod:`sim.outputs.comparison_plots` return, the text that
:mod:`sim.outputs.report` and :mod:`sim.outputs.toml_text` build, and a manifest.

A results folder is all or nothing. It is built in a hidden staging folder next to the target
(same filesystem, so the final rename is atomic), ``manifest.json`` is written last, and only
then is the staging folder renamed into place. An error or Ctrl-C at any point before that
removes the staging folder, so a folder holding ``manifest.json`` is always complete and a
half-written one is never visible under the target name.

Replacing an existing results folder (``--out`` with ``--overwrite``, and only a p2psim folder of
the same kind holding nothing else: :mod:`sim.outputs.folders`) moves the old folder aside, renames
the new one in and only then deletes the old one; if the swap fails the old folder is put back.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import platform
import re
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

import mesa
import numpy as np
import pandas as pd

import sim
from sim.config import Scenario
from sim.experiments.runner import RunResult
from sim.outputs.folders import MANIFEST, OutputError, signature, staging_folder

if TYPE_CHECKING:  # plotting, reports and scipy are imported where used: a run that writes
    # no chart (p2psim run --no-plots) never pays for them
    from matplotlib.figure import Figure

    from sim.experiments.calibrate import CalibrationResult
    from sim.experiments.compare import Comparison
    from sim.outputs import sweep_report

DEFAULT_ROOT = Path("runs")
PNG_DPI = 110  # resolution of every chart written
__all__ = ["MANIFEST", "OutputError"]  # re-exported: callers catch results.OutputError


# ----------------------------------------------------------------------------- helpers
def _plain(value):
    """``value`` as plain JSON: numpy scalars unwrapped, NaN and infinities as null.

    ``json`` would otherwise write ``NaN``, which is not JSON and breaks other readers.
    """
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _json_text(obj) -> str:
    return json.dumps(_plain(obj), indent=2, sort_keys=True, allow_nan=False) + "\n"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def scenario_fingerprint(scenario: Scenario) -> str:
    """sha256 of a scenario's canonical JSON, to tell outputs of equal inputs apart.

    Args:
        scenario: the scenario.

    Returns:
        The hex digest of its JSON dump with sorted keys and no spaces.
    """
    canonical = json.dumps(scenario.model_dump(mode="json"), sort_keys=True,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def scenario_sha256(result: RunResult) -> str:
    """Fingerprint of the scenario as run (see :func:`scenario_fingerprint`).

    Args:
        result: the run.

    Returns:
        The hex digest.
    """
    return scenario_fingerprint(result.scenario)


def versions(**extra: str) -> dict[str, str]:
    """Versions of p2psim, Python and the libraries behind a result.

    Args:
        **extra: further name -> version pairs (e.g. scipy for a comparison).

    Returns:
        Name -> version.
    """
    return {
        "p2psim": sim.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "mesa": mesa.__version__,
        "matplotlib": _installed("matplotlib"),
        **extra,
    }


def utc_now() -> datetime:
    """The current time in UTC, for folder names, manifests and reports."""
    return datetime.now(UTC)


def _umask_mode(mode: int) -> int:
    """``mode`` as the umask would leave it; mkdtemp/mkstemp create private (0700/0600) paths."""
    umask = os.umask(0)
    os.umask(umask)
    return mode & ~umask


# ----------------------------------------------------------------------------- where
def default_folder(result: RunResult, root: Path = DEFAULT_ROOT) -> Path:
    """``runs/<scenario name>-seed<seed>-<UTC time>``, made unique (see :func:`unique_folder`).

    Args:
        result: the run.
        root: the folder of all runs.

    Returns:
        A path that does not exist yet.
    """
    return unique_folder(root, result.scenario.name, f"-seed{result.seed}")


def unique_folder(root: Path, name: str, tag: str = "", prefix: str = "") -> Path:
    """``root/<prefix><name><tag>-<UTC time>``, made unique if that already exists.

    Args:
        root: the parent folder.
        name: a scenario name; reduced to letters, digits, ``.``, ``_`` and ``-`` so any name
            makes a valid folder name.
        tag: after the name (e.g. ``-seed7``).
        prefix: before the name (e.g. ``compare-``).

    Returns:
        A path that does not exist yet (``-2``, ``-3``, ... appended if needed).
    """
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "run"
    stamp = utc_now().strftime("%Y%m%dT%H%M%SZ")
    base = Path(root) / f"{prefix}{name}{tag}-{stamp}"
    folder, n = base, 1
    while folder.exists():  # two outputs in the same second: never touch the earlier one
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    return folder


def check_out_dir(folder: str | Path, kind: str = "run", overwrite: bool = False) -> Path:
    """Check that results of ``kind`` may be written to ``folder`` (see :mod:`.folders`).

    Args:
        folder: the ``--out`` target.
        kind: ``run``, ``compare``, ``sweep`` or ``calibration``.
        overwrite: an earlier p2psim folder of the same kind may be replaced.

    Returns:
        The absolute target path.

    Raises:
        OutputError: the target may not be written.
    """
    from sim.outputs import folders

    return folders.check_out_dir(folder, kind, overwrite)


# ----------------------------------------------------------------------------- what
def manifest(result: RunResult, files: dict[str, str]) -> dict:
    """Provenance of a run: inputs, versions, machine, time and a checksum of every file.

    Args:
        result: the run.
        files: file name -> sha256 of every other file in the folder.

    Returns:
        The manifest as plain data.
    """
    return {
        "scenario": result.scenario.model_dump(mode="json"),
        "scenario_sha256": scenario_sha256(result),
        "seed": int(result.seed),
        "days": int(result.days),
        "elapsed_seconds": round(float(result.elapsed_seconds), 3),
        "created_utc": utc_now().isoformat(timespec="seconds"),
        "versions": versions(),
        "platform": platform.platform(),
        "command": sys.argv,
        "files": files,
        **signature("run"),
    }


def save_figures(figures: dict[str, Figure], folder: Path) -> list[Path]:
    """Save figures as PNG files.

    Args:
        figures: file name -> figure.
        folder: an existing folder (a staging folder when called from :func:`write_folder`).

    Returns:
        The paths, in the order of ``figures``.
    """
    paths = []
    for name, figure in figures.items():
        path = Path(folder) / name
        figure.savefig(path, dpi=PNG_DPI)
        paths.append(path)
    return paths


def write_tables(result: RunResult, folder: Path) -> None:
    """Tables as Parquet (exact, typed) and CSV (for spreadsheets); summary as JSON.

    Args:
        result: the run.
        folder: an existing folder.
    """
    result.timeseries.to_parquet(folder / "timeseries.parquet", index=False)
    result.timeseries.to_csv(folder / "timeseries.csv", index=False)
    result.platforms.to_parquet(folder / "platforms.parquet", index=False)
    result.platforms.to_csv(folder / "platforms.csv", index=False)
    # The panel is days x platforms rows: Parquet only, a CSV of it would be large and slow.
    result.platform_daily.to_parquet(folder / "platform_daily.parquet", index=False)
    result.events.to_parquet(folder / "events.parquet", index=False)
    result.events.to_csv(folder / "events.csv", index=False)
    result.cascade.to_csv(folder / "cascade.csv", index=False)
    (folder / "summary.json").write_text(_json_text(result.summary), encoding="utf-8")


def write_folder(out_dir: str | Path, write_contents: Callable[[Path], None],
                 manifest_for: Callable[[dict[str, str]], dict], kind: str = "run",
                 overwrite: bool = False) -> Path:
    """Build a results folder in staging, add its manifest last and swap it in atomically.

    Args:
        out_dir: the target folder (checked with :func:`check_out_dir`, again just before the
            swap, so a file added to it during the run is never deleted).
        write_contents: writes every file but the manifest into the folder it is given.
        manifest_for: the manifest, given file name -> sha256 of every file written.
        kind: what the folder holds (``run``, ``compare``, ``sweep``, ``calibration``).
        overwrite: an earlier p2psim folder of the same kind there may be replaced.

    Returns:
        The folder.

    Raises:
        OutputError: ``out_dir`` is not a place results may be written.
        OSError: the disk refused (permissions, space); nothing is left behind.
    """
    folder = check_out_dir(out_dir, kind, overwrite)
    folder.parent.mkdir(parents=True, exist_ok=True)
    # Hidden and next to the target: same filesystem, so the final rename is atomic.
    staging = staging_folder(folder)
    try:
        os.chmod(staging, _umask_mode(0o777))
        write_contents(staging)
        files = {p.name: _sha256(p) for p in sorted(staging.iterdir()) if p.is_file()}
        # Last: a manifest is the mark of a complete folder.
        (staging / MANIFEST).write_text(_json_text(manifest_for(files)), encoding="utf-8")
        check_out_dir(folder, kind, overwrite)  # the run took a while: look again
        _swap_into_place(staging, folder)
    except BaseException:  # includes KeyboardInterrupt: never leave a staging folder behind
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def _swap_into_place(staging: Path, folder: Path) -> None:
    """Rename ``staging`` to ``folder``, replacing an earlier run folder there."""
    if not folder.exists():
        os.rename(staging, folder)
        return
    retired = folder.with_name(f".{folder.name}.old-{uuid.uuid4().hex[:8]}")
    os.rename(folder, retired)
    try:
        os.rename(staging, folder)
    except BaseException:
        os.rename(retired, folder)  # put the previous run back as it was
        raise
    # Unmark the old run first, so an interruption during the delete leaves nothing that looks
    # like a complete run.
    with contextlib.suppress(OSError):
        (retired / MANIFEST).unlink()
    shutil.rmtree(retired, ignore_errors=True)


def write_run(result: RunResult, out_dir: str | Path | None = None,
              overwrite: bool = False, plots: bool = True) -> Path:
    """Write a run folder atomically and return its path.

    Contents: ``timeseries``, ``platforms`` (Parquet + CSV), ``platform_daily`` (Parquet),
    ``events`` (Parquet + CSV), ``cascade.csv``, ``summary.json``, the PNG charts of
    :mod:`sim.outputs.plots` and, last, ``manifest.json``.

    Args:
        result: the run.
        out_dir: target folder. ``None`` means a new folder under ``runs/`` (never replaces
            anything).
        overwrite: an earlier p2psim run folder at ``out_dir`` is replaced, atomically; without
            it such a folder is refused.
        plots: draw the charts (False: tables only, as ``p2psim run --no-plots``).

    Returns:
        The run folder.

    Raises:
        OutputError: ``out_dir`` is not a place a run may be written (see :func:`check_out_dir`).
        OSError: the disk refused (permissions, space); nothing is left behind.
    """
    def write_contents(folder: Path) -> None:
        write_tables(result, folder)
        if plots:
            from sim.outputs import plots as run_plots

            save_figures(run_plots.run_figures(result), folder)

    return write_folder(default_folder(result) if out_dir is None else out_dir, write_contents,
                        lambda files: manifest(result, files), "run", overwrite)


# ----------------------------------------------------------------------------- comparisons
def comparison_folder(comp: Comparison, root: Path = DEFAULT_ROOT) -> Path:
    """``runs/compare-<scenario name>-<UTC time>``, made unique if it already exists.

    Args:
        comp: the comparison.
        root: the folder of all results.

    Returns:
        A path that does not exist yet.
    """
    return unique_folder(root, comp.scenario.name, prefix="compare-")


def comparison_manifest(comp: Comparison, files: dict[str, str]) -> dict:
    """Provenance of a comparison: scenario, seeds, policy sets, versions, timing, checksums.

    Args:
        comp: the comparison.
        files: file name -> sha256 of every other file in the folder.

    Returns:
        The manifest as plain data.
    """
    return {
        "kind": "policy comparison",
        "scenario": comp.scenario.model_dump(mode="json"),
        "scenario_sha256": scenario_fingerprint(comp.scenario),
        "seeds": {"base": comp.seeds[0], "replications": comp.seeds,
                  "rule": "replication r uses base + r in every policy set"},
        "replications": comp.replications,
        "policy_sets": [{"name": s.name, "enabled": s.enabled, "policies": s.policies}
                        for s in comp.sets],
        "workers": comp.workers,
        "elapsed_seconds": round(comp.elapsed_seconds, 3),
        "run_seconds": round(comp.run_seconds, 3),
        "created_utc": utc_now().isoformat(timespec="seconds"),
        "versions": versions(scipy=_installed("scipy")),
        "platform": platform.platform(),
        "command": sys.argv,
        "files": files,
        **signature("compare"),
    }


def _write_comparison_contents(comp: Comparison, folder: Path) -> None:
    comp.table.to_csv(folder / "comparison.csv", index=False)
    comp.runs.to_csv(folder / "runs.csv", index=False)
    comp.series.to_parquet(folder / "series.parquet", index=False)
    from sim.outputs import comparison_plots, report, toml_text

    scenario_text = toml_text.scenario_toml(comp)
    (folder / "scenario.toml").write_text(scenario_text, encoding="utf-8")
    (folder / "policy_sets.toml").write_text(toml_text.policy_sets_toml(comp), encoding="utf-8")
    figures = save_figures(comparison_plots.comparison_figures(comp), folder)
    (folder / "report.md").write_text(report.render_markdown(comp, figures, scenario_text),
                                      encoding="utf-8")
    (folder / "report.html").write_text(
        report.render_html(comp, figures, scenario_text, created=utc_now()), encoding="utf-8")


def write_comparison(comp: Comparison, out_dir: str | Path | None = None,
                     overwrite: bool = False) -> Path:
    """Write the comparison folder atomically and return its path.

    Contents: ``comparison.csv`` (set, outcome, mean, diff, ci_low, ci_high, n), ``runs.csv``
    (one row per set x replication, every summary value), ``series.parquet`` (the daily series
    behind the bands), ``scenario.toml`` and ``policy_sets.toml`` (to reproduce the runs), the
    PNG figures of :mod:`sim.outputs.comparison_plots`, ``report.md``, ``report.html`` and,
    last, ``manifest.json``.

    Args:
        comp: the comparison.
        out_dir: target folder; ``None`` means a new folder under ``runs/``.
        overwrite: an earlier p2psim comparison folder at ``out_dir`` is replaced atomically.

    Returns:
        The folder.

    Raises:
        OutputError: ``out_dir`` is not a place results may be written.
        OSError: the disk refused; nothing is left behind.
    """
    return write_folder(comparison_folder(comp) if out_dir is None else out_dir,
                        lambda folder: _write_comparison_contents(comp, folder),
                        lambda files: comparison_manifest(comp, files), "compare", overwrite)


# ----------------------------------------------------------------------------- sweeps
def _installed(package: str) -> str:
    """The installed version of ``package``, or ``"not installed"``."""
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def sweep_folder(name: str, root: Path = DEFAULT_ROOT) -> Path:
    """``runs/sweep-<sweep name>-<UTC time>``, made unique if it already exists.

    Args:
        name: the sweep's name.
        root: the folder of all results.

    Returns:
        A path that does not exist yet.
    """
    return unique_folder(root, name, prefix="sweep-")


def sweep_manifest(data: sweep_report.SweepReportData, files: dict[str, str]) -> dict:
    """Provenance of a sweep report: the sweep, its seeds, store, versions, timing, checksums.

    Args:
        data: the report's data.
        files: file name -> sha256 of every other file in the folder.

    Returns:
        The manifest as plain data.
    """
    sweep, progress = data.result.sweep, data.result.progress
    return {
        "kind": "sweep",
        "sweep": sweep.spec.model_dump(mode="json"),
        "scenario": sweep.scenario.model_dump(mode="json"),
        "scenario_sha256": scenario_fingerprint(sweep.scenario),
        "experiment_sha256": sweep.fingerprint(),
        "seeds": {"replications": sweep.seeds,
                  "rule": "replication r of every design point uses base + r"},
        "design_points": len(sweep.points), "runs": sweep.runs,
        "store": str(data.store),
        "executor": progress.executor, "workers": progress.workers,
        "runs_resumed": progress.skipped, "runs_now": progress.ran,
        "elapsed_seconds": round(progress.elapsed_seconds, 3),
        "run_seconds": round(float(data.result.runs["run_seconds"].sum()), 3),
        "created_utc": utc_now().isoformat(timespec="seconds"),
        "versions": versions(scipy=_installed("scipy"), SALib=_installed("SALib")),
        "platform": platform.platform(),
        "command": sys.argv,
        "files": files,
        **signature("sweep"),
    }


def _write_sweep_contents(data: sweep_report.SweepReportData, sweep_text: str,
                          folder: Path) -> None:
    from sim.outputs import sweep_plots, sweep_report, toml_text

    sweep = data.result.sweep
    data.indices.to_csv(folder / "indices.csv", index=False)
    sweep.points.rename_axis("point").reset_index().to_csv(folder / "design.csv", index=False)
    data.result.runs.to_csv(folder / "runs.csv", index=False)
    (folder / "sweep.toml").write_text(sweep_text, encoding="utf-8")
    (folder / "scenario.toml").write_text(
        toml_text.to_toml(sweep.scenario.model_dump(mode="json")),
        encoding="utf-8")
    figures = save_figures(sweep_plots.sweep_figures(
        sweep.spec.design.method, data.indices, sweep.points, data.means, data.labels,
        data.subtitle(), runs=data.result.runs), folder)
    (folder / "report.md").write_text(sweep_report.render_markdown(data, figures, sweep_text),
                                      encoding="utf-8")
    (folder / "report.html").write_text(
        sweep_report.render_html(data, figures, sweep_text, created=utc_now()), encoding="utf-8")


def write_sweep(data: sweep_report.SweepReportData, sweep_text: str,
                out_dir: str | Path | None = None, overwrite: bool = False) -> Path:
    """Write a sweep's report folder atomically and return its path.

    Contents: ``report.html`` (self-contained) and ``report.md``, ``indices.csv`` (outcome,
    factor, index, value, conf, low, high), ``design.csv`` (the design points' factor values),
    ``runs.csv`` (every run, as :func:`sim.outputs.store.read_store` gives it), ``sweep.toml``
    (the sweep file as given), ``scenario.toml`` (the base scenario), the PNG figures of
    :mod:`sim.outputs.sweep_plots` and, last, ``manifest.json``. The runs themselves stay in the
    store.

    Args:
        data: the report's data.
        sweep_text: the sweep file's text.
        out_dir: target folder; ``None`` means a new folder under ``runs/``.
        overwrite: an earlier p2psim sweep report at ``out_dir`` is replaced atomically.

    Returns:
        The folder.

    Raises:
        OutputError: ``out_dir`` is not a place results may be written.
        OSError: the disk refused; nothing is left behind.
    """
    folder = sweep_folder(data.result.sweep.spec.name) if out_dir is None else out_dir
    return write_folder(folder, lambda f: _write_sweep_contents(data, sweep_text, f),
                        lambda files: sweep_manifest(data, files), "sweep", overwrite)


# ----------------------------------------------------------------------------- calibration
def calibration_manifest(result: CalibrationResult, store: Path, files: dict[str, str]) -> dict:
    """Provenance of a calibration folder: inputs, seeds, optimizer, store, timing, checksums.

    Args:
        result: the calibration.
        store: its results store.
        files: file name -> sha256 of every other file in the folder.

    Returns:
        The manifest as plain data.
    """
    cal = result.calibration
    return {
        "kind": "calibration",
        **signature("calibration"),
        "scenario": cal.scenario.model_dump(mode="json"),
        "scenario_sha256": scenario_fingerprint(cal.scenario),
        "experiment_sha256": cal.fingerprint(),
        "params": cal.params.model_dump(mode="json"),
        "targets": cal.targets.model_dump(mode="json"),
        "seeds": {"replications": cal.seeds,
                  "rule": "replication r of every parameter vector uses base + r"},
        "estimate": dict(zip(cal.params.keys, result.theta.tolist(), strict=True)),
        "se": dict(zip(cal.params.keys, result.inference.se.tolist(), strict=True)),
        "objective": result.objective, "j": result.inference.j, "df": result.inference.df,
        "p_chi2": result.inference.p_chi2, "p_weighted": result.inference.p_weighted,
        "optimizer": result.optimizer, "store": str(store),
        "runs_now": result.ran, "runs_resumed": result.resumed,
        "run_wall_seconds": round(result.seconds, 3),
        "created_utc": utc_now().isoformat(timespec="seconds"),
        "versions": versions(scipy=_installed("scipy")),
        "platform": platform.platform(), "command": sys.argv, "files": files,
    }


def _write_calibration_contents(result: CalibrationResult, inputs: dict[str, str],
                                command: str, folder: Path) -> None:
    from sim.outputs import calibration_plots, calibration_report, toml_text

    cal = result.calibration
    result.params_table().to_csv(folder / "params.csv", index=False)
    result.moments_table().to_csv(folder / "moments.csv", index=False)
    result.evaluations.to_csv(folder / "evaluations.csv", index=False)
    result.convergence.to_csv(folder / "convergence.csv", index=False)
    pd.DataFrame(result.jacobian, index=cal.names, columns=cal.params.keys).rename_axis(
        "moment").to_csv(folder / "jacobian.csv")
    result.identification.to_csv(folder / "identification.csv", index=False)
    result.local.to_csv(folder / "local_sensitivity.csv", index=False)
    if result.morris is not None:
        result.morris.to_csv(folder / "morris.csv", index=False)
    for name, text in inputs.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "fitted_scenario.toml").write_text(
        f"# {cal.scenario.name} with the parameters fitted by p2psim calibrate\n"
        + toml_text.to_toml(cal.scenario_data(result.theta)), encoding="utf-8")
    title = f"{cal.scenario.name}: fitted moments against targets"
    figures = {"fit.png": calibration_plots.fit_figure(result.moments_table(), title),
               "convergence.png": calibration_plots.convergence_figure(
                   result.evaluations, f"{cal.scenario.name}: differential evolution")}
    save_figures(figures, folder)
    (folder / "report.md").write_text(
        calibration_report.render_markdown(result, list(figures), command), encoding="utf-8")


def write_calibration(result: CalibrationResult, inputs: dict[str, str], store: str | Path,
                      out_dir: str | Path | None = None, overwrite: bool = False) -> Path:
    """Write a calibration folder atomically and return its path.

    Contents: ``params.csv`` (estimate, se, 95% interval), ``moments.csv`` (every moment: target
    and sd, fitted mean and 95% interval of the replications, start, t), ``evaluations.csv``
    (every parameter vector tried, its objective), ``convergence.csv`` (best objective by
    generation), ``jacobian.csv`` (G), ``identification.csv`` (a verdict per parameter),
    ``local_sensitivity.csv`` and ``morris.csv`` (if screened), the input files as given (``inputs``),
    ``fitted_scenario.toml``, ``fit.png``, ``convergence.png``, ``report.md`` and, last,
    ``manifest.json``.

    Args:
        result: the calibration.
        inputs: file name -> text of the input files (targets, params, scenario).
        store: the results store of its runs.
        out_dir: target folder; ``None`` means a new folder under ``runs/``.
        overwrite: an earlier calibration folder there may be replaced.

    Returns:
        The folder.

    Raises:
        OutputError: ``out_dir`` is not a place results may be written.
        OSError: the disk refused; nothing is left behind.
    """
    name = result.calibration.scenario.name
    folder = unique_folder(DEFAULT_ROOT, name, prefix="calibration-") if out_dir is None \
        else out_dir
    command = " ".join(["p2psim", *sys.argv[1:]])
    return write_folder(folder, lambda f: _write_calibration_contents(result, inputs, command, f),
                        lambda files: calibration_manifest(result, Path(store), files),
                        "calibration", overwrite)


# ----------------------------------------------------------------------------- other files
def write_text(path: str | Path, text: str) -> Path:
    """Write a text file atomically (temp file in the same folder, then ``os.replace``).

    Args:
        path: the file; its folder must exist.
        text: the content (UTF-8).

    Returns:
        The path.

    Raises:
        OutputError: ``path`` is a folder or its folder does not exist.
        OSError: the disk refused; the old file, if any, is left as it was.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name")
    if not path.parent.is_dir():
        raise OutputError(f"{path}: folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, _umask_mode(0o666))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def write_parquet(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a frame as a Parquet file atomically: a temp file in the same folder, then rename.

    A reader (or a run resumed after SIGKILL) sees either the whole file or none: the temp file
    is hidden (``.<name>.<random>.tmp``) and renamed into place only once fully written.

    Args:
        frame: the table (its index is not written).
        path: the file; its folder must exist.

    Returns:
        The path.

    Raises:
        OSError: the disk refused; nothing is left under ``path``.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        frame.to_parquet(tmp, index=False)
        os.chmod(tmp, _umask_mode(0o666))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def write_json(path: str | Path, obj) -> Path:
    """Write plain data as JSON atomically (NaN as null; see :func:`write_text`).

    Args:
        path: the file; its folder must exist.
        obj: plain data (dicts, lists, numbers, strings; numpy scalars are unwrapped).

    Returns:
        The path.
    """
    return write_text(path, _json_text(obj))


def make_folder(path: str | Path) -> Path:
    """Create a folder and its parents if missing.

    Args:
        path: the folder.

    Returns:
        The path.

    Raises:
        OutputError: a file is in the way.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{path}: exists and is a file, not a folder")
    path.mkdir(parents=True, exist_ok=True)
    return path


def remove_stale_temps(folder: str | Path) -> int:
    """Delete temp files left by writers that were killed (``.*.tmp`` in ``folder``).

    Call it only while holding the folder's lock (:func:`lock_file`), so no live writer's temp
    file is removed.

    Args:
        folder: the folder.

    Returns:
        How many were removed.
    """
    removed = 0
    for tmp in Path(folder).glob(".*.tmp"):
        with contextlib.suppress(OSError):
            tmp.unlink()
            removed += 1
    return removed


def lock_file(path: str | Path):
    """Take an exclusive lock on ``path`` (created if missing) without waiting.

    The operating system releases it when the process ends, however it ends (SIGKILL included).

    Args:
        path: the lock file.

    Returns:
        The open file holding the lock; close it to release the lock.

    Raises:
        OutputError: another process holds the lock.
    """
    import fcntl

    handle = open(path, "a+b")  # noqa: SIM115 - held open for as long as the lock
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise OutputError(f"{path}: another p2psim process is writing to this store") from None
    return handle
