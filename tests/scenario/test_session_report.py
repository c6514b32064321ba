"""`tradebot report --db` on the database of a real paper session (TradingBot → ccxt → the
sandbox over 127.0.0.1, real SQLite): the backtest's report, with the session's trades."""

from __future__ import annotations

import asyncio
import csv
import json
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from paper_venue import make_bot, replay, sandbox
from tradebot.cli import build_app
from tradebot.domain.portfolio import Trade
from tradebot.state import Database, PortfolioSnapshot, Repository, create_database

BARS = 120
STRATEGY = {"fast_period": 3, "slow_period": 8, "rsi_threshold": 100}  # paper_venue's


async def _paper_session(tmp_path: Path) -> None:
    async with sandbox() as server:
        bot = make_bot(server, tmp_path)
        try:
            await bot.start()
            await replay(server, bot, BARS)
        finally:
            await bot.close()


@pytest.fixture(scope="module")
def session(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, list[Trade], PortfolioSnapshot]:
    tmp_path = tmp_path_factory.mktemp("paper")
    asyncio.run(_paper_session(tmp_path))
    repo = Repository(Database(f"sqlite:///{tmp_path / 'bot.db'}"))
    snapshot = repo.latest_snapshot()
    assert snapshot is not None
    return tmp_path, repo.trades(), snapshot


def test_report_db_of_paper_session_lists_its_trades(
    session: tuple[Path, list[Trade], PortfolioSnapshot],
) -> None:
    # Arrange
    tmp_path, trades, last = session
    config = tmp_path / "bot.yaml"
    config.write_text(yaml.safe_dump({"strategy": {"name": "ema_crossover", "params": STRATEGY}}))
    out = tmp_path / "report"

    # Act
    result = CliRunner().invoke(
        build_app(),
        ["report", "--db", str(tmp_path / "bot.db"), "--out", str(out), "--config", str(config)],
    )

    # Assert
    assert result.exit_code == 0, result.output
    assert len(trades) >= 3  # the quick EMA pair trades several times in 120 bars
    assert f"paper session on BTC/USDT: {BARS:,} bars, {len(trades)} trades" in result.output
    with (out / "trades.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(int(r["entry_ts_ms"]), int(r["exit_ts_ms"]), Decimal(r["pnl"])) for r in rows] == [
        (t.entry_ts_ms, t.exit_ts_ms, t.pnl) for t in trades
    ]
    assert all(r["entry_signal"].startswith("EMA3 golden cross EMA8") for r in rows)
    assert all(r["mae_pct"] and r["mfe_pct"] for r in rows)
    metrics = json.loads((out / "metrics.json").read_text())["metrics"]
    assert metrics["total_trades"] == len(trades)
    assert metrics["final_equity"] == pytest.approx(float(last.equity))
    assert metrics["realised_pnl"] == pytest.approx(float(sum(t.pnl for t in trades)))
    bars = 3_600_000
    held = {t.entry_ts_ms + k * bars for t in trades for k in range(t.duration_ms // bars)}
    assert metrics["exposure_time_pct"] == pytest.approx(len(held) / BARS * 100)  # no dust
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Paper session: BTC/USDT 1h" in html
    assert "fast_period=3" in html
    assert '"name":"ema_fast"' in html  # the strategy's indicators over the price
    exits = re.search(r'<table id="by-exit".*?</table>', html, re.DOTALL)
    assert exits is not None
    counted = Counter(t.exit_reason for t in trades)
    for reason, n in counted.items():
        assert re.search(rf'<td class="text">{reason}</td><td>{n}</td>', exits.group(0))


def test_report_db_without_decisions_says_run_the_bot_first(tmp_path: Path) -> None:
    # Arrange: a bot database that has never decided anything
    create_database(f"sqlite:///{tmp_path / 'empty.db'}")

    # Act
    result = CliRunner().invoke(build_app(), ["report", "--db", str(tmp_path / "empty.db")])

    # Assert
    assert result.exit_code == 2
    assert "holds no decision: run the bot (tradebot run) first" in result.output


async def _session_with_outage(tmp_path: Path) -> None:
    async with sandbox() as server:
        bot = make_bot(server, tmp_path)
        try:
            await bot.start()
            await replay(server, bot, 20)
            await server.advance(5)  # the bot is down: of six bars closed, five are skipped
            await replay(server, bot, 20)
        finally:
            await bot.close()


def test_report_db_after_an_outage_leaves_the_skipped_bars_out(tmp_path: Path) -> None:
    # Arrange: a session whose bot missed bars (decision records with action "skipped")
    asyncio.run(_session_with_outage(tmp_path))
    repo = Repository(Database(f"sqlite:///{tmp_path / 'bot.db'}"))
    skipped = [d for d in repo.decisions() if d.action == "skipped"]
    equity = [float(s.equity) for s in repo.snapshots()]
    peak, worst = equity[0], 0.0
    for value in equity:
        peak = max(peak, value)
        worst = max(worst, (peak - value) / peak * 100)
    out = tmp_path / "report"

    # Act
    result = CliRunner().invoke(
        build_app(), ["report", "--db", str(tmp_path / "bot.db"), "--out", str(out)]
    )

    # Assert: the curve is the snapshots' (an undecided bar has no price and no equity)
    assert result.exit_code == 0, result.output
    assert len(skipped) == 5
    assert f"{len(equity):,} bars" in result.output
    metrics = json.loads((out / "metrics.json").read_text())["metrics"]
    assert metrics["max_drawdown_pct"] == pytest.approx(worst, abs=1e-6)
