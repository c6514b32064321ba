"""A backtest's decisions and fills kept compact, made into objects again when read.

A decision record is a dozen small objects: the signal and its reason and metadata, five
risk checks with their texts, the order ids. About 1.3 KB each in memory: the 58,450
decisions of the 2,059,120 BTC 1m bars held 75 MB to the end of the run, and their 75,750
fills (three Decimals each) 38 MB, yet nothing reads them before the report and the
decision log. ``Packed`` flattens each into a tuple of plain values as it is appended (a
decision's indicators: the bar's index, the columns being kept anyway) and writes every
``CHUNK`` of those tuples into one bytes object: about 360 bytes a decision, 95 a fill
(the 1h basket of ``bench/basket_speed.py``).
Their Decimals are packed as their text (``str`` round-trips a Decimal exactly, exponent
included): pickle reduces each Decimal through a call, which made pickling the chunks
about 7 % of a backtest's loop; strings pickle four to eight times faster. A chunk is
written with ``marshal`` (which keeps plain values exactly and needs no memo: a chunk of
1,024 decisions 3.6 -> 1.3 ms, of fills 0.8 -> 0.1 ms, 7 to 15 % larger); one holding a
value marshal cannot keep as it is (a numpy number in a signal's metadata, a subclass of a
plain type) is pickled instead. Chunks never leave the process (``Packed`` pickles as a
plain list), so marshal's format, which is Python's own version's, is never read by another.
Reading it (iterating, indexing) makes the same objects again, one chunk at a time, so a
report that walks them holds a chunk, not all. Pickled, it is a plain list.
"""

from __future__ import annotations

import marshal
import pickle
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final, Generic, Protocol, TypeVar, overload

from tradebot.domain.decisions import (
    Decision,
    MemberSignal,
    RiskCheck,
    RiskVerdict,
    Signal,
    SignalAction,
)
from tradebot.domain.orders import Fill, OrderSide
from tradebot.orchestrator.collector import quiet_collector
from tradebot.strategy.base import BarRow, FloatArray

CHUNK = 1024

_Packed = tuple[Any, ...]
_ACTIONS: Final = tuple(SignalAction)
_ACTION_NUMBER: Final = {action: n for n, action in enumerate(_ACTIONS)}
_from_parts = RiskCheck.from_parts
_SIDES: Final = tuple(OrderSide)
_SIDE_NUMBER: Final = {side: n for n, side in enumerate(_SIDES)}

T = TypeVar("T")


class Packer(Protocol[T]):
    """Flattens one kind of record to plain values and makes it again from them."""

    def pack(self, item: T, /) -> _Packed:
        """``item`` as a tuple of plain values (numbers, strings, tuples of them)."""
        ...

    def unpack(self, row: _Packed, /) -> T:
        """The record ``pack`` flattened to ``row``."""
        ...


class Packed(Sequence[T], Generic[T]):
    """An append-only sequence of records, stored pickled in chunks of flat tuples."""

    __slots__ = ("_chunks", "_last", "_length", "_open", "_packer")
    __hash__ = None  # type: ignore[assignment]  # equal to a list of the same records

    def __init__(self, packer: Packer[T]) -> None:
        self._packer = packer
        self._chunks: list[tuple[Callable[[bytes], Any], bytes]] = []  # its reader, its bytes
        self._open: list[_Packed] = []  # the chunk being filled, not pickled yet
        self._length = 0
        self._last: tuple[int, list[T]] | None = None  # the chunk read last

    def append(self, item: T) -> None:
        """Keep ``item`` (flattened now, pickled with its chunk)."""
        self._open.append(self._packer.pack(item))
        self._length += 1
        if len(self._open) == CHUNK:
            self._chunks.append(_dumped(self._open))
            self._open = []

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._length))]
        at = index + self._length if index < 0 else index
        if not 0 <= at < self._length:
            raise IndexError("packed index out of range")
        k, i = divmod(at, CHUNK)
        if self._last is None or self._last[0] != k:
            self._last = (k, self._chunk(k))
        return self._last[1][i]

    def __iter__(self) -> Iterator[T]:
        for k in range(len(self._chunks) + 1):
            yield from self._chunk(k)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    def __reduce__(self) -> tuple[type[list[T]], tuple[list[T]]]:
        return list, (list(self),)

    def _chunk(self, k: int) -> list[T]:
        # The chunk's thousands of new objects would each time set off collections of the
        # whole heap (the run's fills and trades): they make no cycles, so it is kept still.
        with quiet_collector():
            if k < len(self._chunks):
                loads, dumped = self._chunks[k]
                rows = loads(dumped)  # bytes this object wrote itself, never read from outside
            else:
                rows = self._open
            unpack = self._packer.unpack
            return [unpack(row) for row in rows]


