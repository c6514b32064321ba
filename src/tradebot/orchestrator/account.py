"""How a decision and the risk checks see the account at the close of one symbol's bar.

Equity and exposure over every held position (each symbol at its last close at or before the
bar), the deciding symbol's own position, and the value of the held positions whose returns
correlate with it. Reads of the engine's books; the engine values the account when it records
a decision or checks an order, never on a bar where nothing happens.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

import numpy as np

from tradebot.domain.decisions import KillSwitch
from tradebot.domain.estimate import Amount, Estimate, sum_error
from tradebot.domain.market import LastFloat, shortest_decimal
from tradebot.domain.portfolio import Position
from tradebot.execution.positions import PositionManager
from tradebot.orchestrator.books import SymbolBook
from tradebot.risk.controller import RiskLimits, RiskState
from tradebot.risk.correlation import rolling_correlation
from tradebot.strategy.base import Bars

ZERO: Final = Decimal(0)


@dataclass(slots=True, eq=False)
class _Marks:
    """Where a market's mark at a bar time is found: its book's bar times and closes
    (memoryviews, ``SymbolBook.use_bars``), and what is known of them."""

    book: SymbolBook
    bars: Bars | None = None  # the bars what follows is known of
    bar: int = -1  # the bar of the last mark found (-1: none)
    bar_ms: int = 0  # the length of its bars; they are a run when
    first: int | None = None  # the first opens here and each next ``bar_ms`` later (None: no)
    last: int = -1  # the last bar's index

    @property
    def closes(self) -> Sequence[float]:
        """The market's closes."""
        return self.book.closes

    def marks(self) -> tuple[Sequence[int], Sequence[float]]:
        """The market's bar times and closes, what is known of them found again when its
        bars were replaced."""
        book = self.book
        bars = book.bars
        if self.bars is not bars:
            ts_ms = bars.ts_ms
            self.bars = bars
            self.bar = -1
            self.last = len(ts_ms) - 1
            run = len(ts_ms) > 0 and bool(np.all(np.diff(ts_ms) == self.bar_ms))
            self.first = int(ts_ms[0]) if run else None
        return book.times, book.closes

    def bar_at(self, ts: int, bar_ms: int) -> int:
        """The market's last bar opened at or before ``ts`` (-1: none yet).

        Found from the last one: in an aligned basket the bar opened at ``ts`` lies as many
        bars on (or back) as bar lengths passed, which two reads of the bar times confirm
        (they only increase); a gap in the data, or bars on other times, is bisected (the
        times are a memoryview: a bisect makes a Python int of every time it reads, most of
        a valuation's cost before). A run of bars (no gap: a basket's markets on one
        timeline) is found by a division alone."""
        first = self.first
        if first is not None and self.bars is self.book.bars:
            k = (ts - first) // bar_ms
            if k < 0:
                return -1
            return k if k <= self.last else self.last
        k = self.bar
        if k >= 0 and self.bars is self.book.bars:
            times = self.book.times
            guess = k + (ts - times[k]) // bar_ms
            n = len(times)
            if 0 <= guess < n:
                if times[guess] == ts:
                    self.bar = guess
                    return guess
            elif guess >= n and times[n - 1] <= ts:  # its data ended before ``ts``
                self.bar = n - 1
                return n - 1
        times, _ = self.marks()
        k = self.bar = bisect_right(times, ts) - 1
        return k


@dataclass(slots=True, eq=False)
class _Held:
    """One position as the valuation reads it, refreshed when a booking changed its amount,
    and its market's marks."""

    book: SymbolBook
    position: Position
    marks: _Marks  # its market's (one per market, kept when the holdings are read again)
    qty: Decimal = ZERO  # the amount last read (``position.qty`` is a new Decimal at each change)
    qty_float: float = 0.0
    is_position: bool = False  # more than dust: counts as a position and as exposure


