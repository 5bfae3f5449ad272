"""The task executor: results in task order, the same with one worker or a process pool."""

from __future__ import annotations

import time

import pytest

from sim.experiments import executor


def slow_square(x: int) -> int:
    """Earlier tasks take longer, so in a pool they finish last."""
    time.sleep(0.05 * (4 - x))
    return x * x


@pytest.mark.parametrize("workers", [1, 2])
def test_results_come_back_in_task_order(workers):
    assert executor.execute(slow_square, [0, 1, 2, 3], workers=workers,
                            progress=False) == [0, 1, 4, 9]


def failing(x: int) -> int:
    raise ValueError(f"task {x} failed")


def test_a_failing_task_raises_in_the_caller():
    with pytest.raises(ValueError, match="task 0 failed"):
        executor.execute(failing, [0], workers=1, progress=False)
