"""STRATEGY ENGINE: Strategy base, indicators, built-in strategies, registry."""
