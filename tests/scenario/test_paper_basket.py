"""Several symbols on one paper account: the sandbox replays them in lock-step, the bot
decides each symbol's bar in one cycle, and the trades equal a basket backtest of the same
bars.

The four markets are cut from the bundled BTC/USDT 1h sample (different months, scaled to
different prices) onto one timeline, so their signals differ; one joins 30 bars late, as a
new listing does.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import func, select
from typer.testing import CliRunner

from tradebot.cli import build_app
from tradebot.config import Config, load_config, with_overrides
from tradebot.data.load import load_candles, sample_path
from tradebot.domain.locks import ALL_SYMBOLS
from tradebot.parity import QUICK_STRATEGY, basket_paper_vs_backtest
from tradebot.state import Repository, create_database
from tradebot.state.tables import DecisionRow, OrderRow

BTC_1H = Path(str(sample_path("binance_BTC-USDT_1h_2024.csv.gz")))
BASKET = {"BTC/USDT": (0, 1.0), "ETH/USDT": (2_000, 0.05), "SOL/USDT": (4_000, 0.003)}
LATE = ("LTC/USDT", 6_000, 0.0015)
ROWS = 700
LATE_BY = 30


def write_basket(folder: Path) -> dict[str, Path]:
    """One file per market, named as ``tradebot`` reads names; LTC starts ``LATE_BY`` bars
    later than the rest."""
    source = load_candles(BTC_1H)
    timeline = source["ts_ms"].to_numpy()[:ROWS]
    files: dict[str, Path] = {}
    for symbol, (offset, scale, skip) in {
        **{s: (o, k, 0) for s, (o, k) in BASKET.items()},
        LATE[0]: (LATE[1], LATE[2], LATE_BY),
    }.items():
        part = source.iloc[offset : offset + ROWS].reset_index(drop=True)
        frame = pd.DataFrame({"timestamp": timeline})
        for column in ("open", "high", "low", "close"):
            frame[column] = (part[column] * scale).round(2)  # on the markets' 0.01 tick
        frame["volume"] = part["volume"]
        path = folder / f"binance_{symbol.replace('/', '-')}_1h.csv"
        frame.iloc[skip:].to_csv(path, index=False)
        files[symbol] = path
    return files


def basket_config(**more: object) -> Config:
    overrides: dict[str, object] = {
        **QUICK_STRATEGY,
        "trading.symbols": [*BASKET, LATE[0]],
        "risk.max_open_positions": 4,
        "risk.stop_loss_method": "fixed_pct",
        "risk.stop_loss_pct": 0.01,
        **more,
    }
    return with_overrides(load_config(None), overrides, "test")


async def test_paper_basket_same_trades_as_basket_backtest(tmp_path: Path) -> None:
    # Arrange: four markets, one wallet, one joining late
    files = write_basket(tmp_path)
    config = basket_config()
    # Act: 300 bars through the real path, then the basket backtest of what it saw
    comparison = await basket_paper_vs_backtest(
        config, files, start_index=60, bars=300, database_url=f"sqlite:///{tmp_path / 'p.db'}"
    )
    # Assert
    assert comparison.differences == []
    assert comparison.paper_equity == comparison.backtest_equity
    traded = {t.symbol for t in comparison.paper_trades}
    assert traded == {*BASKET, LATE[0]}, "every market traded, the late one included"
    assert len(comparison.paper_trades) >= 20


async def test_paper_basket_keeps_one_decision_per_symbol_per_bar(tmp_path: Path) -> None:
    files = write_basket(tmp_path)
    db = tmp_path / "p.db"
    await basket_paper_vs_backtest(
        basket_config(), files, start_index=60, bars=60, database_url=f"sqlite:///{db}"
    )
    engine = create_database(f"sqlite:///{db}").engine
    with engine.connect() as conn:
        per_symbol = dict(
            conn.execute(
                select(DecisionRow.symbol, func.count()).group_by(DecisionRow.symbol)
            ).all()
        )
        repeated = conn.execute(
            select(DecisionRow.symbol, DecisionRow.ts_ms)
            .group_by(DecisionRow.symbol, DecisionRow.ts_ms)
            .having(func.count() > 1)
        ).all()
        order_symbols = set(conn.execute(select(OrderRow.symbol).distinct()).scalars())
    assert repeated == []
    assert per_symbol == {"BTC/USDT": 60, "ETH/USDT": 60, "SOL/USDT": 60, "LTC/USDT": 60}
    assert order_symbols >= {"BTC/USDT", "ETH/USDT"}


def test_cli_run_paper_trades_every_listed_symbol_and_reports_each(tmp_path: Path) -> None:
    # Arrange: a config listing two markets and a --data file for each
    files = write_basket(tmp_path)
    config = tmp_path / "basket.yaml"
    config.write_text(
        "trading:\n  symbols: [BTC/USDT, ETH/USDT]\n"
        "strategy:\n  name: ema_crossover\n"
        "  params: {fast_period: 3, slow_period: 8, rsi_threshold: 100}\n"
        "risk:\n  max_open_positions: 2\n"
    )
    db = tmp_path / "b.db"
    data = ["--data", str(files["BTC/USDT"]), "--data", str(files["ETH/USDT"])]
    app = build_app()
    # Act
    result = CliRunner().invoke(
        app, ["run", "--mode", "paper", "--bars", "120", "-c", str(config), "--db", str(db), *data]
    )
    status = CliRunner().invoke(app, ["status", "-c", str(config), "--db", str(db)])
    # Assert
    assert result.exit_code == 0, result.output
    engine = create_database(f"sqlite:///{db}").engine
    with engine.connect() as conn:
        symbols = set(conn.execute(select(OrderRow.symbol).distinct()).scalars())
    assert symbols == {"BTC/USDT", "ETH/USDT"}
    # the replay's summary counts both markets' rows, as the database holds them (it
    # counted the first market's: 9 trades of 15)
    repo = Repository(create_database(f"sqlite:///{db}"))
    assert {t.symbol for t in repo.trades()} == {"BTC/USDT", "ETH/USDT"}
    assert _row(result.output, "markets") == "BTC/USDT, ETH/USDT"
    assert _row(result.output, "trades") == str(len(repo.trades()))
    assert _row(result.output, "fills") == str(len(repo.fills()))
    assert _row(result.output, "orders") == str(len(repo.orders()))
    assert _row(result.output, "open orders") == str(len(repo.open_orders()))
    # and the status names each market's position and last bar
    assert status.exit_code == 0, status.output
    for symbol in ("BTC/USDT", "ETH/USDT"):
        assert _row(status.output, f"{symbol} position")
        assert _row(status.output, f"{symbol} last bar") != "none yet"
    assert _row(status.output, "open orders") == str(len(repo.open_orders()))


def test_cli_run_paper_file_of_an_unlisted_market_refused(tmp_path: Path) -> None:
    files = write_basket(tmp_path)
    config = tmp_path / "basket.yaml"
    config.write_text("trading:\n  symbols: [BTC/USDT, ETH/USDT]\n")
    data = ["--data", str(files["BTC/USDT"]), "--data", str(files["SOL/USDT"])]

    result = CliRunner().invoke(
        build_app(), ["run", "--mode", "paper", "--bars", "5", "-c", str(config), *data]
    )

    assert result.exit_code == 2
    assert "binance_SOL-USDT_1h.csv holds SOL/USDT (from its name)" in result.output
    assert "trading.symbols is BTC/USDT, ETH/USDT" in result.output


async def test_paper_basket_with_protections_same_trades_and_locks_on_all(
    tmp_path: Path,
) -> None:
    # Arrange: a stop-loss guard and a drawdown lock on every symbol, and a cooldown
    protections = [
        {"method": "cooldown", "stop_duration_bars": 3},
        {"method": "stoploss_guard", "trade_limit": 2, "lookback_bars": 100,
         "stop_duration_bars": 8, "scope": "all"},
        {"method": "max_drawdown", "max_drawdown_pct": 0.003, "lookback_bars": 72,
         "stop_duration_bars": 6, "trade_limit": 4},
    ]  # fmt: skip
    files = write_basket(tmp_path)
    db = tmp_path / "p.db"
    # Act
    comparison = await basket_paper_vs_backtest(
        basket_config(**{"risk.protections": protections}), files, start_index=60, bars=150,
        database_url=f"sqlite:///{db}",
    )  # fmt: skip
    # Assert: the same trades; locks on all symbols were set and refused entries on several
    assert comparison.differences == []
    assert len(comparison.paper_trades) >= 10
    repo = Repository(create_database(f"sqlite:///{db}"))
    locks = repo.locks()
    assert {s.lock.protection for s in locks} == {"cooldown", "stoploss_guard", "max_drawdown"}
    assert any(s.lock.symbol == ALL_SYMBOLS for s in locks)
    refused = {
        d.symbol for d in repo.decisions() if d.verdict and " locks all symbols " in str(d.verdict)
    }
    assert len(refused) >= 2


async def test_paper_basket_at_a_binding_exposure_limit_same_trades(tmp_path: Path) -> None:
    # Arrange: room for two positions of the four markets, so entries decided at one close
    # compete for it: each must see the account as it stood at the close, on both paths
    files = write_basket(tmp_path)
    config = basket_config(**{"risk.max_portfolio_exposure": 2_000})
    # Act
    comparison = await basket_paper_vs_backtest(config, files, start_index=60, bars=300)
    # Assert
    assert comparison.differences == []
    assert comparison.paper_equity == comparison.backtest_equity
    assert len({t.symbol for t in comparison.paper_trades}) >= 3


def _row(output: str, name: str) -> str:
    line = next(line for line in output.splitlines() if f" {name} " in line)
    return line.split("│")[2].strip()
