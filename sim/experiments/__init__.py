"""Experiments: running scenarios and comparing policies.

* :mod:`~sim.experiments.runner`: runs one scenario from day 0 to its last day and returns every
  table in memory (:class:`~sim.experiments.runner.RunResult`).
* :mod:`~sim.experiments.policy_sets`: policy sets (the levers) parsed from ``--policies`` names
  or a TOML file, the scenario each set runs, and the replication seeds.
* :mod:`~sim.experiments.executor`: runs independent tasks in process or in a ``spawn`` process
  pool, results in task order.
* :mod:`~sim.experiments.compare`: a comparison's tasks, runs and result
  (:class:`~sim.experiments.compare.Comparison`).
* :mod:`~sim.experiments.analysis`: the statistics: means, paired differences, t intervals,
  confidence bands of daily series and significance.

Nothing here prints or writes files (see :mod:`sim.outputs`).
"""
