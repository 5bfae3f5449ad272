"""Mechanisms that act on the market: scheduled shocks, contagion channels, policies."""
