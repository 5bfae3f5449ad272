"""The P2P lending market as a Mesa model: wiring and the order of a day.

One step is one day. :meth:`P2PModel.step` spells out the phases and why they come in that order.
Population state lives in arrays (:mod:`sim.market.state`); behaviour rules are formulas in
:mod:`sim.market.rules`, applied to the whole population at once (the array engine,
:mod:`sim.market.engine`) or agent by agent through the Mesa agents (the object engine,
:mod:`sim.market.agents`, the executable specification). Both consume the same random draws in
the same order (:mod:`sim.market.decisions`), so they give identical results.

Shocks, contagion channels and policies (:mod:`sim.mechanisms`) act on the market through its
conditions (:class:`~sim.market.conditions.MarketConditions`) and move money only through the
ledger (:class:`~sim.market.ledger.Ledger`). What a run records is in :mod:`sim.metrics`.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import mesa
import numpy as np
import pandas as pd

import sim.metrics as metrics
from sim.config import Scenario, validate_scenario
from sim.config.dotted import apply_dotted
from sim.market import allocator, decisions, flows, lifecycle, population
from sim.market.agents import Borrower, Investor, ObjectEngine, Platform
from sim.market.conditions import MarketConditions
from sim.market.engine import TOLERANCE_GROUPS, ArrayEngine, tolerance_group
from sim.market.indexes import Holdings, PositionIndex
from sim.market.ledger import Ledger
from sim.market.loanbook import LoanBook
from sim.market.state import BorrowerArrays, InvestorArrays, PlatformArrays, narrow_positions_fit
from sim.mechanisms.channels import Channels
from sim.mechanisms.policies import PolicyBook, declared_accounts, declared_flows
from sim.mechanisms.shocks import ShockSchedule
from sim.phaseclock import NO_CLOCK

AGENT_VIEW_LIMIT = 10_000  # above this, investor/borrower agents are made on demand only
ENGINES = {"array": ArrayEngine, "object": ObjectEngine}
# The default of P2PModel's ``seed``: the scenario's own ``run.seed`` (None means a fresh one).
SCENARIO_SEED = "scenario"


def with_parameters(config: Scenario, parameters: Mapping[str, Any]) -> Scenario:
    """``config`` with flat parameters (dotted keys or ``__`` names) applied and validated.

    Args:
        config: the base scenario.
        parameters: dotted scenario keys to values (see :mod:`sim.config.dotted`).

    Returns:
        ``config`` itself when there are no parameters, else a new validated scenario.

    Raises:
        ScenarioError: a key that names no field, or a value the scenario does not allow.
    """
    if not parameters:
        return config
    data = apply_dotted(config.model_dump(mode="json"), parameters)
    return validate_scenario(data, source="P2PModel parameters")


def fresh_seed() -> int:
    """A new seed from the operating system's entropy (a non-negative 63-bit integer)."""
    return int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))


def resolve_seed(config: Scenario, seed: int | None | str = SCENARIO_SEED,
                 rng: int | None | str = SCENARIO_SEED) -> int:
    """The integer seed a model runs with.

    Args:
        config: the scenario (its ``run.seed`` is the default).
        seed: an integer; ``None`` for a fresh seed (Mesa's convention); :data:`SCENARIO_SEED`
            when not given.
        rng: Mesa's name for the same thing.

    Returns:
        The seed.

    Raises:
        ValueError: both ``seed`` and ``rng`` given.
    """
    given = [v for v in (seed, rng) if not (isinstance(v, str) and v == SCENARIO_SEED)]
    if len(given) > 1:
        raise ValueError("give seed or rng, not both")
    if not given:
        return int(config.run.seed)
    if given[0] is None:
        return fresh_seed()
    return int(given[0])