class AccountValuation:
    """The account at the close of one symbol's bar, as a decision records it and the risk
    checks see it: the cash and every holding (dust included), each symbol at its last close
    at or before the bar.

    What is held changes only with a booking (``PositionManager.changes`` counts them), so the
    holdings (each amount as a Decimal and a float, its average cost, whether it is more than
    dust) and the number of positions are read again only after one, not at every decision.
    The marks change with the bar time, every held symbol's at once in an aligned basket, so
    each is looked up per valuation: one bisect of the bar times each holding keeps a
    memoryview of (``_Held.marks``), the deciding symbol at its own close. The sums are the
    same, term for term and in the same order, as valuing the portfolio afresh
    (``Portfolio.equity``): the same Decimals. With other markets held, an entry's checks
    get the equity and the exposure as estimates (``Estimate``): summed in floats with their
    error, the Decimals made from this valuation only if a check comes within that error of
    its limit or its cent, or the sizer scales with equity (``domain/estimate.py``).

    Markets that decide at one close (an aligned basket's usually do: orders fill at the
    next open, correlated markets signal together) see the same account, nothing being
    booked between their decisions, so the last valuation is used again while the bar time,
    the bookings, the cash and the bars are the same.
    """

    def __init__(
        self, books: dict[str, SymbolBook], positions: PositionManager, bar_ms: int
    ) -> None:
        """``bar_ms``: the length of every market's bars (finds a mark from the last one)."""
        self._books = books
        self._positions = positions
        self._bar_ms = bar_ms
        self._marks = {s: _Marks(b, bar_ms=bar_ms) for s, b in books.items()}  # an entry's
        self._day_marks = {s: _Marks(b, bar_ms=bar_ms) for s, b in books.items()}  # the day's
        self._noted = -1  # ``positions.changes`` when the holdings were read
        self._held: list[_Held] = []
        self._held_of: dict[str, _Held] = {}  # the same by market
        self._live: list[_Held] = []  # the holdings of more than nothing (dust included)
        self._open = 0
        self._booked = -1  # ``positions.changes`` when ``note_holdings`` last noted them
        # The last valuation, for the next decision at the same close: every market decides
        # on the account as it stood at the close, so all value it alike while no booking,
        # cash or bars changed. Its equity in floats, as a decision records it, and once an
        # entry asked, each live holding's value and the equity, exactly.
        self._kept_ts: int | None = None  # its bar time (None: none kept)
        self._kept_changes = -1  # ``positions.changes`` then
        self._kept_cash = ZERO  # the cash then (a new Decimal at each change)
        self._equity = 0.0
        # once a decision asked (``risk_state``): each live holding's value in floats, the
        # sum of their magnitudes with the cash's (the error's scale), the market that
        # decided and its close; each value and the equity as Decimals once asked for
        self._floats: list[float] | None = None
        self._scale = 0.0
        self._kept_book: SymbolBook | None = None
        self._kept_close = ZERO
        self._values: list[Decimal] | None = None
        self._exact: Decimal | None = None
        self._estimate: Estimate | None = None
        self._token = 0  # counts the valuations kept: an estimate names its own
        self.cash_float = LastFloat()
        """The cash as a float (the valuations and each decision's record)."""

    def bars_replaced(self) -> None:
        """A market's bars were replaced (``TradingEngine.prepare``): its marks may have
        moved, so the valuation kept is not used again."""
        self._kept_ts = None

    def _holdings(self) -> list[_Held]:
        """Every position ever opened, in the portfolio's order, each amount as last booked.

        One booking behind (a basket's usual case: a fill between two decisions), only the
        booked market's holding is read again, unless it became nothing or something (the
        live holdings are then listed again)."""
        positions = self._positions
        changes = positions.changes
        if self._noted == changes:
            return self._held
        opened = positions.portfolio.positions
        if changes == self._noted + 1 and len(self._held) == len(opened):
            held = self._held_of.get(positions.last_booked)
            if held is not None:
                was_live, was_position = bool(held.qty), held.is_position
                _read_again(held, positions)
                if bool(held.qty) == was_live:
                    self._open += held.is_position - was_position
                    self._noted = changes
                    return self._held
        self._noted = changes
        if len(self._held) != len(opened):  # a symbol bought for the first time (positions stay)
            self._held = [_Held(self._books[s], p, self._marks[s]) for s, p in opened.items()]
            self._held_of = {held.book.symbol: held for held in self._held}
        live, count = [], 0
        for held in self._held:
            _read_again(held, positions)
            if held.qty:
                live.append(held)
                count += held.is_position
        self._open, self._live = count, live
        return self._held

    def open_positions(self) -> int:
        """How many symbols hold more than dust (``PositionManager.open_positions``, counted
        when the holdings were read again)."""
        if self._noted != self._positions.changes:
            self._holdings()
        return self._open

    def _live_holdings(self) -> list[_Held]:
        """The holdings that are not nothing, in the portfolio's order."""
        if self._noted != self._positions.changes:
            self._holdings()
        return self._live

    def equity_at(self, ts: int) -> float:
        """The account's equity at the close of the bars opened at ``ts``, as a decision
        records it."""
        cash = self._positions.portfolio.cash
        changes = self._positions.changes
        if ts == self._kept_ts and cash is self._kept_cash and changes == self._kept_changes:
            return self._equity
        total = self.cash_float.of(cash)
        # Each market (the deciding one too) at its last close at or before ``ts``, or at
        # cost before its first bar.
        bar_ms = self._bar_ms
        for held in self._live_holdings():
            marks = held.marks
            k = marks.bar_at(ts, bar_ms)
            mark = marks.closes[k] if k >= 0 else float(held.position.avg_price)
            total += held.qty_float * mark
        self._kept_ts, self._kept_changes, self._kept_cash = ts, changes, cash
        self._equity, self._floats, self._kept_book = total, None, None
        self._token += 1
        return total

    def risk_state(
        self,
        book: SymbolBook,
        ts: int,
        close: Decimal,
        limits: RiskLimits,
        day_start_equity: Decimal,
        kill_switch: KillSwitch,
    ) -> RiskState:
        """Equity and exposure over every position, ``book``'s position on its own, and the
        held positions correlated with ``book``'s market (when that limit is set).

        With another market held, the equity and the exposure are estimates (``Estimate``):
        sums in floats with their error, their Decimals made from this valuation only if a
        check or a sizer needs them. Otherwise, and with the correlation limit set (it reads
        each position's value), they are Decimals."""
        positions = self._positions
        cash, changes = positions.portfolio.cash, positions.changes
        live = self._live_holdings()
        estimated = limits.max_correlated_exposure is None and (
            len(live) > 1 or (len(live) == 1 and live[0].book is not book)
        )
        if not (  # another market's at this close (its Decimals are made when asked for)
            ts == self._kept_ts
            and cash is self._kept_cash
            and changes == self._kept_changes
            and self._kept_book is not None
            and (self._floats is not None or not estimated)
        ):
            self._value(live, book, ts, close, cash, changes, exactly=not estimated)
        own: Decimal | None = None
        equity: Amount
        exposure: Amount
        correlated_exposure = ZERO
        correlated_with: tuple[tuple[str, float], ...] = ()
        if estimated:
            floats = self._floats or []
            exposed = scale = 0.0
            terms = 0
            for k in range(len(live)):
                held = live[k]
                if held.is_position:
                    if held.book is book:
                        own = _exact_value(held, _OWN, close)
                    value = floats[k]
                    exposed += value
                    scale += abs(value)
                    terms += 1
            equity = self._estimate_equity()
            exposure = self._estimate_exposure(book, exposed, sum_error(terms, scale))
        else:
            equity = self._exact_equity()
            own, others = self._split(book)
            exposure = exact = _exposure_of(own, others)
            if limits.max_correlated_exposure is not None and exact:
                correlated_exposure, correlated_with = _correlated(
                    self._books, limits, book, ts, others
                )
        return RiskState(  # positional (keywords made it twice as slow to make)
            equity,
            exposure,
            ZERO if own is None else own,  # position notional
            self._open,  # open positions
            day_start_equity,
            kill_switch,
            correlated_exposure,
            correlated_with,
        )

    def _value(
        self,
        live: list[_Held],
        book: SymbolBook,
        ts: int,
        close: Decimal,
        cash: Decimal,
        changes: int,
        exactly: bool,
    ) -> None:
        """Value each ``live`` holding at ``ts`` (``book``'s at ``close``, another market's at
        its mark, or at cost before its first bar): as Decimals with the equity when
        ``exactly``, else each in floats; kept for every market deciding at this close. Valued
        in floats, the Decimals are made from the same marks when asked for
        (``_exact_values``); the equity in floats is summed either way."""
        cash_float = self.cash_float.of(cash)
        total, scale = cash_float, abs(cash_float)
        floats: list[float] | None = None if exactly else []
        values: list[Decimal] | None = [] if exactly else None
        equity = cash
        bar_ms = self._bar_ms
        for held in live:
            if held.book is book:
                k = _OWN
                mark = float(close)  # the bar's close: repr round-trips
            else:
                k = held.marks.bar_at(ts, bar_ms)
                mark = held.marks.closes[k] if k >= 0 else float(held.position.avg_price)
            if values is not None:
                exact = _exact_value(held, k, close)
                values.append(exact)
                equity += exact
            value = held.qty_float * mark
            total += value
            if floats is not None:
                scale += abs(value)
                floats.append(value)
        self._kept_ts, self._kept_changes, self._kept_cash = ts, changes, cash
        self._kept_book, self._kept_close = book, close
        self._equity, self._floats, self._scale = total, floats, scale
        self._values, self._exact = values, (equity if exactly else None)
        self._estimate = None
        self._token += 1

    def _estimate_equity(self) -> Estimate:
        """The equity of the valuation kept, as an estimate (one for every market deciding
        at this close, so its Decimal is made at most once)."""
        estimate = self._estimate
        if estimate is None:
            token = self._token
            estimate = self._estimate = Estimate(
                self._equity,
                sum_error(len(self._live) + 1, self._scale),
                lambda: self._exact_equity(token),
            )
        return estimate

    def _estimate_exposure(self, book: SymbolBook, exposed: float, error: float) -> Estimate:
        """``book``'s exposure in the valuation kept, as an estimate. (A method of its own:
        compiled, a function making a closure keeps all its locals in an object.)"""
        token = self._token
        return Estimate(exposed, error, lambda: self._exact_exposure(token, book))

    def _exact_values(self) -> list[Decimal]:
        """Each live holding's value in the valuation kept, as a Decimal: the deciding
        market's at its close, another's at its mark's shortest decimal (or at cost)."""
        values = self._values
        if values is None:
            values = []
            ts, book, close, bar_ms = (
                self._kept_ts or 0,
                self._kept_book,
                self._kept_close,
                self._bar_ms,
            )
            for held in self._live:
                k = _OWN if held.book is book else held.marks.bar_at(ts, bar_ms)
                values.append(_exact_value(held, k, close))
            self._values = values
        return values

    def _exact_equity(self, token: int | None = None) -> Decimal:
        """The equity of the valuation kept as a Decimal: the cash, then each live holding's
        value, in order (``token``: the valuation an estimate was made from, still kept)."""
        if token is not None:
            self._check_kept(token)
        exact = self._exact
        if exact is None:
            exact = self._kept_cash
            for value in self._exact_values():
                exact += value
            self._exact = exact
        return exact

    def _exact_exposure(self, token: int, book: SymbolBook) -> Decimal:
        """``book``'s exposure in the valuation ``token`` (still kept) as a Decimal: its own
        position first, then the others', as the checks add them."""
        self._check_kept(token)
        return _exposure_of(*self._split(book))

    def _check_kept(self, token: int) -> None:
        """An estimate's Decimal is made from the account it estimated, or not at all."""
        positions = self._positions
        if (
            token != self._token
            or positions.changes != self._kept_changes
            or positions.portfolio.cash is not self._kept_cash
        ):
            raise RuntimeError(
                "an estimate of the account was read after the account changed: read it "
                "in the decision it was made for"
            )

    def _split(self, book: SymbolBook) -> tuple[Decimal | None, list[tuple[str, Decimal]]]:
        """From the valuation kept, as Decimals: ``book``'s position (None if none or dust)
        and the other positions (not dust)."""
        own: Decimal | None = None
        others: list[tuple[str, Decimal]] = []
        live, values = self._live, self._exact_values()
        for k in range(len(live)):
            held = live[k]
            if held.is_position:
                if held.book is book:
                    own = values[k]
                else:
                    others.append((held.book.symbol, values[k]))
        return own, others

    def value_at_day_start(self, cash: Decimal, last_open: int) -> Decimal:
        """The account at the close of the bar opened at ``last_open`` (the previous day's
        last): ``cash`` plus what each symbol held then (``note_holdings``) at its own last
        close (its first before its data starts), summed in the engine's order of symbols."""
        equity = cash
        bar_ms = self._bar_ms
        for symbol, book in self._books.items():
            if book.last_qty:
                marks = self._day_marks[symbol]
                k = marks.bar_at(last_open, bar_ms)
                equity += book.last_qty * shortest_decimal(marks.closes[max(k, 0)])
        return equity

    def note_holdings(self, book: SymbolBook) -> Decimal:
        """Note what ``book`` holds at its close (returned), and every other symbol's holding
        when a booking moved one since (another symbol's market order may have filled since
        it decided): the next day's start is valued from them (``SymbolBook.last_qty``)."""
        positions = self._positions
        position = positions.portfolio.positions.get(book.symbol)
        book.last_qty = ZERO if position is None else position.qty
        changes = positions.changes
        if len(self._books) > 1 and self._booked != changes:
            booked = self._books.get(positions.last_booked)
            if booked is not None and self._booked >= 0 and changes == self._booked + 1:
                # one booking since: the booked market alone
                now_held = positions.portfolio.positions.get(booked.symbol)
                booked.last_qty = ZERO if now_held is None else now_held.qty
            else:
                for held in self._holdings():  # read again now: the valuations read them next
                    held.book.last_qty = held.qty
            self._booked = changes
        return book.last_qty


