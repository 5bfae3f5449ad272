"""The market engine: population state, behaviour rules, money flows and platform life."""
