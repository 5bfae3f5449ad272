"""Golden outputs: hashes of every shipped scenario's tables, to prove a refactoring changes none.

``python -m tests.golden.reference`` rewrites ``hashes.json`` from the code as it stands; run it
only when a change is *meant* to change results, and say so in the commit. ``tests/test_golden.py``
recomputes the hashes and compares.

Each case runs a scenario in process and hashes ``summary.json`` and the CSV tables exactly as
``p2psim run`` writes them, plus the platform-day panel's values.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
HASHES = Path(__file__).with_name("hashes.json")
FILES = ("summary.json", "timeseries.csv", "platforms.csv", "events.csv", "cascade.csv")


def cases() -> dict[str, tuple[str, list[str]]]:
    """Case name -> (scenario file, overrides). Every shipped scenario, plus policies on."""
    out = {p.stem: (str(p), []) for p in sorted((ROOT / "scenarios").glob("*.toml"))}
    # The 2013-2020 history takes a minute in full; its first 600 days cover every mechanism
    # it switches on before the 2016 regulation (tests/test_market.py runs it whole).
    out["china_2013_2020"] = (out["china_2013_2020"][0], ["run.days=600"])
    from sim.experiments.policy_sets import policy_names

    every = [f"policies.{name}.enabled=true" for name in policy_names()]
    out["stress_2018+every_policy"] = (str(ROOT / "scenarios" / "stress_2018.toml"),
                                       [*every, "run.days=400"])
    out["rumour+object_engine"] = (str(ROOT / "scenarios" / "rumour.toml"),
                                   ["run.engine=\"object\"", "investors.count=3000",
                                    "borrowers.count=800", "platforms.count=12", "run.days=200"])
    return out


def hashes_of(scenario_file: str, overrides: list[str]) -> dict[str, str]:
    """sha256 of each output file of one run, and of the platform-day panel."""
    from sim.config import load_scenario
    from sim.experiments.runner import run_scenario
    from sim.outputs.results import write_tables

    result = run_scenario(load_scenario(scenario_file, overrides), progress=False)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_tables(result, folder)
        for name in FILES:
            out[name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    panel = pd.util.hash_pandas_object(result.platform_daily, index=False).to_numpy()
    out["platform_daily"] = hashlib.sha256(panel.tobytes()).hexdigest()
    return out


def main() -> None:
    """Write ``hashes.json`` for every case (or only the cases named on the command line)."""
    wanted = sys.argv[1:]
    table = json.loads(HASHES.read_text()) if HASHES.exists() else {}
    for name, (path, overrides) in cases().items():
        if wanted and name not in wanted:
            continue
        table[name] = hashes_of(path, overrides)
        print(name, "done", flush=True)
    HASHES.write_text(json.dumps(table, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
