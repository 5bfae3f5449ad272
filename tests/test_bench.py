"""The benchmark runs and prints its tables and verdicts (timings are printed, never asserted)."""

from __future__ import annotations

import numpy as np
import pytest

from sim import bench


def test_quick_bench_prints_the_tables_and_targets(capsys):
    assert bench.main(["--quick", "--skip-baseline"]) == 0
    out = capsys.readouterr().out
    for heading in ("investors", "engine", "build s", "ms/step", "inv-days/s", "rng words/step",
                    "peak RSS MB", "physical floor", "(a) draw ms", "(b) stream ms", "floor ms",
                    "step/floor", "array/object", "identical random draws: yes", "targets"):
        assert heading in out, heading
    assert "array" in out and "object" in out
    # One verdict line per target; the quick run is too small to judge the 10^6 targets, and
    # its runs are too short to judge the pool's parallel efficiency.
    assert out.count("  SKIP  ") == 4
    assert "parallel efficiency of the local pool" in out and "efficiency" in out


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
