"""``tradebot serve strategy``: closed candles in, every symbol's signal at each bar time out.

It keeps each symbol's window of the last ``window_bars`` candles (the single process's
window: indicators are recomputed on it, so a recursive indicator sees the same bars). When
every symbol trading at a bar time has its bar there (a symbol not listed yet, or halted,
is not waited for), it asks each symbol's strategy for its signal on its window, through
the strategy barrier, and publishes them together: one message per bar time, as the
execution service decides the symbols of one close together, as the single process and the
backtest do. A bar time still waiting when a later one arrives goes out with what it has;
a symbol's bar that arrives after its bar time went out is published alone (the execution
decides it, or refuses it as already decided).

The windows are filled from the exchange's public candles (REST, no keys) at the first bar
after a (re)start (every symbol's) and when a bar is missing from one (a bar the
market-data service never published). Handling a bar again (a redelivery) publishes the
same signals under the same event id, so the consumer keeps its processed ids in memory.

The strategy is asked without the position (``position=None``): the position lives in the
execution service. The built-in strategies ignore it; a strategy that reads it trades
differently here than in the single process.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import structlog

from tradebot.data.frame import VALUE_COLUMNS
from tradebot.domain.decisions import Signal
from tradebot.domain.errors import LookaheadError, StrategyError
from tradebot.domain.market import Candle, timeframe_to_ms
from tradebot.exchange.port import ExchangeConnector
from tradebot.orchestrator.candles import candle_bars
from tradebot.services.bus import Envelope, EventBus
from tradebot.services.messages import CandleClosed, SignalsDecided, SymbolSignal
from tradebot.strategy.barrier import not_a_signal, strategy_failed
from tradebot.strategy.base import Strategy
from tradebot.strategy.horizon import ask_signal

log = structlog.get_logger("tradebot.services.strategy")


def signal_on(strategy: Strategy, window: Sequence[Candle]) -> tuple[Signal, dict[str, float]]:
    """The strategy's signal at the close of the window's last bar, and its indicators.

    Raises:
        StrategyError: the strategy failed or returned something that is not a Signal.
        LookaheadError: it read a bar after the last one.
    """
    ts = window[-1].ts_ms
    try:
        bars = strategy.indicator_bars(candle_bars(window))  # as the single process does
    except Exception as exc:  # the strategy barrier: whatever a strategy raises
        raise StrategyError(
            f"strategy {strategy.name} failed computing indicators: {exc!r}"
        ) from exc
    i = bars.n_bars - 1
    try:
        signal = ask_signal(strategy, bars, i, None)
    except LookaheadError:
        raise
    except Exception as exc:  # the strategy barrier
        raise strategy_failed(strategy, ts, exc) from exc
    if not isinstance(signal, Signal):
        raise not_a_signal(strategy, ts, signal)
    indicators = {k: v for k, v in bars.row(i).items() if k not in VALUE_COLUMNS}
    return signal, indicators


class StrategyService:
    """Turns ``CandleClosed`` messages into ``SignalsDecided`` ones."""

    def __init__(
        self,
        bus: EventBus,
        history: ExchangeConnector,
        venue: str,
        timeframe: str,
        strategies: Mapping[str, Strategy],
        window_bars: int,
    ) -> None:
        """``strategies``: each symbol's, in the order the engine decides them;
        ``history``: where a missing window is read from (public candles only)."""
        self.bus, self.history = bus, history
        self.venue, self.timeframe = venue, timeframe
        self.strategies = dict(strategies)
        self.window_bars = window_bars
        self.bar_ms = timeframe_to_ms(timeframe)
        self._windows: dict[str, list[Candle]] = {}
        self._arrived: dict[int, dict[str, int]] = {}  # bar time: symbol -> observed_ms
        self._published_ts = -1  # the newest bar time published
        self.published = 0
        self.source = f"strategy:{venue}"

    async def __call__(self, envelope: Envelope) -> None:
        """Handle one ``CandleClosed``: update the window, publish the bar time once every
        symbol trading at it has its bar (earlier bar times still waiting go out first)."""
        bar = CandleClosed.of(envelope)
        if bar.symbol not in self.strategies or bar.timeframe != self.timeframe:
            log.warning("candle not traded here", symbol=bar.symbol, timeframe=bar.timeframe)
            return
        ts = bar.candle.ts_ms
        if not self._windows:  # a (re)start: every symbol's window up to this bar time
            await self._fill_all(ts)
        await self._extend(bar.symbol, bar.candle)
        if ts <= self._published_ts:  # a redelivery, or a symbol whose bar came late
            await self._publish(ts, [bar.symbol], envelope.created_ms)
            return
        self._arrived.setdefault(ts, {}).setdefault(bar.symbol, envelope.created_ms)
        for waiting in sorted(t for t in self._arrived if t < ts):
            await self._publish_time(waiting)  # a symbol stopped trading: decide without it
        if self._expected(ts) <= self._arrived[ts].keys():
            await self._publish_time(ts)

    def _expected(self, ts: int) -> set[str]:
        # The symbols trading at ``ts``: those whose window reached the bar before (one not
        # listed yet, or halted for longer, is not waited for).
        return {s for s, w in self._windows.items() if w and w[-1].ts_ms >= ts - self.bar_ms}

    async def _publish_time(self, ts: int) -> None:
        arrived = self._arrived.pop(ts)
        symbols = sorted(arrived, key=list(self.strategies).index)
        await self._publish(ts, symbols, min(arrived.values()))
        self._published_ts = max(self._published_ts, ts)

    async def _fill_all(self, ts: int) -> None:
        for symbol in self.strategies:
            window = await self._backfill(symbol, ts)
            if window:
                self._windows[symbol] = window

    async def _extend(self, symbol: str, candle: Candle) -> None:
        window = self._windows.get(symbol, [])
        if window and window[-1].ts_ms == candle.ts_ms - self.bar_ms:
            window = [*window, candle][-self.window_bars :]
        elif not (window and window[-1].ts_ms == candle.ts_ms):
            window = [*await self._backfill(symbol, candle.ts_ms - self.bar_ms), candle]
        self._windows[symbol] = window[-self.window_bars :]

    async def _backfill(self, symbol: str, until_ts: int) -> list[Candle]:
        """The exchange's candles of ``symbol`` up to the bar opening at ``until_ts``."""
        since = until_ts - (self.window_bars - 1) * self.bar_ms
        got = await self.history.fetch_ohlcv(
            symbol, self.timeframe, since_ms=since, limit=self.window_bars
        )
        window = [c for c in got if c.ts_ms <= until_ts]
        log.info("window filled from the exchange", symbol=symbol, bars=len(window))
        return window[-self.window_bars :]

    async def _publish(self, ts: int, symbols: Sequence[str], observed_ms: int) -> None:
        decided: dict[str, SymbolSignal] = {}
        for symbol in symbols:
            window = [c for c in self._windows[symbol] if c.ts_ms <= ts]
            if not window or window[-1].ts_ms != ts:
                continue  # the window moved past this bar: the bar is too late to matter
            signal, indicators = signal_on(self.strategies[symbol], window)
            decided[symbol] = SymbolSignal(signal, indicators, window)
        message = SignalsDecided(self.venue, self.timeframe, ts, observed_ms, decided)
        await self.bus.publish(message.envelope(self.source, int(time.time() * 1000)))
        self.published += 1
