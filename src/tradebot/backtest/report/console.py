"""The metrics table the CLI prints (rich)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from tradebot.backtest.metrics import PerformanceMetrics
from tradebot.backtest.report.refusals import describe
from tradebot.backtest.result import RefusedOrder

MAX_REFUSED_LINES = 10


def metrics_table(metrics: PerformanceMetrics, title: str = "Backtest performance") -> Table:
    """Every metric, the strategy's beside buy-and-hold's over the same bars."""
    table = Table(title=title, title_justify="left")
    table.add_column("Metric", style="bold")
    table.add_column("Strategy", justify="right")
    table.add_column("Buy & hold", justify="right", style="dim")
    for label, strategy, bench in metrics.comparison_rows():
        table.add_row(label, strategy, bench)
    return table


def refused_lines(refused: Sequence[RefusedOrder]) -> list[str]:
    """What the console says of the orders the venue refused or expired (nothing when none)."""
    if not refused:
        return []
    lines = [f"{len(refused)} orders refused or expired by the venue (nothing of them traded):"]
    lines += [f"  {describe(order)}" for order in refused[:MAX_REFUSED_LINES]]
    if len(refused) > MAX_REFUSED_LINES:
        lines.append(f"  ... {len(refused) - MAX_REFUSED_LINES} more in the report")
    return lines
