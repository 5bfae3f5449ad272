"""The teaching app: a Mesa SolaraViz page where a class watches runs jump between platforms.

``p2psim app [SCENARIO]`` (or ``make app``) serves it on localhost. Only
:mod:`sim.app.page` imports Solara; everything else here runs without the ``app`` extra, so the
model side can be tested and timed headless.

* :mod:`~sim.app.lessons`: the classroom presets (a bank run, contagion through shared
  investors, a guarantee fund, a Ponzi scheme), each a small scenario with what to look for.
* :mod:`~sim.app.sources`: where a scenario comes from: a lesson, a shipped scenario, or TOML
  text pasted or uploaded into the page, validated like any scenario file.
* :mod:`~sim.app.model`: :class:`~sim.app.model.ClassroomModel`, the app-side Mesa model with
  flat keyword parameters that SolaraViz rebuilds on reset; it runs the market (and, side by
  side, the same seed with a policy) and fires shocks now.
* :mod:`~sim.app.network`: the market as a network: platforms, their shared investors, news
  similarity and the failure cascade.
* :mod:`~sim.app.views`: the figures the page shows (the network and the live charts).
* :mod:`~sim.app.page`: the Solara page (SolaraViz with the controls).
* :mod:`~sim.app.launch`: the command that serves the page.
"""
