"""The backtest report folder: HTML with charts, trades/fills CSV, decision log, metrics JSON."""

from tradebot.backtest.report.console import metrics_table
from tradebot.backtest.report.writer import ReportPaths, write_report

__all__ = ["ReportPaths", "metrics_table", "write_report"]
