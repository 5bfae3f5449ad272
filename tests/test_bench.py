"""The benchmark runs and reports its figures (timings are printed, never asserted)."""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest

from sim import bench
from sim.bench import endtoend, sector, year
from sim.bench.main import main as bench_main


def test_quick_bench_prints_the_tables_and_writes_the_json(capsys, tmp_path):
    path = tmp_path / "bench.json"
    assert bench_main(["--quick", "--json", str(path)]) == 0
    out = capsys.readouterr().out
    for heading in ("whole stressed year", "step ms", "floor ms", "step/floor", "B/investor",
                    "per-phase split", "investor_decisions", "array against object engine",
                    "speed-up", "targets"):
        assert heading in out, heading
    data = json.loads(path.read_text())
    row = data["year"][0]
    for key in ("investors", "days", "step_ms", "step_s", "phases_ms", "floor_ms",
                "floor_draw_ms", "floor_stream_ms", "ratio", "peak_mb", "bytes_per_investor"):
        assert key in row, key
    assert len(row["step_s"]) == row["days"] == 30
    # The phases cover the step: their sum is the step less the clock's own calls.
    assert sum(row["phases_ms"].values()) == pytest.approx(row["step_ms"], rel=0.1)
    assert row["ratio"] == pytest.approx(row["step_ms"] / row["floor_ms"])
    side = data["side_by_side"][0]
    assert side["identical_draws"] is True and side["speedup"] > 1


def test_the_floor_depends_on_the_population_size_alone():
    # Nothing of the model goes in: one uniform and 64 bytes read and written per investor.
    assert list(inspect.signature(year.Floor).parameters) == ["investors", "micro_repeats"]
    floor = year.Floor(1000, micro_repeats=1)
    floor.sample()
    assert floor.uniforms.size == 1000 and floor.buffer.nbytes == 64 * 1000
    assert np.all(floor.buffer == 1.0)  # every byte was read and written once per sample
    assert floor.seconds > 0


def test_cli_split_times_every_stage_in_a_fresh_interpreter(tmp_path):
    stages = endtoend.cli_split(bench.BASELINE, plots=False,
                                overrides=["run.days=3", "investors.count=500",
                                           "borrowers.count=100"])
    assert {"import", "build", "simulate", "write", "total", "startup"} <= stages.keys()
    assert "plot" not in stages
    assert stages["total"] >= sum(stages[k] for k in ("import", "build", "simulate", "write"))


def test_sector_run_reports_or_fails_under_its_memory_limit():
    small = sector.sector_run(scale=2e-4, days=2, max_gb=8.0)
    assert small["days_done"] == 2 and small["investors"] == 3400 and small["peak_mb"] > 0
    starved = sector.sector_run(scale=2e-4, days=2, max_gb=0.001)  # not even the interpreter
    assert "error" in starved


@pytest.mark.parametrize("draw", [
    lambda g: g.random(1000),
    lambda g: g.standard_normal(257),
    lambda g: g.integers(0, 3, 999),
    lambda g: g.permutation(1000),
    lambda g: g.beta(0.4, 3.6, 100),
])
def test_pcg64_words_matches_a_replayed_generator(draw):
    rng = np.random.default_rng(7)
    before = rng.bit_generator.state
    draw(rng)
    words = bench.pcg64_words(before, rng.bit_generator.state)
    replay = np.random.default_rng(7)
    replay.bit_generator.random_raw(words)
    assert replay.bit_generator.state["state"] == rng.bit_generator.state["state"]


def test_counting_generator_forwards_draws_and_counts_values():
    counted = bench.CountingGenerator(np.random.default_rng(3))
    plain = np.random.default_rng(3)
    assert np.array_equal(counted.random((4, 5)), plain.random((4, 5)))
    assert np.array_equal(counted.permutation(7), plain.permutation(7))
    assert counted.values == 27
    assert counted.by_method == {"random": 20, "permutation": 7}
