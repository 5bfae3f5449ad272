"""p2psim: agent-based stress simulator for P2P lending markets.

Quick start::

    from sim import load_scenario, P2PModel
    model = P2PModel(load_scenario("scenarios/baseline.toml"))
    model.run()
    model.timeseries()      # daily market series (pandas)
    model.platform_table()  # one row per platform
    model.events_table()    # failures and other events
"""

from sim.config import Scenario, ScenarioError, load_scenario

__version__ = "0.1.0"
__all__ = ["P2PModel", "Scenario", "ScenarioError", "__version__", "load_scenario"]


def __getattr__(name: str):
    # Import the model (and Mesa) only when used: `p2psim validate` and error paths stay fast.
    if name == "P2PModel":
        from sim.model import P2PModel

        return P2PModel
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
