"""The Backtester over several symbols on one account: bars aligned on timestamps, a symbol
whose data starts later joins then, quiet bars skipped per symbol, portfolio risk limits
over all positions."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from factories import HOUR_MS, START_MS, ScriptedStrategy, make_candles, make_engine, make_market
from tradebot.backtest.result import BacktestResult, union_of_times
from tradebot.backtest.runner import Backtester
from tradebot.risk.controller import RiskLimits
from tradebot.risk.stops import StopMethod, StopParams

D = Decimal
STOPS = StopParams(method=StopMethod.FIXED_PCT, pct=D("0.03"))
ROOMY = RiskLimits(max_portfolio_exposure=D(10_000), max_open_positions=5)
BTC = make_candles(80, seed=3, start=40_000.0, volatility=0.004, gap=0.002)
# ETH's data starts 10 bars after BTC's; its bar k opens at BTC's bar k + 10.
ETH = make_candles(
    70, seed=4, start=2_000.0, volatility=0.006, gap=0.002, start_ms=START_MS + 10 * HOUR_MS
)
BTC_SCRIPT = ([5, 30, 50], [20, 45, 70])
ETH_SCRIPT = ([2, 25, 40], [15, 35, 60])


def single(
    symbol: str, candles: pd.DataFrame, script: tuple[list[int], list[int]]
) -> BacktestResult:
    engine, exchange = make_engine(
        ScriptedStrategy(*script), market=make_market(symbol), cash=D(100_000),
        stops=STOPS, limits=ROOMY,
    )  # fmt: skip
    return Backtester(engine, exchange).run(candles)


def portfolio(every_bar: bool = False, limits: RiskLimits = ROOMY) -> BacktestResult:
    engine, exchange = make_engine(
        ScriptedStrategy(*BTC_SCRIPT),
        cash=D(100_000),
        stops=STOPS,
        limits=limits,
        more=[(make_market("ETH/USDT"), ScriptedStrategy(*ETH_SCRIPT))],
    )
    backtester = Backtester(engine, exchange, every_bar=every_bar)
    return backtester.run_portfolio({"BTC/USDT": BTC, "ETH/USDT": ETH})


def test_run_portfolio_independent_symbols_trade_as_each_alone() -> None:
    btc, eth = single("BTC/USDT", BTC, BTC_SCRIPT), single("ETH/USDT", ETH, ETH_SCRIPT)

    result = portfolio()

    assert [t for t in result.trades if t.symbol == "BTC/USDT"] == btc.trades
    assert [t for t in result.trades if t.symbol == "ETH/USDT"] == eth.trades
    assert {t.exit_reason for t in result.trades} >= {"signal", "stop_loss"}
    # one account: the profits add up; the timeline is the union (ETH joins at bar 10)
    assert result.n_bars == 80
    assert result.final_equity - 100_000 == pytest.approx(
        (btc.final_equity - 100_000) + (eth.final_equity - 100_000), abs=1e-6
    )
    assert result.close[0] == pytest.approx((BTC["close"][0] / BTC["open"][0] + 1.0) / 2)


def test_run_portfolio_skipping_quiet_bars_changes_nothing() -> None:
    skipping, every = portfolio(), portfolio(every_bar=True)

    assert skipping.trades == every.trades
    assert list(skipping.equity) == pytest.approx(list(every.equity))
    assert skipping.settings["bars_visited"] < every.settings["bars_visited"] == 150


def test_run_portfolio_max_open_positions_counts_every_symbol() -> None:
    result = portfolio(limits=RiskLimits(max_portfolio_exposure=D(10_000), max_open_positions=1))

    (refused, *_) = [d for d in result.decisions if d.action == "rejected"]
    # BTC is held from bar 6 to 20; ETH's buy at its bar 2 (BTC's bar 12) is refused
    assert (refused.symbol, refused.ts_ms) == ("ETH/USDT", int(ETH["ts_ms"][2]))
    assert refused.verdict is not None
    assert refused.verdict.reasons == ("2 open positions > 1",)


def test_run_portfolio_max_portfolio_exposure_sums_every_position() -> None:
    result = portfolio(limits=RiskLimits(max_portfolio_exposure=D(1_500), max_open_positions=5))

    (refused, *_) = [d for d in result.decisions if d.action == "rejected"]
    assert (refused.symbol, refused.ts_ms) == ("ETH/USDT", int(ETH["ts_ms"][2]))
    assert refused.verdict is not None
    (reason,) = refused.verdict.reasons
    assert reason.startswith("exposure ")
    assert reason.endswith("> limit 1500")


def test_run_portfolio_candles_must_match_the_engine_symbols() -> None:
    engine, exchange = make_engine(
        ScriptedStrategy(), more=[(make_market("ETH/USDT"), ScriptedStrategy())]
    )

    with pytest.raises(ValueError, match=r"missing: ETH/USDT; unknown: SOL/USDT"):
        Backtester(engine, exchange).run_portfolio({"BTC/USDT": BTC, "SOL/USDT": ETH})


def test_run_portfolio_decision_equity_is_the_accounts() -> None:
    result = portfolio()

    # every decision records the account at its close (cash and every holding at its last
    # close), which is the equity curve there: not the deciding symbol's holding alone
    at = {int(ts): float(e) for ts, e in zip(result.ts_ms, result.equity, strict=True)}
    btc = next(t for t in result.trades if t.symbol == "BTC/USDT")
    assert any(  # ETH decides while BTC is held
        d.symbol == "ETH/USDT" and btc.entry_ts_ms <= d.ts_ms < btc.exit_ts_ms
        for d in result.decisions
    )
    for decision in result.decisions:
        assert decision.equity == pytest.approx(at[decision.ts_ms], rel=1e-9), decision


@pytest.mark.parametrize(
    "eth",
    [
        ETH.iloc[:-5].reset_index(drop=True),  # ends five bars before BTC
        ETH.drop(index=[20, 21]).iloc[:-5].reset_index(drop=True),  # and misses two bars
    ],
    ids=["ends-early", "gap-and-ends-early"],
)
def test_run_portfolio_legs_mark_each_symbol_at_its_last_close(eth: pd.DataFrame) -> None:
    engine, exchange = make_engine(
        ScriptedStrategy(*BTC_SCRIPT), cash=D(100_000), stops=STOPS, limits=ROOMY,
        more=[(make_market("ETH/USDT"), ScriptedStrategy(*ETH_SCRIPT))],
    )  # fmt: skip

    result = Backtester(engine, exchange).run_portfolio({"BTC/USDT": BTC, "ETH/USDT": eth})

    # at every time of the basket: the symbol's last close at or before it (NaN before its
    # first bar), through a gap in its data and after its data ends
    for symbol, candles in (("BTC/USDT", BTC), ("ETH/USDT", eth)):
        closes = dict(zip(candles["ts_ms"].tolist(), candles["close"].tolist(), strict=True))
        last, expected = float("nan"), []
        for ts in result.ts_ms.tolist():
            last = closes.get(ts, last)
            expected.append(last)
        np.testing.assert_array_equal(result.legs[symbol].close, expected)
    assert result.ts_ms.tolist() == sorted(set(BTC["ts_ms"]) | set(eth["ts_ms"]))


def test_union_of_times_is_every_bar_time_once_in_order() -> None:
    # Arrange: three symbols' sorted bar times, overlapping, one with a gap, one later
    times = [np.array(t, dtype=np.int64) for t in ([1, 2, 3, 5], [2, 3, 4, 5], [5, 6], [])]

    # Act / Assert
    assert union_of_times(times).tolist() == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize(
    "runs",
    [
        [(0, 50), (10, 60), (30, 45)],  # overlapping runs of one grid: made as a range
        [(20, 40), (0, 21)],  # one ends a bar after the other starts
        [(0, 10), (11, 20)],  # adjoining, no shared bar
        [(0, 10), (12, 20)],  # a bar of time between them that no market has
        [(0, 1), (0, 30)],  # a market of one bar
        [(5, 6)],
    ],
)
def test_union_of_times_of_runs_on_one_grid_is_every_time_once(
    runs: list[tuple[int, int]],
) -> None:
    # Arrange: markets whose bars are runs of one bar length (bars start..end-1), some
    # overlapping, adjoining or apart, plus one shifted half a bar and one with a gap
    hour = 3_600_000
    grid = [np.arange(a, b, dtype=np.int64) * hour + START_MS for a, b in runs]
    shifted = [*grid, grid[0] + hour // 2]
    gapped = [*grid, np.delete(np.arange(3, 9, dtype=np.int64), 2) * hour + START_MS]

    # Act / Assert: the same times as a sort of all of them, in order, each once
    for times in (grid, shifted, gapped):
        expected = np.unique(np.concatenate(times))
        np.testing.assert_array_equal(union_of_times(times), expected)
        assert union_of_times(times).dtype == np.int64
