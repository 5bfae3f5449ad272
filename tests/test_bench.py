"""The benchmark runs and prints its table and targets (timings are printed, never asserted)."""

from __future__ import annotations

from sim import bench


def test_quick_bench_prints_the_table_and_targets(capsys):
    assert bench.main(["--quick", "--skip-baseline"]) == 0
    out = capsys.readouterr().out
    for heading in ("inv-days/s", "floor ms", "step/floor", "array/object", "targets"):
        assert heading in out
