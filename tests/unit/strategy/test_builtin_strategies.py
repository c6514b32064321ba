"""The built-in strategies: their rules, parameter checks, candidates and live-window parity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib
from strategy_candles import from_closes

from tradebot.domain.decisions import SignalAction
from tradebot.strategy.base import Bars
from tradebot.strategy.builtin import Breakout, EmaCrossover, RsiMeanReversion

LiveStrategy = EmaCrossover | RsiMeanReversion | Breakout

VARIANTS: list[LiveStrategy] = [
    EmaCrossover(),
    EmaCrossover(fast_period=5, slow_period=50, rsi_period=7, rsi_threshold=100.0),
    RsiMeanReversion(),
    RsiMeanReversion(rsi_period=7, oversold=25.0, overbought=75.0, trend_period=100),
    Breakout(),
    Breakout(period=55, exit_period=20),
]


def _ids(strategy: LiveStrategy) -> str:
    return f"{strategy.name}-" + "-".join(str(v) for v in strategy.get_config().values())


def _actions(strategy: LiveStrategy, candles: pd.DataFrame) -> list[SignalAction]:
    bars = Bars.from_frame(strategy.calculate_indicators(candles))
    return [strategy.generate_signals(bars, i, None).action for i in range(bars.n_bars)]


def test_ema_crossover_golden_cross_buys_with_readable_reason() -> None:
    # Arrange: a slide then a recovery, so EMA5 crosses above EMA10 once.
    closes = [100.0 - i for i in range(30)] + [70.0 + 2 * i for i in range(20)]
    strategy = EmaCrossover(fast_period=5, slow_period=10, rsi_period=14, rsi_threshold=100.0)
    candles = from_closes(closes)
    # Act
    bars = Bars.from_frame(strategy.calculate_indicators(candles))
    signals = [strategy.generate_signals(bars, i, None) for i in range(len(closes))]
    # Assert: the BUY is where TA-Lib's EMAs cross, and only there.
    fast, slow = talib.EMA(np.array(closes), 5), talib.EMA(np.array(closes), 10)
    cross = next(i for i in range(10, len(closes)) if fast[i - 1] <= slow[i - 1] < fast[i])
    buys = [i for i, s in enumerate(signals) if s.action is SignalAction.BUY]
    assert buys == [cross]
    rsi = talib.RSI(np.array(closes), 14)[cross]
    assert signals[cross].reason == (
        f"EMA5 golden cross EMA10 ({fast[cross]:.2f} vs {slow[cross]:.2f}), RSI14={rsi:.1f}"
    )
    assert signals[cross].metadata["ema_fast"] == pytest.approx(fast[cross])
    assert signals[cross].metadata["ema_slow"] == pytest.approx(slow[cross])


def test_ema_crossover_rsi_at_or_above_threshold_blocks_buy_not_sell() -> None:
    # The golden cross here comes with RSI14 = 40.8 (TA-Lib); the death cross has no filter.
    closes = [100.0 - i for i in range(30)] + [70.0 + 2 * i for i in range(20)]
    closes += [closes[-1] - 3 * i for i in range(1, 20)]
    assert talib.RSI(np.array(closes), 14)[34] == pytest.approx(40.83, abs=0.01)
    blocked = _actions(EmaCrossover(5, 10, rsi_threshold=40.0), from_closes(closes))
    allowed = _actions(EmaCrossover(5, 10, rsi_threshold=41.0), from_closes(closes))
    assert SignalAction.BUY not in blocked
    assert allowed[34] is SignalAction.BUY
    assert blocked.count(SignalAction.SELL) == allowed.count(SignalAction.SELL) == 1


def test_rsi_mean_reversion_crossing_up_through_oversold_buys() -> None:
    closes = [100.0 * 0.99**i for i in range(40)] + [67.0 * 1.01**i for i in range(10)]
    strategy = RsiMeanReversion(rsi_period=14, oversold=30.0, overbought=70.0)
    bars = Bars.from_frame(strategy.calculate_indicators(from_closes(closes)))
    signals = [strategy.generate_signals(bars, i, None) for i in range(len(closes))]
    rsi = talib.RSI(np.array(closes), 14)
    buys = [i for i, s in enumerate(signals) if s.action is SignalAction.BUY]
    assert buys == [i for i in range(15, len(closes)) if rsi[i - 1] <= 30.0 < rsi[i]]
    assert len(buys) == 1
    assert "up through 30" in signals[buys[0]].reason


def test_rsi_mean_reversion_trend_filter_blocks_buy_in_downtrend() -> None:
    closes = [100.0 * 0.99**i for i in range(60)] + [54.7 * 1.01**i for i in range(10)]
    plain = RsiMeanReversion()
    filtered = RsiMeanReversion(trend_period=50)
    assert SignalAction.BUY in _actions(plain, from_closes(closes))
    assert SignalAction.BUY not in _actions(filtered, from_closes(closes))


def test_breakout_close_above_previous_high_buys_and_below_exit_low_sells() -> None:
    closes = [100.0, 101.0] * 15 + [105.0, 106.0, 104.0, 99.0]
    strategy = Breakout(period=20, exit_period=10)
    bars = Bars.from_frame(strategy.calculate_indicators(from_closes(closes)))
    signals = {i: strategy.generate_signals(bars, i, None) for i in range(len(closes))}
    acts = {i: s.action for i, s in signals.items() if s.action is not SignalAction.HOLD}
    assert acts == {30: SignalAction.BUY, 31: SignalAction.BUY, 33: SignalAction.SELL}
    assert "broke the 20-bar high 101.00" in signals[30].reason
    assert "broke the 10-bar low 100.00" in signals[33].reason


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: EmaCrossover(fast_period=30), "fast_period must be below slow_period"),
        (lambda: EmaCrossover(rsi_threshold=150), r"rsi_threshold must be in \[0, 100\]"),
        (lambda: EmaCrossover(slow_period=1), r"slow_period must be in \[2, 10000\], got 1"),
        (lambda: EmaCrossover(fast_period=12.5), "fast_period must be an integer"),  # type: ignore[arg-type]
        (lambda: EmaCrossover(fast_period=True), "fast_period must be an integer"),
        (lambda: RsiMeanReversion(oversold=80), "oversold must be below overbought"),
        (lambda: RsiMeanReversion(trend_period=-1), r"trend_period must be in \[0, 10000\]"),
        (lambda: Breakout(period=0), r"period must be in \[1, 10000\], got 0"),
        (lambda: Breakout(exit_period="10"), "exit_period must be an integer"),  # type: ignore[arg-type]
    ],
)
def test_builtin_bad_parameter_raises_naming_it_and_range(build: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()  # type: ignore[operator]


@pytest.mark.parametrize("strategy", VARIANTS, ids=_ids)
def test_builtin_signal_candidates_cover_every_signal(
    strategy: LiveStrategy, btc_3000: pd.DataFrame
) -> None:
    bars = Bars.from_frame(strategy.calculate_indicators(btc_3000))
    acts = [strategy.generate_signals(bars, i, None).action for i in range(bars.n_bars)]
    signalled = {i for i, a in enumerate(acts) if a is not SignalAction.HOLD}
    candidates = strategy.signal_candidates(bars)
    assert candidates.dtype == np.int64
    assert len(signalled) >= 5
    assert signalled <= set(candidates.tolist())
    assert len(candidates) < bars.n_bars // 3  # it actually saves work


@pytest.mark.parametrize("strategy", VARIANTS, ids=_ids)
def test_builtin_before_warmup_holds(strategy: LiveStrategy, btc_3000: pd.DataFrame) -> None:
    acts = _actions(strategy, btc_3000)
    first = next(i for i, a in enumerate(acts) if a is not SignalAction.HOLD)
    assert first >= strategy.warmup_bars
    assert set(acts[: strategy.warmup_bars]) == {SignalAction.HOLD}


@pytest.mark.parametrize("strategy", VARIANTS, ids=_ids)
def test_builtin_rolling_window_signals_equal_full_history(
    strategy: LiveStrategy, btc_1h: pd.DataFrame
) -> None:
    # Arrange: live trading recomputes on the last `live_window_bars` candles each bar.
    candles = btc_1h.iloc[:2000].reset_index(drop=True)
    window = strategy.live_window_bars
    full = _actions(strategy, candles)
    # Act
    live = []
    for end in range(window, len(candles) + 1):
        frame = strategy.calculate_indicators(candles.iloc[end - window : end])
        bars = Bars.from_frame(frame)
        live.append(strategy.generate_signals(bars, window - 1, None).action)
    # Assert
    assert live == full[window - 1 :]
    assert sum(a is not SignalAction.HOLD for a in live) >= 5


def test_ema_crossover_window_too_short_changes_some_signal(btc_1h: pd.DataFrame) -> None:
    # The converse of the parity test: a window of 2x the slow period has not forgotten
    # its seed, so live_window_bars is needed, not decoration.
    strategy = EmaCrossover(rsi_threshold=100.0)
    candles = btc_1h.iloc[:4000].reset_index(drop=True)
    window = 2 * strategy.slow_period
    full = _actions(strategy, candles)
    signalled = [i for i, a in enumerate(full) if a is not SignalAction.HOLD and i >= window]
    differ = 0
    for i in signalled:
        window_frame = candles.iloc[i + 1 - window : i + 1]
        bars = Bars.from_frame(strategy.calculate_indicators(window_frame))
        differ += strategy.generate_signals(bars, window - 1, None).action != full[i]
    assert differ > 0


def test_builtin_get_config_returns_the_parameters() -> None:
    assert EmaCrossover(fast_period=5, slow_period=10).get_config() == {
        "fast_period": 5,
        "slow_period": 10,
        "rsi_period": 14,
        "rsi_threshold": 70.0,
    }
    assert Breakout().get_config() == {"period": 20, "exit_period": 10}
    assert RsiMeanReversion(oversold=20).get_config()["oversold"] == 20.0


@pytest.mark.parametrize("strategy", VARIANTS, ids=_ids)
def test_builtin_indicators_share_the_candles_and_leave_them_unchanged(
    strategy: LiveStrategy,
) -> None:
    # Arrange: a backtest of two million bars held the candles twice when each strategy
    # copied them before adding its columns.
    candles = from_closes([100.0 + (i % 17) - (i % 5) for i in range(300)])
    before = candles.copy()

    # Act
    bars = Bars.from_frame(strategy.calculate_indicators(candles))

    # Assert
    pd.testing.assert_frame_equal(candles, before)
    for column in ("open", "high", "low", "close"):
        assert np.shares_memory(bars[column], candles[column].to_numpy())
