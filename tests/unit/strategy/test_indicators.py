"""Indicators against TA-Lib: the same values (to 1e-9 relative) from the same bar on."""

from __future__ import annotations

import tracemalloc

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
import talib
from strategy_candles import random_walk

from tradebot.strategy import indicators as ind
from tradebot.strategy.base import Bars
from tradebot.strategy.builtin.ema_crossover import EmaCrossover

FloatArray = npt.NDArray[np.float64]
RTOL = 1e-9


def _datasets() -> list[str]:
    return ["btc", "walk-1", "walk-2"]


@pytest.fixture(params=_datasets())
def candles(request: pytest.FixtureRequest, btc_3000: pd.DataFrame) -> pd.DataFrame:
    """The real BTC sample and two seeded random walks (one around 100, one around 0.01)."""
    if request.param == "btc":
        return btc_3000
    seed = int(request.param.split("-")[1])
    return random_walk(seed, start=100.0 if seed == 1 else 0.01)


def _assert_matches(
    ours: FloatArray, theirs: FloatArray, atol: float = 0.0, *, same_warmup: bool = True
) -> None:
    """Same warm-up (NaN up to TA-Lib's first value) and the same values after it."""
    first = int(np.flatnonzero(~np.isnan(theirs))[0])
    if same_warmup:
        assert np.isnan(ours[:first]).all()
    assert not np.isnan(ours[first:]).any()
    np.testing.assert_allclose(ours[first:], theirs[first:], rtol=RTOL, atol=atol)


def _hlc(candles: pd.DataFrame) -> tuple[FloatArray, FloatArray, FloatArray]:
    return (
        candles["high"].to_numpy(np.float64),
        candles["low"].to_numpy(np.float64),
        candles["close"].to_numpy(np.float64),
    )


@pytest.mark.parametrize("period", [2, 5, 12, 26, 200])
def test_ema_any_period_matches_talib(candles: pd.DataFrame, period: int) -> None:
    close = _hlc(candles)[2]
    _assert_matches(ind.ema(close, period), talib.EMA(close, period))


@pytest.mark.parametrize("period", [2, 20, 200])
def test_sma_any_period_matches_talib(candles: pd.DataFrame, period: int) -> None:
    close = _hlc(candles)[2]
    _assert_matches(ind.sma(close, period), talib.SMA(close, period))


@pytest.mark.parametrize("period", [2, 14, 30])
def test_rsi_any_period_matches_talib(candles: pd.DataFrame, period: int) -> None:
    close = _hlc(candles)[2]
    ours = ind.rsi(close, period)
    _assert_matches(ours, talib.RSI(close, period))
    assert np.nanmin(ours) >= 0.0
    assert np.nanmax(ours) <= 100.0


@pytest.mark.parametrize("period", [1, 14, 50])
def test_atr_any_period_matches_talib(candles: pd.DataFrame, period: int) -> None:
    high, low, close = _hlc(candles)
    _assert_matches(ind.atr(high, low, close, period), talib.ATR(high, low, close, period))


@pytest.mark.parametrize(("period", "n_std"), [(20, 2.0), (10, 1.5)])
def test_bollinger_bands_match_talib(candles: pd.DataFrame, period: int, n_std: float) -> None:
    close = _hlc(candles)[2]
    ours = ind.bollinger(close, period, n_std)
    theirs = talib.BBANDS(close, period, n_std, n_std)
    for mine, ta in zip(ours, theirs, strict=True):
        _assert_matches(mine, ta)


@pytest.mark.parametrize(("fast", "slow", "signal"), [(12, 26, 9), (5, 35, 5)])
def test_macd_lines_match_talib(candles: pd.DataFrame, fast: int, slow: int, signal: int) -> None:
    close = _hlc(candles)[2]
    # MACD oscillates around 0, so "relative" is relative to the price it is made of.
    atol = 1e-12 * float(np.abs(close).max())
    ours = ind.macd(close, fast, slow, signal)
    theirs = talib.MACD(close, fast, slow, signal)
    _assert_matches(ours[0], theirs[0], atol=atol, same_warmup=False)  # ours starts earlier
    _assert_matches(ours[1], theirs[1], atol=atol)
    _assert_matches(ours[2], theirs[2], atol=atol)


def test_macd_line_defined_from_slow_ema_bar_before_talib_emits_it() -> None:
    close = random_walk(3)["close"].to_numpy(np.float64)
    line, signal_line, _ = ind.macd(close, 12, 26, 9)
    assert np.flatnonzero(~np.isnan(line))[0] == 25
    assert np.flatnonzero(~np.isnan(signal_line))[0] == 33


def test_donchian_channel_matches_talib_max_min_including_current_bar(
    candles: pd.DataFrame,
) -> None:
    high, low, _ = _hlc(candles)
    upper, lower = ind.donchian(high, low, 20)
    _assert_matches(upper, talib.MAX(high, 20))
    _assert_matches(lower, talib.MIN(low, 20))
    assert (upper[19:] >= high[19:]).all()