def _exposure_of(own: Decimal | None, others: list[tuple[str, Decimal]]) -> Decimal:
    """The exposure of ``own`` position and the ``others``, summed as the checks add them:
    this market's first."""
    exposure = ZERO if own is None else ZERO + own
    for _, value in others:
        exposure += value
    return exposure


_OWN: Final = -2
"""``_exact_value``'s bar for the deciding market's own holding (-1: no bar yet)."""


def _exact_value(held: _Held, k: int, close: Decimal) -> Decimal:
    """``held``'s value as a Decimal: the deciding market's at its ``close`` (``k`` is
    ``_OWN``), another's at the shortest decimal of its close at bar ``k``, or at cost before
    its first bar (``k`` is -1)."""
    if k == _OWN:
        return held.qty * close
    if k >= 0:
        return held.qty * shortest_decimal(held.marks.closes[k])
    return held.qty * held.position.avg_price


def _read_again(held: _Held, positions: PositionManager) -> None:
    """Read ``held``'s amount again if a booking changed it (``position.qty`` is a new Decimal
    at each change)."""
    qty = held.position.qty
    if qty is not held.qty:
        held.qty, held.qty_float = qty, held.book.qty_float.of(qty)
        held.is_position = qty > positions.dust_qty(held.book.symbol)


def _correlated(
    books: dict[str, SymbolBook],
    limits: RiskLimits,
    book: SymbolBook,
    ts: int,
    others: list[tuple[str, Decimal]],
) -> tuple[Decimal, tuple[tuple[str, float], ...]]:
    """The held positions (all long: spot) whose returns correlate with ``book``'s above the
    threshold, up to bar ``ts``: their value at the marks (``others``), and who they are."""
    mine = (book.bars.ts_ms, book.bars["close"])
    total, peers = ZERO, []
    for symbol, value in others:
        other = books[symbol].bars
        corr = rolling_correlation(
            mine, (other.ts_ms, other["close"]), ts, limits.correlation_window
        )
        if corr is not None and corr > limits.correlation_threshold:
            total += value
            peers.append((symbol, round(corr, 4)))
    return total, tuple(peers)
