"""Experiments: running scenarios and comparing policies.

* :mod:`~sim.experiments.runner`: runs one scenario from day 0 to its last day and returns every
  table in memory (:class:`~sim.experiments.runner.RunResult`).
* :mod:`~sim.experiments.policy_sets`: policy sets (the levers) parsed from ``--policies`` names
  or a TOML file, the scenario each set runs, and the replication seeds.
* :mod:`~sim.experiments.executor`: runs independent tasks in process, on a local pool of warm
  (forked) workers or on a Dask cluster; results do not depend on which.
* :mod:`~sim.experiments.records`: a finished run (:class:`~sim.experiments.records.RunRecord`),
  where runs are committed (a store), and running only what a store does not hold yet.
* :mod:`~sim.experiments.compare`: a comparison's tasks, runs and result
  (:class:`~sim.experiments.compare.Comparison`).
* :mod:`~sim.experiments.sweep`: sweep files, SALib designs, the design points' scenarios and
  their runs.
* :mod:`~sim.experiments.analysis`: the statistics: means, paired differences, t intervals,
  confidence bands of daily series and significance.
* :mod:`~sim.experiments.sensitivity`: SALib's Sobol' and Morris indices, rank correlations.
* :mod:`~sim.experiments.ema`: the EMA workbench adapter and PRIM scenario discovery
  (optional extra).

Nothing here prints or writes files (see :mod:`sim.outputs`).
"""
