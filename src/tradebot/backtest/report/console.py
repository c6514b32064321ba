"""The tables the CLI prints (rich): the metrics, and the PnL by regime at entry."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from tradebot.backtest.breakdown import entry_regimes, regime_groups
from tradebot.backtest.metrics import PerformanceMetrics
from tradebot.backtest.report.refusals import describe
from tradebot.backtest.result import BacktestResult, RefusedOrder

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


def regime_table(result: BacktestResult) -> Table | None:
    """Closed trades by the regime they were opened in (the figures of the report's table of
    the same name); None when no trade was opened in a regime."""
    trades = result.trades
    regimes = entry_regimes(trades, result.fills, result.decisions)
    groups = regime_groups(trades, regimes, [None] * len(trades))
    if not groups:
        return None
    table = Table(title="PnL by regime at entry", title_justify="left")
    for header in ("Regime", "Trades", "Win rate", "Net PnL", "Avg return", "Profit factor"):
        table.add_column(header, justify="left" if header == "Regime" else "right")
    for g in groups:
        pf = "n/a" if g.profit_factor is None else f"{g.profit_factor:,.2f}"
        table.add_row(
            g.key,
            f"{g.trades:,}",
            f"{g.win_rate_pct:.1f}%",
            f"{g.pnl:+,.2f}",
            f"{g.avg_return_pct:+.2f}%",
            pf,
        )
    return table
