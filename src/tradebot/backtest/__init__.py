"""backtest component."""
