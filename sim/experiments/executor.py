"""Running independent tasks in this process or in a process pool, with results in task order.

Results come back in the order of the tasks, whatever order the runs finish in, so nothing
downstream depends on the number of workers.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from tqdm import tqdm


def execute(function: Callable[[Any], Any], tasks: Sequence[Any], workers: int = 1,
            progress: bool = True, desc: str = "compare") -> list[Any]:
    """Apply ``function`` to every task, in process (``workers <= 1``) or in a process pool.

    The pool starts its workers with ``spawn``, the same on every platform, so a worker sees
    only what it is sent: ``function`` must be defined at module level and the tasks must be
    picklable.

    Args:
        function: called once per task.
        tasks: the inputs.
        workers: processes; 1 runs in this process.
        progress: a tqdm bar over the tasks on stderr (only when stderr is a terminal).
        desc: the bar's label.

    Returns:
        ``function(task)`` for every task, in task order.

    Raises:
        Exception: the first error a task raised; the tasks not started yet are cancelled.
    """
    out: dict[int, Any] = {}
    # disable=None: tqdm switches itself off when stderr is not a terminal (pipes, CI, tests).
    with tqdm(total=len(tasks), unit="run", desc=desc, disable=None if progress else True,
              dynamic_ncols=True) as bar:
        if workers <= 1:
            for i, task in enumerate(tasks):
                out[i] = function(task)
                bar.update()
        else:
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                futures = {pool.submit(function, task): i for i, task in enumerate(tasks)}
                try:
                    for future in as_completed(futures):
                        out[futures[future]] = future.result()
                        bar.update()
                except BaseException:
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise
    return [out[i] for i in range(len(tasks))]
