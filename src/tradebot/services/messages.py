"""What the services say to each other: closed candles and the signals of one bar time.

Payloads are JSON objects (see the bus envelope). Prices travel as JSON numbers: a float is
written as its shortest ``repr`` and reads back as the same float, so a candle arrives
bit-for-bit as the exchange gave it. A value JSON cannot carry (NaN, an infinity: an
indicator during its warm-up) is sent as ``{"f": "nan"}``. Event ids are derived from what
the message says (venue, timeframe, symbol, bar time), so a service that restarts and
publishes a bar again publishes the same id, and the repeat is dropped downstream.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tradebot.domain.decisions import MemberSignal, Signal, SignalAction
from tradebot.domain.market import Candle
from tradebot.services.bus import Envelope, EnvelopeError, Family, JsonValue

CANDLE_CLOSED = "CandleClosed"
SIGNALS_DECIDED = "SignalsDecided"
_FLOAT = "f"


def _number(value: float) -> JsonValue:
    return value if math.isfinite(value) else {_FLOAT: repr(value)}


def _float(value: JsonValue) -> float:
    if isinstance(value, dict):
        return float(str(value[_FLOAT]))
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EnvelopeError(f"{value!r} is not a number")
    return float(value)


def _candle_row(candle: Candle) -> JsonValue:
    return [candle.ts_ms, candle.open, candle.high, candle.low, candle.close, candle.volume]


def _candle(row: JsonValue) -> Candle:
    if not isinstance(row, list) or len(row) != 6:
        raise EnvelopeError(f"a candle is [ts_ms, open, high, low, close, volume], not {row!r}")
    ts, *values = row
    if not isinstance(ts, int):
        raise EnvelopeError(f"a candle's ts_ms must be an integer, not {ts!r}")
    return Candle(ts, *(_float(v) for v in values))


@dataclass(frozen=True, slots=True)
class CandleClosed:
    """A bar of ``symbol`` closed on ``venue`` (published by the market-data service)."""

    venue: str
    symbol: str
    timeframe: str
    candle: Candle

    @property
    def event_id(self) -> str:
        """The same for every publication of this bar."""
        return f"candle:{self.venue}:{self.timeframe}:{self.symbol}:{self.candle.ts_ms}"

    def envelope(self, source: str, created_ms: int) -> Envelope:
        """The message on the market-data stream."""
        payload: dict[str, JsonValue] = {
            "venue": self.venue,
            "symbol": self.symbol,
            "timeframe": self.timeframe,
            "candle": _candle_row(self.candle),
        }
        return Envelope(
            Family.MARKET_DATA, CANDLE_CLOSED, payload, source, created_ms, self.event_id
        )

    @classmethod
    def of(cls, envelope: Envelope) -> CandleClosed:
        """Read a ``CandleClosed`` message (raises ``EnvelopeError`` on a malformed one)."""
        p = envelope.payload
        try:
            return cls(str(p["venue"]), str(p["symbol"]), str(p["timeframe"]), _candle(p["candle"]))
        except KeyError as e:
            raise EnvelopeError(f"event {envelope.event_id} lacks {e}") from e


@dataclass(frozen=True, slots=True)
class SymbolSignal:
    """One symbol's signal at the bar, the indicators it was decided on, and the window.

    The window (the candles up to and including the bar) travels with the signal so that
    the execution service decides on exactly the bars the strategy saw: its stops are
    sized on an ATR of the same candles, as in the single process.
    """

    signal: Signal
    indicators: Mapping[str, float]
    candles: Sequence[Candle]


@dataclass(frozen=True, slots=True)
class SignalsDecided:
    """Every symbol's signal at the close of the bar opening at ``bar_ts_ms``.

    ``observed_ms`` is when the market-data service published the bar (its first
    publication the strategy service handled): how old a signal is is counted from there,
    so a signal decided late (a strategy service catching up) is as old as its bar's news.
    """

    venue: str
    timeframe: str
    bar_ts_ms: int
    observed_ms: int
    symbols: Mapping[str, SymbolSignal]

    @property
    def event_id(self) -> str:
        """The same for every publication of this bar time's signals."""
        return f"signals:{self.venue}:{self.timeframe}:{self.bar_ts_ms}"

    def envelope(self, source: str, created_ms: int) -> Envelope:
        """The message on the signals stream."""
        symbols: dict[str, JsonValue] = {
            s: {
                "signal": _signal_payload(x.signal),
                "indicators": {k: _number(v) for k, v in x.indicators.items()},
                "candles": [_candle_row(c) for c in x.candles],
            }
            for s, x in self.symbols.items()
        }
        payload: dict[str, JsonValue] = {
            "venue": self.venue,
            "timeframe": self.timeframe,
            "bar_ts_ms": self.bar_ts_ms,
            "observed_ms": self.observed_ms,
            "symbols": symbols,
        }
        return Envelope(Family.SIGNALS, SIGNALS_DECIDED, payload, source, created_ms, self.event_id)

    @classmethod
    def of(cls, envelope: Envelope) -> SignalsDecided:
        """Read a ``SignalsDecided`` message (raises ``EnvelopeError`` on a malformed one)."""
        p = envelope.payload
        try:
            bar, observed, symbols = p["bar_ts_ms"], p["observed_ms"], p["symbols"]
            if not (isinstance(bar, int) and isinstance(observed, int)):
                raise EnvelopeError(f"event {envelope.event_id}: bar_ts_ms, observed_ms not ints")
            if not isinstance(symbols, dict):
                raise EnvelopeError(f"event {envelope.event_id}: symbols is not an object")
            read = {s: _symbol_signal(x) for s, x in symbols.items()}
            return cls(str(p["venue"]), str(p["timeframe"]), bar, observed, read)
        except (KeyError, TypeError, ValueError) as e:
            raise EnvelopeError(f"event {envelope.event_id} is not SignalsDecided: {e!r}") from e


