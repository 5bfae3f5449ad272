"""Writing a run to disk: the only module that writes files.

A run folder is built in a temporary sibling folder and renamed into place in one step, with
``manifest.json`` written last, so an interrupted run never leaves a folder that looks complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import mesa
import numpy as np
import pandas as pd

import sim
from sim import plots
from sim.runner import RunResult


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value)}")


def _dump_json(obj, path: Path) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, default=_jsonable) + "\n")


def default_folder(result: RunResult, root: Path = Path("runs")) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return root / f"{result.scenario.name}-seed{result.seed}-{stamp}"


def manifest(result: RunResult) -> dict:
    config = result.scenario.model_dump(mode="json")
    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()
    return {
        "scenario": config,
        "scenario_sha256": digest,
        "seed": result.seed,
        "days": result.scenario.run.days,
        "elapsed_seconds": round(result.elapsed_seconds, 3),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": {
            "p2psim": sim.__version__, "python": sys.version.split()[0],
            "numpy": np.__version__, "pandas": pd.__version__, "mesa": mesa.__version__,
        },
        "platform": platform.platform(),
        "files": sorted(["timeseries.parquet", "timeseries.csv", "platforms.parquet",
                         "platforms.csv", "platform_daily.parquet", "events.parquet",
                         "events.csv", "summary.json"]),
    }


def _write_contents(result: RunResult, folder: Path) -> None:
    result.timeseries.to_parquet(folder / "timeseries.parquet", index=False)
    result.timeseries.to_csv(folder / "timeseries.csv", index=False)
    result.platforms.to_parquet(folder / "platforms.parquet", index=False)
    result.platforms.to_csv(folder / "platforms.csv", index=False)
    result.platform_daily.to_parquet(folder / "platform_daily.parquet", index=False)
    result.events.to_parquet(folder / "events.parquet", index=False)
    result.events.to_csv(folder / "events.csv", index=False)
    _dump_json(result.summary, folder / "summary.json")
    plots.plot_run(result, folder)
    _dump_json(manifest(result), folder / "manifest.json")  # last: marks the folder complete


def write_run(result: RunResult, folder: Path | None = None) -> Path:
    """Write ``result`` into ``folder`` (default ``runs/<name>-seed<N>-<time>``) atomically.

    An existing folder is replaced only after the new one is complete.
    """
    folder = Path(folder) if folder is not None else default_folder(result)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".partial",
                                    dir=folder.parent))
    try:
        _write_contents(result, staging)
        if folder.exists():
            retired = folder.with_name(f".{folder.name}.old-{os.getpid()}")
            folder.rename(retired)
            staging.rename(folder)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder
