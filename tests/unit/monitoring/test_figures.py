"""FiguresReader reads each trade and snapshot once, yet every read gives the whole picture."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tradebot.domain.portfolio import Trade
from tradebot.monitoring.figures import DAY_MS, FiguresReader
from tradebot.state import PortfolioSnapshot, Repository, create_database

DAY = 19_800 * DAY_MS  # a UTC midnight


def trade(exit_ts_ms: int, pnl: str) -> Trade:
    return Trade(
        "BTC/USDT", exit_ts_ms - 3_600_000, exit_ts_ms, Decimal("0.01"), Decimal(50_000),
        Decimal(50_000) + Decimal(pnl) * 100, Decimal("0.5"), Decimal(pnl), "signal",
    )  # fmt: skip


def snapshot(ts_ms: int, equity: int) -> PortfolioSnapshot:
    return PortfolioSnapshot(ts_ms, Decimal(equity), Decimal(equity), Decimal(0), {})


def test_figures_read_again_after_new_trades_counts_each_trade_once(tmp_path: Path) -> None:
    # Arrange: yesterday a win and a loss; a first read
    repo = Repository(create_database(f"sqlite:///{tmp_path / 'bot.db'}"))
    reader = FiguresReader(repo)
    repo.record_trade(trade(DAY - 7_200_000, "12.5"))
    repo.record_trade(trade(DAY - 3_600_000, "-3"))
    repo.record_snapshot(snapshot(DAY - 3_600_000, 10_100))
    first = reader.read()
    # Act: today a win, equity below yesterday's peak
    repo.record_trade(trade(DAY + 3_600_000, "4"))
    repo.record_snapshot(snapshot(DAY + 3_600_000, 9_999))
    second = reader.read()
    # Assert
    assert (first.trades, first.wins, first.trades_today) == (2, 1, 2)
    assert (second.trades, second.wins, second.trades_today) == (3, 2, 1)
    assert second.win_rate == 2 / 3
    assert second.peak_equity == 10_100
    assert second.drawdown == float(Decimal(101) / Decimal(10_100))
