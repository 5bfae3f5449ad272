"""The app's model: a market (and, side by side, its twin with a policy) behind flat parameters.

Mesa's SolaraViz rebuilds the model on reset as ``type(model)(**params)`` from the page's
controls, so :class:`ClassroomModel` takes only flat keyword parameters: the scenario as TOML
text, the seed, the policy to compare, and any scenario field by its dotted key
(``"platforms.cash_buffer_target": 0.05``), validated with the scenario like ``--set``.

Side by side, the twin is the same scenario with the same seed and one policy switched on; the
left run has that policy off. Both step together, and a shock fired now goes to both, so the
only difference between them is the policy.

Shocks "now" are ordinary scheduled shocks that start tomorrow
(:meth:`sim.mechanisms.shocks.ShockSchedule.add`): a run with shocks fired on days ``d`` is
exactly the run whose scenario lists them from ``d + 1``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import mesa
import numpy as np

from sim.app.lessons import LESSONS
from sim.app.network import MarketGraph, market_graph
from sim.app.sources import NO_COMPARISON, scenario_from_text
from sim.config import Scenario, ScenarioError, ShockConfig, validate_scenario
from sim.mechanisms.policies import registered_policies
from sim.model import P2PModel
from sim.vocabulary import Status

# Above these a run is too big to watch live; ``p2psim run`` is the tool for it.
MAX_INVESTORS = 200_000
MAX_PLATFORMS = 300
MAX_DAYS = 3_650


@dataclass(frozen=True)
class ShockNow:
    """A shock the page fires at the current day.

    Attributes:
        key: the page's name for it.
        label: the button's text.
        type: the scenario shock type.
        duration: days it lasts, from tomorrow.
        size: its strength, in the type's unit (see ``p2psim schema``).
        explains: what it does, in one sentence.
        targeted: whether it needs a chosen platform.
    """

    key: str
    label: str
    type: str
    duration: int
    size: float
    explains: str
    targeted: bool = False


SHOCKS_NOW: dict[str, ShockNow] = {s.key: s for s in (
    ShockNow("rumour", "Rumour", "rumour", 5, 1.0,
             "groundless bad news about the chosen platform for 5 days, as strong as real "
             "distress", targeted=True),
    ShockNow("liquidity", "Liquidity shock", "liquidity", 30, 2.0,
             "for 30 days every investor needs cash three times as often (Diamond-Dybvig)"),
    ShockNow("fraud", "Fraud at the largest", "fraud", 1, 1.0,
             "the owner of the largest open platform runs off with its cash"),
    ShockNow("rate", "Rate shock", "funding", 90, 0.03,
             "the outside rate (deposits, money funds) rises by 3 points a year for 90 days"),
)}


def set_dotted(data: dict, key: str, value) -> None:
    """Set ``data[a][b][c] = value`` for ``key = "a.b.c"``, making tables on the way.

    Raises:
        ScenarioError: a part of the key is a value, not a table.
    """
    parts = [p for p in key.split(".") if p]
    if not parts:
        raise ScenarioError(f"setting {key!r}: empty key")
    node = data
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ScenarioError(f"setting {key!r}: '{part}' is not a table")
        node = child
    node[parts[-1]] = value


def _check_size(scenario: Scenario, source: str) -> None:
    platforms = scenario.platforms.count + len(scenario.platforms.custom)
    for what, value, most in (("investors.count", scenario.investors.count, MAX_INVESTORS),
                              ("platforms", platforms, MAX_PLATFORMS),
                              ("run.days", scenario.run.days, MAX_DAYS)):
        if value > most:
            raise ScenarioError(f"{source}: {what} = {value:,} is too big to watch live in the "
                                f"app (at most {most:,}); use p2psim run")


def configure(scenario_toml: str = "", source: str = "scenario", seed: int | None = None,
              compare_with: str = NO_COMPARISON,
              settings: dict | None = None) -> tuple[Scenario, Scenario | None]:
    """The scenario of the left-hand run and of its twin (``None`` without a comparison).

    Args:
        scenario_toml: the scenario as TOML text; empty for the first lesson.
        source: what error messages call the text.
        seed: overrides ``run.seed``.
        compare_with: a policy name (the twin switches it on, the left run off), or ``"none"``.
        settings: scenario fields by dotted key, applied before validation.

    Returns:
        (left, twin) validated scenarios.

    Raises:
        ScenarioError: bad text, a bad setting, an unknown policy or a market too big to watch.
    """
    text = scenario_toml if scenario_toml.strip() else LESSONS[0].toml
    data = scenario_from_text(text, source).model_dump(mode="json", exclude_none=True)
    for key, value in (settings or {}).items():
        set_dotted(data, key, value)
    if seed is not None:
        set_dotted(data, "run.seed", int(seed))
    policies = list(registered_policies())
    if compare_with != NO_COMPARISON and compare_with not in policies:
        raise ScenarioError(f"compare_with = {compare_with!r} is not a policy; use one of: "
                            f"{', '.join(policies)}, or '{NO_COMPARISON}'")
    twin = None
    if compare_with != NO_COMPARISON:
        set_dotted(data, f"policies.{compare_with}.enabled", False)
        twin_data = validate_scenario(data, source=f"{source} (settings)").model_dump(
            mode="json", exclude_none=True)
        set_dotted(twin_data, f"policies.{compare_with}.enabled", True)
        twin = validate_scenario(twin_data, source=f"{source} (with {compare_with})")
    left = validate_scenario(data, source=f"{source} (settings)")
    _check_size(left, source)
    return left, twin


def status_counts(market: P2PModel) -> dict[str, int]:
    """Platforms by status now (every status, zeros included), keyed by lower-case name."""
    codes = market.platforms.status[: market.platforms.n]
    return {s.name.lower(): int(np.count_nonzero(codes == s)) for s in Status}


class ClassroomModel(mesa.Model):
    """The market the page shows, built from flat keyword parameters (see the module docstring).

    Args:
        scenario_toml: the scenario as TOML text; empty for the first lesson.
        source: what error messages call that text (a lesson, a file name, ``pasted text``).
        seed: seed of both runs (default the scenario's ``run.seed``).
        compare_with: a policy to run side by side, or ``"none"``.
        scenario: Mesa's own experiment scenario, which SolaraViz passes on reset to models that
            take keyword settings; not used (the market's scenario is ``scenario_toml``).
        **settings: scenario fields by dotted key, e.g. ``{"platforms.demand_share": 0.5}``;
            ``None`` keeps the scenario's value.

    Raises:
        ScenarioError: a bad scenario or setting, with the message ``p2psim run`` would print.

    Attributes:
        config: the left-hand run's scenario.
        market: the left-hand run.
        twin: the run with ``compare_with`` on (``None`` without a comparison).
        day0_rates: each shown run's promised rates on day 0 (they place the network's nodes).
        fired: (day fired, description) of every shock fired from the page.
        lock: held while a day is stepped, a shock fired or a picture drawn.
    """

    def __init__(self, scenario_toml: str = "", source: str = "scenario", seed: int | None = None,
                 compare_with: str = NO_COMPARISON, scenario=None, **settings) -> None:
        del scenario  # Mesa's experiment scenario (see Args); the market has its own
        chosen = {k: v for k, v in settings.items() if v is not None}
        self.config, twin_config = configure(scenario_toml, source, seed, compare_with, chosen)
        super().__init__(rng=self.config.run.seed)
        self.compare_with = compare_with
        try:
            self.market = P2PModel(self.config)
            self.twin = None if twin_config is None else P2PModel(twin_config)
        except ScenarioError as err:  # found while setting up (e.g. a shock naming no platform)
            raise ScenarioError(f"{source}: {err}") from None
        self.fired: list[tuple[int, str]] = []
        # The page steps the model in one thread and draws and fires shocks from others: each
        # holds this lock, so a picture never shows half a day.
        self.lock = threading.RLock()
        # Promised rates on day 0 fix each platform's place in the network view.
        self.day0_rates = [run.platforms.rate[: run.platforms.n].copy() for _, run in self.runs()]
        self.running = True

    # ------------------------------------------------------------------ the day
    @property
    def day(self) -> int:
        """Days simulated so far."""
        return self.market.day

    @property
    def days(self) -> int:
        """Days the scenario runs."""
        return self.config.run.days

    def step(self) -> None:
        """One day of both runs; the model stops running on the scenario's last day."""
        with self.lock:
            if self.day >= self.days:
                self.running = False
                return
            self.market.step()
            if self.twin is not None:
                self.twin.step()
            self.running = self.day < self.days

    def runs(self) -> list[tuple[str, P2PModel]]:
        """(label, run) of what the page shows: one run, or the pair without and with."""
        if self.twin is None:
            return [("", self.market)]
        name = self.compare_with.replace("_", " ")
        return [(f"without {name}", self.market), (f"with {name}", self.twin)]

    def graphs(self) -> list[tuple[str, MarketGraph]]:
        """(label, network now) of every run shown."""
        return [(label, market_graph(run, rates))
                for (label, run), rates in zip(self.runs(), self.day0_rates, strict=True)]

    # ------------------------------------------------------------------ shocks now
    def targets(self) -> list[str]:
        """Names of the open platforms of the left run, largest (by claims) first."""
        plats = self.market.platforms
        idx = np.flatnonzero(plats.operating_mask())
        order = idx[np.argsort(-plats.products[idx], kind="stable")]
        return [self.market.platform_agents[i].name for i in order]

    def fire(self, key: str, platform: str | None = None) -> str:
        """Fire the shock ``key`` of :data:`SHOCKS_NOW` now: it acts from tomorrow, in both runs.

        Args:
            key: ``rumour``, ``liquidity``, ``fraud`` or ``rate``.
            platform: the target's name (a rumour); ``None`` picks the largest open platform.
                Other shocks ignore it.

        Returns:
            What was fired, for the page's log.

        Raises:
            ScenarioError: an unknown shock, a platform that does not exist, or a run that has
                ended.
        """
        with self.lock:
            return self._fire(key, platform)

    def _fire(self, key: str, platform: str | None) -> str:
        if key not in SHOCKS_NOW:
            raise ScenarioError(f"unknown shock {key!r}; use one of: {', '.join(SHOCKS_NOW)}")
        if self.day >= self.days:
            raise ScenarioError(f"the run ended on day {self.days}; press reset to start again")
        now = SHOCKS_NOW[key]
        if not now.targeted:
            platform = None
        elif platform is None:
            open_now = self.targets()
            if not open_now:
                raise ScenarioError("no platform is open: there is nobody to spread a rumour "
                                    "about")
            platform = open_now[0]
        for _, run in self.runs():  # check every run first, so a refused shock goes nowhere
            if platform is not None and platform not in {a.name for a in run.platform_agents}:
                raise ScenarioError(f"shock now: no platform called {platform!r}")
        config = ShockConfig(type=now.type, start=self.day + 1, duration=now.duration,
                             size=now.size, platform=platform)
        for _, run in self.runs():
            run.shocks.add(config, run)
        where = f" at {platform}" if platform else ""
        text = f"day {self.day}: {now.label.lower()}{where}, from day {self.day + 1}"
        self.fired.append((self.day, text))
        return text
