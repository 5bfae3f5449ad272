"""Outputs: numbers as text, charts, the comparison report, and the files on disk.

Data flows one way: a run or a comparison (:mod:`sim.experiments`) -> figures and text -> files.

* :mod:`~sim.outputs.formatting`: numbers as text and the scale of a column or an axis, keyed by
  the unit of an outcome; used by the CLI tables, the report and the charts.
* :mod:`~sim.outputs.plots`: a run's charts (status, flows, balance sheet, rates, cascade), each
  returned as a bare matplotlib ``Figure``.
* :mod:`~sim.outputs.comparison_plots`: a comparison's charts (paired differences, efficiency
  against stability, daily series with confidence bands), returned as Figures.
* :mod:`~sim.outputs.toml_text`: TOML text of the scenario as run and of the policy sets.
* :mod:`~sim.outputs.report`: the comparison report as text: summary sentences, tables, HTML and
  Markdown.
* :mod:`~sim.outputs.sweep_plots`, :mod:`~sim.outputs.sweep_report`: a sweep's charts (indices,
  outcomes against factors) and its report.
* :mod:`~sim.outputs.results`: the only module that writes files: run, comparison and sweep
  folders (atomically, manifest last), their tables, PNGs and reports, and the store's files.
* :mod:`~sim.outputs.folders`: where results may go (p2psim never replaces what it did not
  write), checked before any work; staging folders and their clean-up.
* :mod:`~sim.outputs.store`: the resumable results store (one Parquet file per run, committed
  atomically) and :func:`~sim.outputs.store.read_store`, which reads one back.
"""