def test_rsi_flat_market_is_zero_like_talib() -> None:
    close = np.full(40, 250.0)
    np.testing.assert_array_equal(ind.rsi(close, 14)[14:], talib.RSI(close, 14)[14:])
    assert ind.rsi(close, 14)[20] == 0.0


def test_ema_input_shorter_than_period_is_all_nan() -> None:
    assert np.isnan(ind.ema(np.arange(5.0), 10)).all()


def test_ema_leading_nans_seed_after_them() -> None:
    values = np.concatenate((np.full(3, np.nan), np.arange(1.0, 11.0)))
    out = ind.ema(values, 4)
    assert np.isnan(out[:6]).all()
    assert out[6] == pytest.approx(2.5)  # mean of 1, 2, 3, 4


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ind.ema(np.arange(10.0), 0), "period must be an integer >= 1, got 0"),
        (lambda: ind.sma(np.arange(10.0), True), "period must be an integer >= 1"),
        (lambda: ind.macd(np.arange(50.0), 26, 12, 9), r"fast \(26\) must be below slow \(12\)"),
        (lambda: ind.rsi(np.ones((3, 3)), 2), "must be 1-D"),
    ],
)
def test_indicators_bad_arguments_raise_naming_them(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]


def test_ema_convergence_bars_started_later_agrees_within_tolerance() -> None:
    close = random_walk(4, n_bars=2000)["close"].to_numpy(np.float64)
    period = 26
    n = ind.ema_convergence_bars(period)
    full = ind.ema(close, period)
    late = ind.ema(close[500:], period)
    end = 500 + period - 1 + n
    assert abs(late[end - 500] - full[end]) <= 1e-12 * 5 * close.max()
    assert abs(late[period + 5] - full[500 + period + 5]) > 1e-6


def test_wilder_on_a_scratch_array_equals_wilder_on_a_copy() -> None:
    # Arrange: a caller's temporary (the RSI's gains, the true range) is seeded in place;
    # the seed must be the mean of the inputs, read before they are overwritten
    values = np.abs(np.random.default_rng(5).normal(size=500))
    values[:3] = np.nan

    # Act
    kept = ind.wilder(values.copy(), 14)
    scratch = ind.wilder(values.copy(), 14, scratch=True)

    # Assert
    np.testing.assert_array_equal(scratch, kept)


def test_ema_crossover_and_its_stop_atr_peak_at_eight_columns() -> None:
    # Arrange: an optimisation worker's peak on two million bars was the indicators'
    # computation, nine columns of the bars' length (16 MB each there)
    n = 200_000
    close = 100 * np.exp(np.cumsum(np.random.default_rng(3).normal(0, 0.001, n)))
    strategy = EmaCrossover()
    ts_ms = np.arange(n, dtype=np.int64) * 60_000
    bars = Bars(ts_ms, {"high": close * 1.001, "low": close * 0.999, "close": close})

    # Act
    tracemalloc.start()
    try:
        columns = strategy.indicator_columns(bars)
        ind.atr(bars["high"], bars["low"], bars["close"], 14)
        peak = tracemalloc.get_traced_memory()[1] / (n * 8)
    finally:
        tracemalloc.stop()

    # Assert
    assert list(columns) == ["ema_fast", "ema_slow", "rsi"]
    assert peak < 8.5


@pytest.mark.parametrize("alpha", [2 / 13, 2 / 27, 1 / 14, 2 / 4, 1.0, 0.3141])
def test_ewm_mean_is_pandas_ewm_to_the_bit(alpha: float) -> None:
    # Arrange: windows as live trading smooths them, and the cases pandas treats apart
    rng = np.random.default_rng(7)
    cases = [np.cumsum(rng.normal(size=n)) + 100 for n in (1, 2, 26, 401, 5000)]
    seeded = cases[3].copy()
    seeded[:11] = np.nan
    with_inf = cases[2].copy()
    with_inf[[0, 5]] = [np.inf, -np.inf]
    gap = cases[3].copy()
    gap[200] = np.nan
    cases += [seeded, with_inf, gap, np.full(9, np.nan), np.empty(0)]
    for values in cases:
        # Act
        fast = ind.ewm_mean(values, alpha)
        # Assert
        slow = pd.Series(values, dtype=np.float64).ewm(alpha=alpha, adjust=False).mean()
        assert fast.tobytes() == slow.to_numpy(dtype=np.float64).tobytes()


def test_ewm_mean_through_pandas_when_its_kernel_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    values = np.cumsum(np.random.default_rng(3).normal(size=401)) + 100
    kernel = ind.ewm_mean(values, 2 / 13)
    monkeypatch.setattr("tradebot.strategy.indicators.averages._EWM_KERNEL", None)
    assert ind.ewm_mean(values, 2 / 13).tobytes() == kernel.tobytes()
