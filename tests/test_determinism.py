"""The same scenario and seed give bit-identical results, in this process and in another."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pandas as pd

from sim import P2PModel
from tests.conftest import tiny_scenario

CONFIG = tiny_scenario(platforms={"share_fraud": 0.2, "demand_share": 0.5})


def fingerprint(model: P2PModel) -> str:
    h = hashlib.sha256()
    for frame in (model.timeseries(), model.platform_table(), model.events_table()):
        h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    h.update(model.investors.pos_principal.tobytes())
    return h.hexdigest()


def run(seed: int) -> str:
    model = P2PModel(CONFIG, seed=seed)
    model.run()
    return fingerprint(model)


def test_same_seed_same_results_in_process():
    assert run(11) == run(11)


def test_different_seed_different_results():
    assert run(11) != run(12)


def test_same_seed_same_results_in_a_fresh_process():
    code = ("from tests.test_determinism import run; print(run(11))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == run(11)
