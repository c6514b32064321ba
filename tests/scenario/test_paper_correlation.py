"""The correlation-aware limit gives the same verdicts in a backtest and in paper trading.

Three markets whose returns correlate at about 0.9 and one of its own; each buys once, at
a time a config script sets. With a cluster cap of two entries, the third correlated
entry is refused with its reason and the uncorrelated one passes, on both paths: the
backtest (whole history) and the paper bot (a rolling window through the sandbox), which
must therefore keep at least ``risk.correlation_window`` bars.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tradebot.backtest.basket import BasketData
from tradebot.backtest.session import simulate_basket
from tradebot.config import Config, load_config, with_overrides
from tradebot.data.load import load_candles
from tradebot.domain.decisions import Decision, SignalAction
from tradebot.orchestrator.paper import PaperSetup, paper_session

STRATEGY = Path(__file__).parents[1] / "resources" / "strategies" / "buy_at_time.py"
SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT", "LTC/USDT")
N, START, HOUR_MS, T0 = 700, 450, 3_600_000, 1_704_067_200_000
ENTRY_BAR = {"BTC/USDT": 500, "ETH/USDT": 502, "SOL/USDT": 504, "LTC/USDT": 506}


def write_basket(folder: Path) -> dict[str, Path]:
    """BTC, ETH, SOL share one factor (pairwise about 0.9); LTC is its own."""
    rng = np.random.default_rng(11)
    factor = rng.normal(0.0, 0.01, N)
    returns = {s: factor + rng.normal(0.0, 0.01 / 3, N) for s in SYMBOLS[:3]}
    returns["LTC/USDT"] = rng.normal(0.0, 0.01, N)
    files = {}
    for symbol, r in returns.items():
        close = np.round(100.0 * np.exp(np.cumsum(r)), 2)
        open_ = np.concatenate(([100.0], close[:-1]))
        frame = pd.DataFrame(
            {
                "timestamp": T0 + HOUR_MS * np.arange(N),
                "open": open_,
                "high": np.round(np.maximum(open_, close) * 1.001, 2),
                "low": np.round(np.minimum(open_, close) * 0.999, 2),
                "close": close,
                "volume": np.full(N, 1_000.0),
            }
        )
        files[symbol] = folder / f"binance_{symbol.replace('/', '-')}_1h.csv"
        frame.to_csv(files[symbol], index=False)
    return files


def basket_config(window: int) -> Config:
    per_symbol = {
        s: {"name": f"{STRATEGY}:BuyAtTime", "params": {"buy_ts_ms": T0 + HOUR_MS * bar}}
        for s, bar in ENTRY_BAR.items()
    }
    overrides: dict[str, object] = {
        "trading.symbols": list(SYMBOLS),
        "trading.starting_cash": 100_000,
        "strategy.name": f"{STRATEGY}:BuyAtTime",
        "strategy.symbols": per_symbol,
        "risk.position_sizing_method": "fixed_notional",
        "risk.max_position_size": 1_000,
        "risk.max_portfolio_exposure": 10_000,
        "risk.max_open_positions": 4,
        "risk.max_correlated_exposure": 2_000,
        "risk.correlation_window": window,
        "risk.stop_loss_method": "fixed_pct",
        "risk.stop_loss_pct": 0.3,  # far: no stop-out between the entries
    }
    return with_overrides(load_config(None), overrides, "test")


def verdicts(decisions: list[Decision]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Each symbol's entry: what was done and the reasons for it."""
    return {
        d.symbol: (d.action[:6], d.verdict.reasons if d.verdict else ())
        for d in decisions
        if d.signal.action is SignalAction.BUY
    }


async def paper_verdicts(config: Config, files: dict[str, Path], db: Path) -> dict:  # type: ignore[type-arg]
    setup = PaperSetup(
        data_files=files,
        start_index=START,
        database_url=f"sqlite:///{db}",
        starting_cash=config.trading.starting_cash,
    )
    async with paper_session(config, setup) as session:
        await session.replay(max(ENTRY_BAR.values()) - START + 2)
        return verdicts(session.bot.repo.decisions())


def backtest_verdicts(config: Config, files: dict[str, Path]) -> dict:  # type: ignore[type-arg]
    candles = {s: load_candles(files[s]) for s in SYMBOLS}
    data = BasketData(candles, config, "test", T0 + HOUR_MS * START)
    result, _ = simulate_basket(config, data)
    return verdicts(result.decisions)


async def test_correlation_verdicts_same_in_backtest_and_paper(tmp_path: Path) -> None:
    # Arrange: a correlation window longer than the strategy's own live window (300 bars)
    files = write_basket(tmp_path)
    config = basket_config(window=400)
    # Act
    backtest = backtest_verdicts(config, files)
    paper = await paper_verdicts(config, files, tmp_path / "p.db")
    # Assert: the third correlated entry refused with its reason, the others bought
    assert [backtest[s][0][:3] for s in SYMBOLS] == ["buy", "buy", "rej", "buy"]
    (reason,) = backtest["SOL/USDT"][1]
    assert reason.startswith("correlated with BTC/USDT 0.")
    assert paper == backtest
