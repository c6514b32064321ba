"""The market side of the sandbox: replayed prices, the clock, books and the engine together.

Deterministic rule (docs/sandbox.md): at time ``now`` the bar that opened last is "current"
and the price is its open. ``advance`` closes it: the price walks the bar's path of
``tradebot.domain.fills`` (open → low → high → close; resting orders act where the rule says),
then jumps to the next bar's open, which becomes the current price. A market order sent after
``advance`` therefore fills around the next bar's open, exactly at it when the spread is 0.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from tradebot.domain.errors import DataError
from tradebot.domain.fills import Leg, bar_path
from tradebot.sandbox.account import Account
from tradebot.sandbox.book import BookShape, SyntheticBook
from tradebot.sandbox.config import SandboxConfig
from tradebot.sandbox.events import BookChanged, Event, PriceMoved, TradePrinted
from tradebot.sandbox.markets import MarketSpec
from tradebot.sandbox.matching import MatchingEngine
from tradebot.sandbox.replay import Bar, Series, load_bars

_PUBLIC_TRADES_KEPT = 1000


@dataclass(slots=True)
class LiveBar:
    """The current bar as far as the replay has walked it."""

    index: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    def visit(self, price: Decimal, qty: Decimal) -> None:
        """Record a trade at ``price``."""
        self.high, self.low, self.close = max(self.high, price), min(self.low, price), price
        self.volume += qty


def replayed(config: SandboxConfig) -> dict[str, tuple[Series, MarketSpec]]:
    """The bars and rules of each candle file of ``config.data_files``.

    Raises:
        DataError: a symbol is not unified, or a file cannot be read.
    """
    markets: dict[str, tuple[Series, MarketSpec]] = {}
    for symbol, path in config.data_files.items():
        if "/" not in symbol:
            raise DataError(f"symbol {symbol!r} must be unified, e.g. BTC/USDT")
        series = Series.from_bars(symbol, load_bars(path))
        markets[symbol] = (series, MarketSpec.derive(symbol, series.bars))
    return markets


class Venue:
    """Replay clock, per-symbol markets and the matching engine of one sandbox.

    ``markets`` holds each symbol's bars and rules: read from files (``replayed``) or, in
    mirror mode, from a real exchange (``sandbox/mirror.py``), whose new bars ``follow``
    then walks as the source closes them.
    """

    def __init__(
        self,
        config: SandboxConfig,
        sink: Callable[[Event], None],
        markets: Mapping[str, tuple[Series, MarketSpec]],
    ) -> None:
        self._sink = sink
        self.mirror = config.mirror
        self.series: dict[str, Series] = {}
        self.specs: dict[str, MarketSpec] = {}
        self.books: dict[str, SyntheticBook] = {}
        self.unified: dict[str, str] = {}
        shape = BookShape(
            config.spread_bps, config.depth_step_bps, config.depth_levels, config.level_notional
        )
        for symbol, (series, spec) in markets.items():
            self.series[spec.venue_id] = series
            self.specs[spec.venue_id] = spec
            self.books[spec.venue_id] = SyntheticBook(spec, shape)
            self.unified[spec.venue_id] = symbol
        self.step_ms = min(s.tf_ms for s in self.series.values())
        self.account = Account(free=dict(config.balances))
        fees = (config.maker_fee_rate, config.taker_fee_rate)
        self.engine = MatchingEngine(self.specs, self.books, self.account, fees, self._emit)
        self.public_trades: dict[str, deque[TradePrinted]] = {
            v: deque(maxlen=_PUBLIC_TRADES_KEPT) for v in self.series
        }
        self.live: dict[str, LiveBar] = {}
        self.pending_shock_pct = Decimal(0)
        first = next(iter(self.series.values()))
        start = config.start_ms
        if self.mirror is not None:  # the bar forming at the source
            start = max(s.bars[-1].ts_ms for s in self.series.values())
        elif start is None:
            start = first.bars[min(config.start_index, len(first.bars) - 1)].ts_ms
        self.now_ms = start
        self.engine.now_ms = start
        self.end_ms = min(s.bars[-1].ts_ms for s in self.series.values())
        self._open_all()

    def reset_clock(self, now_ms: int) -> None:
        """Jump the clock (restoring a snapshot): reopen every symbol's bar at ``now_ms``.

        A mirror goes back only as far as the candles it fetched: the bars closed since are
        then walked at its next ``follow``.

        Raises:
            DataError: a data file does not cover ``now_ms``; for a mirror, the candles
                fetched do not (the account was kept by a replay, or by a mirror stopped
                longer than they reach back): its resting orders could not be walked.
        """
        if self.mirror is not None:
            for s in self.series.values():
                if s.index_at(now_ms) < 0 or now_ms > s.bars[-1].ts_ms:
                    raise DataError(
                        f"its clock {now_ms} lies outside the {len(s.bars)} {s.symbol} "
                        f"candles {self.mirror.label} served ({s.bars[0].ts_ms} to "
                        f"{s.bars[-1].ts_ms}): kept by a replay, or stopped longer than that, "
                        "its resting orders cannot be walked through the bars in between"
                    )
        self.now_ms = now_ms
        self.engine.now_ms = now_ms
        self._open_all()

    def _open_all(self) -> None:
        """Open every symbol's bar at the clock; a symbol whose data starts later is not
        trading yet (it opens when its first bar does, as a new listing)."""
        self.live.clear()
        for vid, series in self.series.items():
            index = series.index_at(self.now_ms)
            if self.now_ms > series.bars[-1].ts_ms + series.tf_ms:
                raise DataError(
                    f"{series.symbol}: its data ends at {series.bars[-1].ts_ms}, before the "
                    f"start time {self.now_ms}; pick another start or file"
                )
            if index >= 0:
                self._open_bar(vid, index)
        if not self.live:
            raise DataError(
                f"no symbol's data covers the start time {self.now_ms}; pick another start"
            )

    def is_trading(self, vid: str) -> bool:
        """False while a symbol's data has not started (no bar, no price, no orders)."""
        return vid in self.live

    def _emit(self, event: Event) -> None:
        if isinstance(event, TradePrinted):
            self.public_trades[event.venue_id].append(event)
            live = self.live.get(event.venue_id)
            if live is not None:
                live.visit(event.price, event.qty)
        self._sink(event)

    def _open_bar(self, vid: str, index: int) -> None:
        bar = self.series[vid].bars[index]
        self.live[vid] = LiveBar(index, bar.open, bar.open, bar.open, bar.open, Decimal(0))
        self.engine.last_price[vid] = bar.open
        self._sink(BookChanged(vid, self.books[vid].reprice(bar.open)))
        self._sink(PriceMoved(vid, bar_closed=False))

    # ---- the clock -----------------------------------------------------------------------

    def advance(self, bars: int = 1) -> None:
        """Move the clock ``bars`` steps of the shortest timeframe, walking every bar closed.

        Raises:
            DataError: the replay has reached the end of a data file, or the sandbox mirrors
                a source (its clock follows the source's closed bars).
        """
        if self.mirror is not None:
            raise DataError(
                f"this sandbox mirrors {self.mirror.label}: its clock follows the source's "
                "closed candles and cannot be advanced"
            )
        for _ in range(bars):
            new_now = self.now_ms + self.step_ms
            if new_now > self.end_ms:
                raise DataError(
                    f"the replay reached the end of its data at {self.end_ms}; restart the "
                    "sandbox with an earlier start or longer files"
                )
            for vid, series in self.series.items():
                index = series.index_at(new_now)
                if vid not in self.live:
                    if index >= 0:  # its data starts: listed now
                        self._open_bar(vid, index)
                    continue
                if index != self.live[vid].index:
                    self._close_bar(vid)
                    opened = series.bars[index]
                    self._walk(vid, [Leg(opened.open, jump=True)], opened.ts_ms, Decimal(0))
                    self._open_bar(vid, index)
            self.now_ms = new_now
            self.engine.now_ms = new_now

    def follow(self, vid: str, bars: list[Bar]) -> int:
        """Mirror mode: take in the source's newest bars and walk each one it has closed.

        ``bars`` are oldest first and the last is the bar still forming at the source, held
        as its open only. Every bar before it that the sandbox stood in is now closed: it is
        walked along its path as in a replay, then the price jumps to the next bar's open.
        Returns how many bars were walked.
        """
        series = self.series[vid]
        series.merge(bars, walked=self.live[vid].index)
        walked = 0
        while (index := self.live[vid].index) < len(series.bars) - 1:
            self._close_bar(vid)
            opened = series.bars[index + 1]
            self._walk(vid, [Leg(opened.open, jump=True)], opened.ts_ms, Decimal(0))
            self._open_bar(vid, index + 1)
            walked += 1
        self.now_ms = max(self.now_ms, series.bars[-1].ts_ms)
        self.engine.now_ms = self.now_ms
        return walked

    def _close_bar(self, vid: str) -> None:
        series, live = self.series[vid], self.live[vid]
        bar = series.bars[live.index]
        shock, self.pending_shock_pct = self.pending_shock_pct, Decimal(0)
        crash = None
        if shock > 0:
            crash = self.specs[vid].floor_price(bar.open * (1 - shock / 100))
            bar = Bar(bar.ts_ms, bar.open, bar.high, min(bar.low, crash), bar.close, bar.volume)
            series.replace(live.index, bar)
        path = bar_path(bar.open, bar.high, bar.low, bar.close, crash)
        qty = self.specs[vid].floor_qty(bar.volume / len(path))
        self._walk(vid, path[1:], bar.ts_ms, qty)
        live.high, live.low, live.close, live.volume = bar.high, bar.low, bar.close, bar.volume
        self._sink(PriceMoved(vid, bar_closed=True))

    def _walk(self, vid: str, legs: Sequence[Leg], ts_ms: int, print_qty: Decimal) -> None:
        # Fills and prints are stamped with the open time of the bar they happen in
        # (domain/fills.py), the same as in a backtest.
        self.engine.now_ms = ts_ms
        for leg in legs:
            self.engine.walk(vid, [leg], ts_ms)
            point = leg.price
            self._sink(BookChanged(vid, self.books[vid].reprice(point)))
            if print_qty > 0:
                trade_id = self.engine.next_trade_id
                self.engine.next_trade_id += 1
                self._emit(TradePrinted(vid, trade_id, point, print_qty, False, self.engine.now_ms))

    # ---- views ---------------------------------------------------------------------------

    def venue_id(self, symbol: str) -> str:
        """Map a unified symbol to its venue id (``BTC/USDT`` -> ``BTCUSDT``)."""
        return symbol.replace("/", "")

    def current_bar(self, vid: str) -> Bar:
        """The bar open now, as walked so far (its close is the last price)."""
        live = self.live[vid]
        ts = self.series[vid].bars[live.index].ts_ms
        return Bar(ts, live.open, live.high, live.low, live.close, live.volume)

    def price(self, vid: str) -> Decimal:
        """The last price of a symbol."""
        return self.engine.last_price[vid]
