"""`tradebot report --db` on the database of a real paper session that traded three markets
on one account (TradingBot → ccxt → the sandbox over 127.0.0.1, real SQLite): the basket
report a basket backtest writes, with per-symbol and portfolio views."""

from __future__ import annotations

import asyncio
import csv
import json
import re
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from basket_markets import MARKETS, market_file, write_markets
from tradebot.backtest.basket import BasketData
from tradebot.backtest.result import BacktestResult
from tradebot.cli import build_app
from tradebot.config import Config, load_config, with_overrides
from tradebot.data.load import load_candles
from tradebot.orchestrator.paper import PaperSetup, paper_session
from tradebot.parity import QUICK_STRATEGY, simulate_basket
from tradebot.state import Database, Repository

ROWS, START, BARS = 200, 60, 100
PARAMS = QUICK_STRATEGY["strategy.params"]


def _config() -> Config:
    overrides = {**QUICK_STRATEGY, "trading.symbols": list(MARKETS), "risk.max_open_positions": 3}
    return with_overrides(load_config(None), overrides, "test")


def _backtest_of(folder: Path, last_ts_ms: int) -> BacktestResult:
    """The basket backtest of the bars the paper session decided."""
    candles = {}
    for symbol in MARKETS:
        frame = load_candles(market_file(folder, symbol))
        candles[symbol] = frame[frame["ts_ms"] <= last_ts_ms].reset_index(drop=True)
    start = int(candles["BTC/USDT"]["ts_ms"][START])
    result, _ = simulate_basket(_config(), BasketData(candles, _config(), "paper", start))
    return result


async def _paper_basket(folder: Path) -> None:
    setup = PaperSetup(
        data_files=write_markets(folder, ROWS),
        start_index=START,
        database_url=f"sqlite:///{folder / 'bot.db'}",
    )
    async with paper_session(_config(), setup) as session:
        await session.replay(BARS)


@pytest.fixture(scope="module")
def report(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Repository, str, BacktestResult]:
    folder = tmp_path_factory.mktemp("basket")
    asyncio.run(_paper_basket(folder))
    config = folder / "bot.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "trading": {"symbols": list(MARKETS)},
                "strategy": {"name": "ema_crossover", "params": PARAMS},
            }
        )
    )
    out = folder / "report"
    args = ["report", "--db", str(folder / "bot.db"), "--out", str(out), "--config", str(config)]
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    repo = Repository(Database(f"sqlite:///{folder / 'bot.db'}"))
    return out, repo, result.output, _backtest_of(folder, repo.snapshots()[-1].ts_ms)


def _table(html: str, table_id: str) -> list[list[str]]:
    body = re.search(rf'<table id="{table_id}".*?<tbody>(.*?)</tbody>', html, re.DOTALL)
    assert body is not None, f"no table {table_id}"
    rows = re.findall(r"<tr>(.*?)</tr>", body.group(1), re.DOTALL)
    return [[re.sub(r"<.*?>", "", c) for c in re.findall(r"<td.*?</td>", r)] for r in rows]


def _number(cell: str) -> float:
    return float(cell.replace(",", "").replace("+", "").rstrip("%"))


def test_report_db_of_paper_basket_is_the_basket_report(
    report: tuple[Path, Repository, str, BacktestResult],
) -> None:
    # Arrange
    out, repo, output, backtest = report
    trades, last = repo.trades(), repo.snapshots()[-1]
    html = (out / "report.html").read_text(encoding="utf-8")
    metrics = json.loads((out / "metrics.json").read_text())["metrics"]

    # Act
    rows = {r[0]: r for r in _table(html, "symbols")}

    # Assert: one account over the three markets, every market's trades
    assert {t.symbol for t in trades} == set(MARKETS), "every market traded"
    assert f"paper session on {'+'.join(MARKETS)}: {BARS:,} bars, {len(trades)} trades" in output
    assert f"Paper session: {'+'.join(MARKETS)} 1h" in html
    assert metrics["total_trades"] == len(trades)
    assert metrics["final_equity"] == pytest.approx(float(last.equity))
    with (out / "trades.csv").open(encoding="utf-8", newline="") as f:
        rows_csv = list(csv.DictReader(f))
    listed = [(r["symbol"], int(r["entry_ts_ms"]), Decimal(r["pnl"])) for r in rows_csv]
    assert sorted(listed) == sorted((t.symbol, t.entry_ts_ms, t.pnl) for t in trades)
    # per symbol: its trades and realised PnL; the contributions add up to the account's gain
    assert list(rows) == list(MARKETS)
    for symbol, row in rows.items():
        mine = [t for t in trades if t.symbol == symbol]
        assert int(row[5]) == len(mine)
        assert _number(row[7]) == pytest.approx(float(sum(t.pnl for t in mine)), abs=0.01)
        # the same bars backtested: held over the same closes, the same buy and hold
        leg = backtest.legs[symbol]
        assert row[3] == f"{leg.exposed.mean() * 100:.1f}%"
        known = leg.close[~np.isnan(leg.close)]
        assert _number(row[4]) == pytest.approx((known[-1] / known[0] - 1) * 100, abs=0.01)
    gained = sum(_number(r[1]) for r in rows.values())
    assert gained == pytest.approx(float(last.equity) - 10_000, abs=0.03)
    assert len(_table(html, "correlation")) == len(MARKETS)
