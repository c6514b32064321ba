"""Backtest runner, performance metrics, reports."""
