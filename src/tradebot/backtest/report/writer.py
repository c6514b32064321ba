"""Write a backtest's report folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tradebot.backtest.metrics import PerformanceMetrics
from tradebot.backtest.report.analysis import analyse
from tradebot.backtest.report.charts import (
    FIGURE_DIV_ID,
    basket_scale,
    build_figure,
    contribution_figure,
)
from tradebot.backtest.report.markers import is_aggregated, zoom_script
from tradebot.backtest.report.page import render_html
from tradebot.backtest.report.records import (
    write_decisions_jsonl,
    write_fills_csv,
    write_metrics_json,
    write_trades_csv,
)
from tradebot.backtest.result import BacktestResult
from tradebot.domain.orders import OrderSide


@dataclass(frozen=True, slots=True)
class ReportPaths:
    """Where each file of a report was written."""

    directory: Path
    html: Path
    trades_csv: Path
    fills_csv: Path
    decisions_jsonl: Path
    metrics_json: Path

    @classmethod
    def in_dir(cls, directory: Path) -> ReportPaths:
        """The standard file names inside ``directory``."""
        return cls(
            directory=directory,
            html=directory / "report.html",
            trades_csv=directory / "trades.csv",
            fills_csv=directory / "fills.csv",
            decisions_jsonl=directory / "decisions.jsonl",
            metrics_json=directory / "metrics.json",
        )


def write_report(result: BacktestResult, metrics: PerformanceMetrics, out_dir: Path) -> ReportPaths:
    """Write report.html, trades.csv, fills.csv, decisions.jsonl and metrics.json.

    ``out_dir`` is created if missing; files already there are overwritten.
    """
    paths = ReportPaths.in_dir(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    analysis = analyse(result)
    write_trades_csv(
        paths.trades_csv,
        result.trades,
        analysis.moves,
        analysis.entry_kinds,
        analysis.entry_regimes,
    )
    write_fills_csv(paths.fills_csv, result.fills)
    write_decisions_jsonl(paths.decisions_jsonl, result.decisions, result.refused)
    write_metrics_json(paths.metrics_json, result, metrics)
    reasons = fill_reasons(result)
    figures = [(FIGURE_DIV_ID, build_figure(result, reasons))]
    if analysis.contributions:
        figures.append(
            ("tradebot-contributions", contribution_figure(result, analysis.contributions))
        )
    scripts = []
    if is_aggregated(result.fills):
        scripts.append(zoom_script(FIGURE_DIV_ID, result.fills, reasons, basket_scale(result)))
    page = render_html(result, metrics, figures, analysis, scripts)
    paths.html.write_text(page, encoding="utf-8")
    return paths


def fill_reasons(result: BacktestResult) -> dict[str, str]:
    """Why each fill happened, by client order id, for the chart's hover text.

    A sell that closed a trade takes the trade's exit reason (a stop, a take-profit); otherwise
    the reason of the strategy signal whose decision placed the order.
    """
    reasons: dict[str, str] = {}
    for decision in result.decisions:
        for order_id in decision.client_order_ids:
            reasons[order_id] = decision.signal.reason
    exits = {t.exit_ts_ms: t.exit_reason for t in result.trades if t.exit_reason}
    for fill in result.fills:
        if fill.side is OrderSide.SELL and fill.ts_ms in exits:
            reasons[fill.client_order_id] = exits[fill.ts_ms]
    return reasons