class P2PModel(mesa.Model):
    """Platforms, investors and borrowers of a P2P lending market.

    Mesa's conventions hold, so ``mesa.batch_run`` and SolaraViz can build the model from flat
    keyword parameters:

    * **Flat parameters.** Any scenario field can be given by its dotted key
      (:mod:`sim.config.dotted`), either in ``parameters`` (``{"investors.count": 300}``) or as a
      keyword with ``__`` for ``.`` (``investors__count=300``, ``shocks__0__size=2.0``).
      They are applied to ``config`` (default the built-in baseline) and the result is validated
      like a scenario file. ``mesa.batch_run`` passes its ``parameters`` keys as keywords, so
      ``parameters={"investors.count": [300, 600]}`` works as is; give a base scenario as
      ``{"config": [scenario]}`` (a one-element list, since batch_run splits iterables).
    * **Seed.** ``seed=None`` (or ``rng=None``), as Mesa documents, draws a fresh seed from the
      operating system; the seed drawn is kept in :attr:`seed`, so the run can be repeated. An
      integer seeds the model. Left out, the model uses the scenario's ``run.seed``
      (:data:`SCENARIO_SEED`), so ``P2PModel(config)`` reproduces ``p2psim run``.
    * **Horizon.** :attr:`running` turns False on the scenario's last day (``run.days``).
    * **Data.** :attr:`datacollector` is a Mesa ``DataCollector`` whose model reporters are the
      daily series (:meth:`timeseries`) and, filled in on the last day, the end-of-run summary
      as ``summary.<outcome>`` columns.

    Args:
        config: a validated :class:`sim.config.Scenario` (defaults to the built-in baseline).
        seed: an integer, ``None`` for a fresh seed, or :data:`SCENARIO_SEED` (the default) for
            ``config.run.seed``.
        rng: Mesa's name for the seed; an integer or ``None``; give ``seed`` or ``rng``, not both.
        check_invariants: overrides ``config.run.check_invariants``.
        engine: overrides ``config.run.engine`` ("array" or "object").
        parameters: dotted scenario keys to values, applied to ``config``.
        **flat: more scenario fields as keywords, ``__`` standing for ``.``.

    Raises:
        ScenarioError: a flat parameter that names no field or fails validation.
        ValueError: both ``seed`` and ``rng`` given.
    """

    def __init__(self, config: Scenario | None = None, *,
                 seed: int | None | str = SCENARIO_SEED, rng: int | None | str = SCENARIO_SEED,
                 check_invariants: bool | None = None, engine: str | None = None,
                 parameters: Mapping[str, Any] | None = None, **flat: Any) -> None:
        allocator.return_freed_memory_promptly()  # the day's temporaries: see the module
        config = with_parameters(config or Scenario(), {**(parameters or {}), **flat})
        seed = resolve_seed(config, seed, rng)
        super().__init__(rng=seed)
        self.entry_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
        self._mechanism_rngs: dict[str, np.random.Generator] = {}
        self.config = config
        self.seed = seed
        self.engine = ENGINES[engine or config.run.engine](self)
        self.clock = NO_CLOCK  # a PhaseClock here times the phases of each step
        self.check_invariants = (config.run.check_invariants if check_invariants is None
                                 else check_invariants)
        self.day = 0
        pc, ic, bc = config.platforms, config.investors, config.borrowers
        capacity = pc.max_platforms
        # The market: balance sheets, positions, loans, and where money and news stand.
        self.platforms = PlatformArrays(capacity, pc.funding_window_days)
        # 24-byte position records when the run's platform numbers and days fit in 16 bits
        # (step() widens them if the run is stepped past its horizon far enough to need it).
        self.investors = InvestorArrays(ic.count, ic.max_holdings, narrow=narrow_positions_fit(
            capacity, config.run.days + max(pc.product_terms_days)))
        self.holdings = Holdings(self.investors.pos_platform)  # positions by platform
        self.borrowers = BorrowerArrays(bc.count)
        self.loans = LoanBook(capacity=max(1024, 4 * bc.count))
        self.position_index = PositionIndex()  # grouped once investors exist
        self.queue = np.empty(0, dtype=np.int64)  # slots with unpaid requests, in arrival order
        self.requests_today = np.zeros(capacity)  # yuan requested at each platform today
        self.flows_today: defaultdict[str, float] = defaultdict(float)
        self.transfer_market = flows.DebtTransferMarket(config.market.transfer_discount)
        self.conditions = MarketConditions(
            capacity, bc.sectors, config.market.outside_rate, self.platforms.outage,
            np.asarray(pc.product_terms_days), bc.max_lenders, bc.misreport_strength,
            ic.signal_noise, ic.fake_loan_visibility, config.channels.fire_sales.enabled)
        self.ledger = Ledger(self.platforms, self.investors,
                             flows=[*declared_flows(), *Channels.flows],
                             accounts=[*declared_accounts(), *Channels.accounts])
        # What the run records.
        self.events: list[dict] = []
        self.failures: list[dict] = []
        self.platform_agents: list[Platform] = []
        self.investor_agents: list[Investor] = []
        self.borrower_agents: list[Borrower] = []
        self._investor_views: dict[int, Investor] = {}
        # Mechanisms.
        self.shocks = ShockSchedule(config.shocks)
        self.channels = Channels(self)
        self.policies = PolicyBook(self, config.policies)
        self.policies.configure()

        # Day 0: the population, in a fixed order of draws.
        lifecycle.create_platforms(self, pc.count, pc.custom)
        population.draw_signal_noise(self)
        self.shocks.check_targets(self)
        population.draw_investors(self)
        if self.engine.name == "object" or ic.count <= AGENT_VIEW_LIMIT:
            self.investor_agents = [Investor(self, i) for i in range(ic.count)]
        self.policies.on_investors_created()
        self.position_index = PositionIndex(tolerance_group(self.investors.risk_tolerance),
                                            self.investors.slots, TOLERANCE_GROUPS)
        population.draw_borrowers(self, np.arange(bc.count))
        if self.engine.name == "object" or bc.count <= AGENT_VIEW_LIMIT:
            self.borrower_agents = [Borrower(self, i) for i in range(bc.count)]
        self._fit_positions()
        population.initial_allocation(self)
        population.initial_lending(self)
        allocator.release_free_memory()  # the build's temporaries (100+ MB at 10^6 investors)
        self.platforms.claims_history.append(float(self.platforms.products[: self.platforms.n].sum()))
        self.recorder = metrics.Recorder(self)
        self.datacollector = self.recorder.collector  # Mesa's name, for batch_run and SolaraViz
        self.running = self.day < config.run.days
        self.recorder.collect(self)
        if self.check_invariants:
            self.ledger.check(self)

    # ------------------------------------------------------------------ the day
    def mechanism_rng(self, name: str) -> np.random.Generator:
        """The random stream of one optional mechanism: a policy, the network, the guarantors.

        ``default_rng(SeedSequence(seed, spawn_key=(2, crc32(name))))``: spawned from the run's
        seed and the mechanism's name, so switching a policy or a channel on does not shift the
        draws of the rest of the market, and the sets of a comparison share them (common random
        numbers; Glasserman 2004, "Monte Carlo Methods in Financial Engineering", 4.2).

        Args:
            name: the mechanism (a policy's registry name, ``"network"``, ``"guarantors"``).

        Returns:
            The same generator for the same name throughout the run.
        """
        if name not in self._mechanism_rngs:
            key = (2, zlib.crc32(name.encode("utf-8")))
            self._mechanism_rngs[name] = np.random.default_rng(
                np.random.SeedSequence(self.seed, spawn_key=key))
        return self._mechanism_rngs[name]

    def step(self) -> None:
        """Advance one day.

        Order, and why:
        1. Shocks and policies open the day, so their effect shows in today's data.
        2. Borrowers repay, then default, then apply: repayments fund today's payouts, and a
           defaulted borrower cannot borrow again the same day.
        3. Investors decide from the start-of-day state (simultaneous decisions: no investor sees
           another's choice of the same day): early redemptions, roll-overs, new positions.
        4. Platforms take deposits before paying, so new inflows can pay old investors (exactly
           what keeps a Ponzi scheme alive), then pay requests first come, first served.
        5. Platforms lend only what is left above their cash buffer after paying.
        6. Status, absconding, exits and pricing react to the day's flows; estates pay out.
        7. Entrants arrive last, so they start trading tomorrow.
        """
        clock = self.clock
        clock.start()
        self.day += 1
        self._fit_positions()
        self.flows_today = defaultdict(float)
        self.platforms.new_day(self.day)
        self.transfer_market.discount = flows.transfer_discount(self)
        self.shocks.apply(self)
        self.channels.start_of_day()
        self.policies.start_of_day()
        clock.lap("open_day")
        decisions.update_signals(self)
        clock.lap("signals")

        population.adopt(self)
        population.receive_savings(self)
        clock.lap("adopt_savings")
        flows.collect_repayments(self)
        clock.lap("collect_repayments")
        ctx = decisions.step_context(self)
        clock.lap("context")
        defaulted, applicants = decisions.borrower_phase(self, ctx)
        flows.default_loans(self, defaulted)
        population.draw_borrowers(self, defaulted)
        clock.lap("borrowers")

        investor_decisions = decisions.investor_phase(self, ctx)
        clock.lap("investor_decisions")
        decisions.apply_investor_decisions(self, investor_decisions)
        clock.lap("book_decisions")
        flows.pay_requests(self)
        clock.lap("pay_requests")

        flows.lend(self, applicants)
        flows.operating_costs(self)
        clock.lap("lend_costs")

        lifecycle.update_status(self)
        self.policies.end_of_day()
        lifecycle.abscond(self)
        lifecycle.orderly_exits(self)
        lifecycle.update_pricing(self)
        lifecycle.resolve(self)
        lifecycle.enter(self)
        clock.lap("platform_lifecycle")

        self.investors.decay_fear(0.5 ** (1.0 / self.config.investors.fear_half_life_days))
        self.transfer_market.sold_yesterday = self.flows_today["fire_sold"]
        self.transfer_market.live_loans_yesterday = float(
            self.platforms.loans[: self.platforms.n].sum())
        self.platforms.claims_history.append(float(self.platforms.products[: self.platforms.n].sum()))
        self.running = self.day < self.config.run.days
        self.recorder.collect(self)
        clock.lap("record")
        if not self.running:
            self.recorder.record_summary(self)
        if self.check_invariants:
            self.ledger.check(self)
        clock.lap("summary_checks")

    def _fit_positions(self) -> None:
        """Widen 16-bit position records before a maturity opened today could reach their limit.

        Maturities opened today are at most today plus the longest product term on the menu
        (which a policy may change).
        """
        inv = self.investors
        if inv.narrow and not narrow_positions_fit(
                self.platforms.capacity, self.day + int(self.conditions.product_terms.max())):
            inv.widen()
            self.holdings.pos_platform = inv.pos_platform

    def run(self, days: int | None = None, progress=None) -> None:
        """Step ``days`` days (default ``config.run.days``); ``progress(i)`` is called per day."""
        for _ in range(self.config.run.days if days is None else days):
            self.step()
            if progress is not None:
                progress(1)

    # ------------------------------------------------------------------ agents and events
    def add_platform_agents(self, idx: np.ndarray, names: list[str]) -> None:
        """Mesa agents (views) for new platform rows ``idx``, called ``names``."""
        for i, name in zip(idx, names, strict=True):
            self.platform_agents.append(Platform(self, int(i), name))

    def investor(self, index: int) -> Investor:
        """The Mesa agent of investor ``index`` (made once, on demand, in large populations)."""
        if self.investor_agents:
            return self.investor_agents[index]
        view = self._investor_views.get(index)
        if view is None:
            view = self._investor_views[index] = Investor(self, index)
        return view

    def log_event(self, kind: str, platform: int, **details) -> None:
        """Record an event (entry, distress, failure, exit, ...) for the events log."""
        name = self.platform_agents[platform].name if 0 <= platform < len(self.platform_agents) else ""
        self.events.append({"day": self.day, "event": kind, "platform": platform, "name": name,
                            **details})

    # ------------------------------------------------------------------ outputs
    def timeseries(self) -> pd.DataFrame:
        """Daily market series, one row per day from day 0."""
        return self.recorder.timeseries()

    def platform_table(self) -> pd.DataFrame:
        """One row per platform ever created: type, status, balance sheet, failure cause."""
        return metrics.platform_table(self)

    def platform_daily(self) -> pd.DataFrame:
        """Per-platform daily panel: status, claims, cash, rate, backlog."""
        return self.recorder.platform_daily()

    def cascade_table(self) -> pd.DataFrame:
        """Failures in order, with the channel that carried the stress and the parent failure."""
        return metrics.cascade_table(self)

    def events_table(self) -> pd.DataFrame:
        """Events log: day, event, platform, cause and details."""
        return metrics.events_table(self)

    def summary(self) -> dict:
        """End-of-run outcomes (MODEL.md, "Outcomes every run reports")."""
        return metrics.summarize(self)


__all__ = ["SCENARIO_SEED", "P2PModel", "resolve_seed", "with_parameters"]