def _dumped(rows: list[_Packed]) -> tuple[Callable[[bytes], Any], bytes]:
    """``rows`` as bytes and what reads them: marshal when it keeps every value exactly (it
    refuses any type but the plain ones, a subclass included), pickle otherwise."""
    try:
        return marshal.loads, marshal.dumps(rows)
    except ValueError:  # "unmarshallable object"
        return pickle.loads, pickle.dumps(rows, pickle.HIGHEST_PROTOCOL)


class DecisionPacker:
    """Flattens decisions; a ``BarRow`` of indicators becomes its bars' number and index."""

    __slots__ = ("_columns", "_numbered")

    def __init__(self) -> None:
        self._columns: list[Mapping[str, FloatArray]] = []  # the bars a BarRow reads
        self._numbered: dict[int, int] = {}  # id of such bars -> their index in _columns

    def pack(self, d: Decision, /) -> _Packed:
        """The decision's fields, its signal's and its checks' as plain values."""
        signal, verdict, indicators = d.signal, d.verdict, d.indicators
        if type(indicators) is BarRow:
            columns = indicators._columns  # the row's own bars, kept anyway
            n = self._numbered.get(id(columns), -1)
            if n < 0:  # kept in _columns, so the id is not reused while it is a key
                n = self._numbered[id(columns)] = len(self._columns)
                self._columns.append(columns)
            bars: object = (n, indicators._i)
        else:
            bars = dict(indicators)
        return (
            d.ts_ms,
            d.symbol,
            _ACTION_NUMBER[signal.action],
            signal.confidence,
            signal.reason,
            tuple(signal.metadata.items()),
            tuple(
                (m.name, _ACTION_NUMBER[m.action], m.confidence, m.reason) for m in signal.members
            ),
            bars,
            None if verdict is None else _pack_checks(verdict.checks),
            d.action,
            d.client_order_ids,
            d.equity,
            d.cash,
            d.position_qty,
        )

    def unpack(self, row: _Packed, /) -> Decision:
        """The decision ``pack`` flattened."""
        (ts_ms, symbol, action, confidence, reason, metadata, members, bars, checks) = row[:9]
        return Decision(
            ts_ms,
            symbol,
            Signal(
                _ACTIONS[action],
                confidence,
                reason,
                dict(metadata),
                tuple(MemberSignal(n, _ACTIONS[a], c, r) for n, a, c, r in members)
                if members
                else (),
            ),
            BarRow(self._columns[bars[0]], bars[1]) if type(bars) is tuple else bars,
            None if checks is None else RiskVerdict(tuple([_unpack_check(*c) for c in checks])),
            *row[9:],
        )


def _pack_checks(checks: tuple[RiskCheck, ...]) -> tuple[_Packed, ...]:
    """Each check's parts, the Decimals among its template's values as text: the bits of
    the number after the detail say which values were Decimals."""
    packed = []
    for check in checks:
        name, passed, text, values = check.parts()
        decimals = 0
        if values is not None:
            plain = list(values)
            for k, value in enumerate(values):
                if type(value) is Decimal:
                    decimals |= 1 << k
                    plain[k] = str(value)
            values = tuple(plain)
        packed.append((name, passed, text, decimals, values))
    return tuple(packed)


def _unpack_check(
    name: str, passed: bool, text: str, decimals: int, plain: tuple[object, ...] | None
) -> RiskCheck:
    """A check ``_pack_checks`` flattened."""
    if not decimals or plain is None:
        return _from_parts(name, passed, text, plain)
    values = tuple(
        Decimal(str(value)) if decimals >> k & 1 else value for k, value in enumerate(plain)
    )
    return _from_parts(name, passed, text, values)


class FillPacker:
    """Flattens fills (their Decimals as text)."""

    __slots__ = ()

    def pack(self, f: Fill, /) -> _Packed:
        """The fill's fields, its side as a number."""
        return (
            f.client_order_id,
            f.symbol,
            _SIDE_NUMBER[f.side],
            str(f.qty),
            str(f.price),
            str(f.fee),
            f.fee_asset,
            f.ts_ms,
            f.trade_id,
            f.is_maker,
        )

    def unpack(self, row: _Packed, /) -> Fill:
        """The fill ``pack`` flattened."""
        cid, symbol, side, qty, price, fee, *rest = row
        return Fill(cid, symbol, _SIDES[side], Decimal(qty), Decimal(price), Decimal(fee), *rest)


def packed_decisions() -> Packed[Decision]:
    """An empty packed sequence of decisions."""
    return Packed(DecisionPacker())


def packed_fills() -> Packed[Fill]:
    """An empty packed sequence of fills."""
    return Packed(FillPacker())
