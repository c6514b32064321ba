"""The metrics table the CLI prints (rich)."""

from __future__ import annotations

from rich.table import Table

from tradebot.backtest.metrics import PerformanceMetrics


def metrics_table(metrics: PerformanceMetrics, title: str = "Backtest performance") -> Table:
    """Every metric, the strategy's beside buy-and-hold's over the same bars."""
    table = Table(title=title, title_justify="left")
    table.add_column("Metric", style="bold")
    table.add_column("Strategy", justify="right")
    table.add_column("Buy & hold", justify="right", style="dim")
    for label, strategy, bench in metrics.comparison_rows():
        table.add_row(label, strategy, bench)
    return table