def _symbol_signal(x: JsonValue) -> SymbolSignal:
    if not isinstance(x, dict):
        raise EnvelopeError(f"a symbol's signal is an object, not {x!r}")
    indicators, candles = x["indicators"], x["candles"]
    if not isinstance(indicators, dict) or not isinstance(candles, list):
        raise EnvelopeError("indicators must be an object and candles a list")
    return SymbolSignal(
        _signal(x["signal"]),
        {k: _float(v) for k, v in indicators.items()},
        [_candle(c) for c in candles],
    )


def _signal_payload(signal: Signal) -> JsonValue:
    return {
        "action": signal.action.value,
        "confidence": _number(signal.confidence),
        "reason": signal.reason,
        "metadata": {
            k: _number(v) if isinstance(v, float) else v for k, v in signal.metadata.items()
        },
        "members": [
            [m.name, m.action.value, _number(m.confidence), m.reason] for m in signal.members
        ],
    }


def _signal(x: JsonValue) -> Signal:
    if not isinstance(x, dict):
        raise EnvelopeError(f"a signal is an object, not {x!r}")
    metadata, members = x["metadata"], x["members"]
    if not isinstance(metadata, dict) or not isinstance(members, list):
        raise EnvelopeError("a signal's metadata must be an object and members a list")
    return Signal(
        SignalAction(str(x["action"])),
        _float(x["confidence"]),
        str(x["reason"]),
        {k: _float(v) if isinstance(v, dict) else _meta(v) for k, v in metadata.items()},
        tuple(_member(m) for m in members),
    )


def _meta(value: JsonValue) -> str | int | float | bool | None:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise EnvelopeError(f"signal metadata holds {value!r}")


def _member(m: JsonValue) -> MemberSignal:
    if not isinstance(m, list) or len(m) != 4:
        raise EnvelopeError(f"an ensemble member is [name, action, confidence, reason], not {m!r}")
    name, action, confidence, reason = m
    return MemberSignal(str(name), SignalAction(str(action)), _float(confidence), str(reason))
