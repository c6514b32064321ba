"""A backtest's decisions kept compact, made into ``Decision`` objects again when read.

A decision record is a dozen small objects: the signal and its reason and metadata, five
risk checks with their texts, the order ids. About 1.3 KB each in memory: the 58,450
decisions of the 2,059,120 BTC 1m bars held 75 MB to the end of the run, yet nothing reads
them before the report and the decision log. ``PackedDecisions`` flattens each decision
into a tuple of plain values as it is appended (its indicators: the bar's index, the
columns being kept anyway) and pickles every ``CHUNK`` of those tuples into one bytes
object, about 320 bytes a decision. Reading it (iterating, indexing) makes the same
``Decision`` objects again, one chunk at a time, so a report that walks the decisions holds
a chunk of them, not all. Pickled, it is a plain list of its decisions.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

from tradebot.backtest.collector import quiet_collector
from tradebot.domain.decisions import (
    Decision,
    MemberSignal,
    RiskCheck,
    RiskVerdict,
    Signal,
    SignalAction,
)
from tradebot.strategy.base import BarRow, FloatArray

CHUNK = 1024

_Packed = tuple[Any, ...]
_ACTIONS = tuple(SignalAction)
_ACTION_NUMBER = {action: n for n, action in enumerate(_ACTIONS)}
_new_tuple = tuple.__new__  # a named tuple made as namedtuple's own ``_make`` makes it


class PackedDecisions(Sequence[Decision]):
    """An append-only sequence of decisions, stored pickled in chunks of flat tuples."""

    __slots__ = ("_chunks", "_columns", "_last", "_length", "_numbered", "_open")
    __hash__ = None  # type: ignore[assignment]  # equal to a list of the same decisions

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._open: list[_Packed] = []  # the chunk being filled, not pickled yet
        self._columns: list[Mapping[str, FloatArray]] = []  # the bars a BarRow reads
        self._numbered: dict[int, int] = {}  # id of such bars -> their index in _columns
        self._length = 0
        self._last: tuple[int, list[Decision]] | None = None  # the chunk read last

    def append(self, decision: Decision) -> None:
        """Keep ``decision`` (flattened now, pickled with its chunk)."""
        self._open.append(self._pack(decision))
        self._length += 1
        if len(self._open) == CHUNK:
            self._chunks.append(pickle.dumps(self._open, pickle.HIGHEST_PROTOCOL))
            self._open = []

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> Decision: ...

    @overload
    def __getitem__(self, index: slice) -> list[Decision]: ...

    def __getitem__(self, index: int | slice) -> Decision | list[Decision]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._length))]
        at = index + self._length if index < 0 else index
        if not 0 <= at < self._length:
            raise IndexError("decision index out of range")
        k, i = divmod(at, CHUNK)
        if self._last is None or self._last[0] != k:
            self._last = (k, self._chunk(k))
        return self._last[1][i]

    def __iter__(self) -> Iterator[Decision]:
        for k in range(len(self._chunks) + 1):
            yield from self._chunk(k)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    def __reduce__(self) -> tuple[type[list[Decision]], tuple[list[Decision]]]:
        return list, (list(self),)

    def _chunk(self, k: int) -> list[Decision]:
        # The chunk's thousands of new objects would each time set off collections of the
        # whole heap (the run's fills and trades): they make no cycles, so it is kept still.
        with quiet_collector():
            # Bytes this object pickled itself, never read from outside.
            rows = pickle.loads(self._chunks[k]) if k < len(self._chunks) else self._open  # noqa: S301
            return [self._unpack(row) for row in rows]

    def _pack(self, d: Decision) -> _Packed:
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
            None if verdict is None else tuple(map(tuple, verdict.checks)),
            d.action,
            d.client_order_ids,
            d.equity,
            d.cash,
            d.position_qty,
        )

    def _unpack(self, row: _Packed) -> Decision:
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
            None
            if checks is None
            else _new_tuple(RiskVerdict, (tuple([_new_tuple(RiskCheck, c) for c in checks]),)),
            *row[9:],
        )
