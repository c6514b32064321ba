"""TradingEngine: the synchronous core shared by backtest, paper and live trading.

It has one door, ``handle(event) -> Step``: events in (a bar closed, a venue's report of an
order, an operator's command, a reconciliation), and out one ``Step`` — the commands to send,
the decision record, the orders, fills and trades the event changed, which the shell
persists. Nothing outside the engine edits its orders, positions or kill switch; shells read
state through the engine's read-only properties. It does no I/O and reads no clock: time
comes from the event. The backtester feeds it from arrays in a plain loop; the live runner is
an asyncio shell that does the I/O around it; recovery replays saved events through the same
door. That is the whole trick behind "a trade a backtest makes, paper trading makes too, at
the same price".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Final

import pandas as pd

from tradebot.domain.commands import NOTHING, CancelOrder, Command, Step, make_step
from tradebot.domain.decisions import HOLD, Decision, RiskVerdict, Signal, SignalAction
from tradebot.domain.errors import StrategyError
from tradebot.domain.events import (
    BarClosed,
    CashReconciled,
    DayRestored,
    Event,
    FlattenRequested,
    KillSwitchSet,
    LocksRestored,
    OrderFilled,
    OrderUpdated,
    PositionReconciled,
    Restarted,
    StateRestored,
    TimerFired,
)
from tradebot.domain.locks import Lock
from tradebot.domain.market import Market, decimal_from_float, timeframe_to_ms
from tradebot.domain.orders import TERMINAL_STATUSES, Order, OrderSide, OrderStatus, OrderType
from tradebot.domain.portfolio import Portfolio, Trade
from tradebot.execution.positions import PositionManager
from tradebot.execution.router import OrderIntent, OrderRole, OrderRouter, role_of
from tradebot.orchestrator.account import AccountValuation
from tradebot.orchestrator.allotment import entry_size, with_allotment
from tradebot.orchestrator.asking import signal_at
from tradebot.orchestrator.books import SymbolBook
from tradebot.orchestrator.protection import Protector
from tradebot.orchestrator.settings import ATR_COLUMN, EngineSettings, LimitTimeoutAction
from tradebot.orchestrator.view import EngineView
from tradebot.risk.allocation import CapitalAllocator
from tradebot.risk.controller import KillSwitch, OrderProposal, RiskController, RiskState
from tradebot.risk.protections import Protections
from tradebot.risk.sizing import PositionSizer, SizingInput
from tradebot.risk.stops import StopLossManager
from tradebot.strategy.base import Bars, Strategy
from tradebot.strategy.indicators.volatility import atr

DAY_MS: Final = 86_400_000
ZERO: Final = Decimal(0)
Outcome = tuple[list[Command], str, RiskVerdict | None]


class TradingEngine:
    """Strategies trading one or more symbols on one wallet, with shared risk rules.

    Each symbol has its book (market, strategy, prepared bars, protection); the orders, the
    portfolio, the risk limits and the kill switch are the account's and shared. An engine
    built with one market trades exactly as a single-symbol engine.
    """

    def __init__(
        self,
        settings: EngineSettings,
        market: Market,
        strategy: Strategy,
        sizer: PositionSizer,
        stops: StopLossManager,
        risk: RiskController,
        portfolio: Portfolio,
        *,
        more: Sequence[tuple[Market, Strategy]] = (),
        protections: Protections | None = None,
        allocator: CapitalAllocator | None = None,
    ) -> None:
        """``market``/``strategy`` are the first symbol's, ``more`` adds others; ``protections``
        lock entries (none by default); ``allocator`` shares the account out (none: all to each)."""
        self.settings = settings
        self.symbol = settings.symbol
        """The first symbol (the only one of a single-symbol engine)."""
        self.market = market
        self.strategy = strategy
        self.sizer = sizer
        self.stops = stops
        self.risk = risk
        self.allocator = allocator
        pairs = [(market, strategy), *more]
        self._router = OrderRouter(settings.id_prefix)
        self._positions = PositionManager(portfolio, {m.symbol: m for m, _ in pairs})
        self._kill_switch = KillSwitch.ACTIVE
        self.bar_ms = timeframe_to_ms(settings.timeframe)
        self.protections = protections or Protections((), self.bar_ms)
        self.day_start_equity = portfolio.cash
        self._day = -1
        self._last_cash = portfolio.cash
        self._books: dict[str, SymbolBook] = {}
        for m, s in pairs:
            if m.symbol in self._books:
                raise ValueError(f"symbol {m.symbol} is listed twice")
            protector = Protector(m.symbol, m, self._router, self._positions, stops)
            self._books[m.symbol] = SymbolBook(m.symbol, m, s, protector)
        self._book = self._books[self.symbol]
        self._account = AccountValuation(self._books, self._positions, self.bar_ms)
        self.symbols: tuple[str, ...] = tuple(self._books)
        """Every symbol traded, the first one first."""
        self.view = EngineView(self._router, self._positions)
        """What shells may read: copies of orders, positions and protection."""
        self._handlers: dict[type, Callable[[Any], Step]] = {
            BarClosed: self._on_bar_closed,
            OrderFilled: self._on_fill,
            OrderUpdated: self._on_order_update,
            KillSwitchSet: self._on_kill_switch,
            LocksRestored: self._on_locks_restored,
            FlattenRequested: self._on_flatten,
            PositionReconciled: self._on_position_reconciled,
            DayRestored: self._on_day_restored,
            CashReconciled: self._on_cash_reconciled,
            StateRestored: self._on_state_restored,
            Restarted: self._on_restarted,
            TimerFired: self._on_timer,  # forgets orders closed a day before: no late fill comes
        }

    # ----------------------------------------------------------------- data
    def prepare(self, candles: pd.DataFrame | Bars, symbol: str | None = None) -> Bars:
        """Compute ``symbol``'s strategy indicators and the ATR the stops use, once, as arrays.

        The bars become the ones that symbol's ``BarClosed`` events index into (the whole
        history in a backtest, the rolling window each cycle in live trading). ``symbol``
        defaults to the first one.
        """
        book = self._book if symbol is None else self._book_of(symbol)
        strategy = book.strategy
        try:
            bars = strategy.indicator_bars(candles)
        except Exception as exc:  # the strategy barrier: whatever a strategy raises
            raise StrategyError(
                f"strategy {strategy.name} failed computing indicators: {exc!r}"
            ) from exc
        stop_atr = atr(bars["high"], bars["low"], bars["close"], self.settings.atr_period)
        book.use_bars(bars.with_columns({ATR_COLUMN: stop_atr}))
        self._account.bars_replaced()
        return book.bars

    def _book_of(self, symbol: str) -> SymbolBook:
        book = self._books.get(symbol)
        if book is None:
            raise ValueError(f"this engine trades {', '.join(self._books)}, not {symbol}")
        return book

    def strategy_of(self, symbol: str) -> Strategy:
        """The strategy deciding ``symbol``."""
        return self._book_of(symbol).strategy

    def market_of(self, symbol: str) -> Market:
        """The rules of ``symbol``'s market."""
        return self._book_of(symbol).market

    @property
    def portfolio(self) -> Portfolio:
        """The account as the engine books it."""
        return self._positions.portfolio

    @property
    def trades(self) -> list[Trade]:
        """Closed round trips so far."""
        return self._positions.trades

    def tape_values(self, symbol: str) -> tuple[float, float, bool]:
        """The cash and ``symbol``'s holding as floats (made once per amount, shared with the
        decisions' records), and whether it is a position: what a backtest notes a visit."""
        position = self._positions.position(symbol)
        qty = ZERO if position is None else position.qty
        exposed = position is not None and not self._positions.is_flat(symbol)
        cash = self._account.cash_float.of(self._positions.portfolio.cash)
        return cash, self._books[symbol].qty_float.of(qty), exposed

    def needs_every_bar_of(self, symbol: str) -> bool:
        """True when the engine must see every bar of ``symbol`` (a trailing stop or a
        limit entry)."""
        if self.stops.is_trailing and not self._positions.is_flat(symbol):
            return True
        return self._open_entry(symbol) is not None

    # ----------------------------------------------------------------- the one door
    def handle(self, event: Event) -> Step:
        """Take one event; return what it calls for and what it changed."""
        # the events of every bar and order by a direct call (compiled, the table's is Python's)
        if isinstance(event, BarClosed):
            return self._on_bar_closed(event)
        if isinstance(event, OrderFilled):
            return self._on_fill(event)
        if isinstance(event, OrderUpdated):
            return self._on_order_update(event)
        return self._handlers[type(event)](event)

    @property
    def kill_switch(self) -> KillSwitch:
        """The kill switch in force (set only through ``KillSwitchSet``)."""
        return self._kill_switch

    def _step(self, commands: list[Command], decision: Decision | None = None) -> Step:
        orders = self._router.drain_changed()
        if not commands and decision is None and not orders:
            return NOTHING
        return make_step(tuple(commands), decision, orders)

    def _on_bar_closed(self, event: BarClosed) -> Step:
        """Evaluate the symbol's strategy at the close of the bar and decide."""
        book = self._books[event.symbol]
        symbol, bars, i = book.symbol, book.bars, event.bar
        ts = book.times[i]
        self._roll_day(book, ts)
        flat = self._positions.is_flat(symbol)
        signal = self._signal(book, i, flat) if event.may_signal else HOLD
        working = self._router.has_open(symbol)
        outcome: Outcome
        if signal.action is SignalAction.HOLD and flat and not working:
            # The common case, kept cheap: nothing changed, nothing to send.
            if not self.settings.record_holds:
                self._note_account(book)
                return NOTHING
            outcome = ([], "hold", None)
        else:
            close = decimal_from_float(book.closes[i])
            protect = (
                book.protector.guard(book.bars, i, close)
                if not flat
                else book.protector.orphans()
                if working
                else []
            )
            outcome = (
                self._act(signal, book, i, ts, close, flat, working)
                if not protect
                else (protect, "protect position", None)
            )
        commands, action, verdict = outcome
        cash, qty = self._note_account(book)
        if action == "hold" and not self.settings.record_holds:
            return self._step(commands)
        if not event.may_signal:  # asked now, for the record
            signal = self._signal(book, i, flat, announced=False)
        decision = Decision(  # positional (keywords made it twice as slow to make)
            ts,
            symbol,
            signal,
            bars.row(i),  # indicators
            verdict,
            action,
            tuple([c.client_order_id for c in commands]),
            self._account.equity_at(ts),  # equity
            self._account.cash_float.of(cash),
            book.qty_float.of(qty),  # position_qty
        )
        return self._step(commands, decision)

    def _on_fill(self, event: OrderFilled) -> Step:
        """Book a fill (once, by its trade id); protect a finished entry; tidy up an exit."""
        fill = event.fill
        order = self._router.on_fill(fill)
        if order is None:
            return NOTHING  # not ours (reconciliation reports it), or booked before
        book = self._books[fill.symbol]
        protection = self._positions.protection_of(fill.symbol)
        done = frozenset({fill.client_order_id})
        legs = (protection.stop_order_id, protection.take_profit_order_id) if protection else ()
        if fill.client_order_id in legs and book.protector.shares_oco(fill.symbol):
            done = frozenset(leg for leg in legs if leg is not None)
        trade = self._positions.on_fill(fill)
        commands: list[Command] = []
        locks: tuple[Lock, ...] = ()
        if trade is not None:
            commands = book.protector.cancel(fill.symbol, "position closed", done)
            locks = self.protections.on_trade_closed(
                trade, self.trades, self.portfolio.starting_cash
            )
        elif role_of(order.client_order_id) is OrderRole.ENTRY and (
            order.status is OrderStatus.FILLED
        ):
            commands = self._protect(book, order)
        if fill.client_order_id in legs:  # an exit not yet sent sells what is left
            commands += book.protector.resize_exit(fill.ts_ms, fill.client_order_id)
        return make_step(
            tuple(commands),
            None,
            self._router.drain_changed(),
            (fill,),
            () if trade is None else (trade,),
            locks,
        )

    def _on_order_update(self, event: OrderUpdated) -> Step:
        """Follow a status the venue reported; protect what a canceled entry did fill."""
        if not self._router.on_update(event):
            return NOTHING
        order = self._router.get(event.client_order_id)
        if event.exchange_order_id and order is not None:
            order.exchange_order_id = event.exchange_order_id
        if order is None or event.status not in TERMINAL_STATUSES:
            return make_step((), None, self._router.drain_changed())  # acknowledged
        book = self._books[order.symbol]
        if role_of(order.client_order_id) is OrderRole.ENTRY and order.filled_qty > 0:
            return self._step(self._protect(book, order))
        protection = self._positions.protection_of(order.symbol)
        if protection is None:
            return self._step([])
        if event.status is OrderStatus.REJECTED:
            return self._step(
                book.protector.on_refused(order.client_order_id, event.reason, event.ts_ms)
            )
        if order.client_order_id == protection.stop_order_id:
            protection.stop_order_id = None
        if order.client_order_id == protection.take_profit_order_id:
            protection.take_profit_order_id = None
        if not (protection.stop_order_id or protection.take_profit_order_id):
            protection.checked = False  # nothing guards it now: the next bar protects it again
        return self._step([])

    def _on_restarted(self, event: Restarted) -> Step:
        """Send the exit decided before the restart that never went out; otherwise guard a
        position nothing guards, from the last bar closed before the restart."""
        book = self._books[event.symbol]
        close = decimal_from_float(book.bars["close"][event.bar])
        unsent = self._router.get(event.unsent_exit) if event.unsent_exit else None
        role = role_of(unsent.client_order_id) if unsent is not None else None
        if unsent is not None and role is not None and not self._positions.is_flat(book.symbol):
            commands, _, _ = self._exit(book, unsent.created_ts_ms, close, role, unsent.reason)
            return self._step(commands)
        if not book.protector.needs_protection():
            return NOTHING
        return self._step(book.protector.guard(book.bars, event.bar, close))

    def _on_timer(self, event: TimerFired) -> Step:
        self._router.forget_closed(event.ts_ms - DAY_MS)
        return NOTHING

    def _on_kill_switch(self, event: KillSwitchSet) -> Step:
        self._kill_switch = event.level
        return NOTHING

    def _on_flatten(self, event: FlattenRequested) -> Step:
        """Cancel every order and sell everything held at market: an operator's order, past
        every risk check."""
        commands: list[Command] = [
            CancelOrder(o.client_order_id, o.symbol, "flatten")
            for o in self._router.open_orders(event.symbol)
        ]
        qty = self._positions.sellable_qty(event.symbol)
        if qty > 0 and not self._positions.is_flat(event.symbol):
            intent = OrderIntent(
                event.symbol, OrderSide.SELL, OrderType.MARKET, qty, OrderRole.FLATTEN,
                reason=event.reason,
            )  # fmt: skip
            commands.append(self._router.place(intent, event.ts_ms))
        return self._step(commands)

    def _on_position_reconciled(self, event: PositionReconciled) -> Step:
        """The venue wins: book the difference as a ledger adjustment (the identity holds)."""
        self._positions.reconcile(event.symbol, event.qty, event.price)
        return NOTHING

    def _on_cash_reconciled(self, event: CashReconciled) -> Step:
        self.portfolio.set_venue_cash(event.venue, event.cash)
        return NOTHING

    def _on_state_restored(self, event: StateRestored) -> Step:
        """Replay saved state: book every saved fill, adopt the working orders, and guard
        the position with the stop and target found working."""
        for fill in sorted(event.fills, key=lambda f: f.ts_ms):
            self._positions.on_fill(fill)
        self._router.remember(event.closed_order_ids)
        for order in event.open_orders:
            self._router.adopt(order)
        book = self._book_of(event.symbol)
        book.entry_atr.update(event.entry_atr)
        book.protector.restore(event.symbol)
        self._router.drain_changed()
        return NOTHING

    def _on_locks_restored(self, event: LocksRestored) -> Step:
        self.protections.restore(event.locks)
        return NOTHING

    def _on_day_restored(self, event: DayRestored) -> Step:
        self._day, self.day_start_equity = event.day, event.day_start_equity
        return NOTHING

    # ----------------------------------------------------------------- decisions
    def _signal(self, book: SymbolBook, i: int, flat: bool, announced: bool = True) -> Signal:
        position = None if flat else self._positions.position(book.symbol)
        return signal_at(book, i, position, announced)

    def _act(
        self,
        signal: Signal,
        book: SymbolBook,
        i: int,
        ts: int,
        close: Decimal,
        flat: bool,
        working: bool,
    ) -> Outcome:
        entry = self._open_entry(book.symbol) if working else None
        if entry is not None:
            return self._age_entry(book, entry, ts, close)
        if signal.action is SignalAction.BUY and flat:
            return self._enter(signal, book, i, close)
        if signal.action is SignalAction.SELL and not flat:
            return self._exit(book, ts, close, OrderRole.EXIT, signal.reason)
        if not flat and self.stops.is_trailing:
            commands, action = book.protector.trail(book.bars, i, close)
            return commands, action, None
        return [], "hold", None

    def _enter(self, signal: Signal, book: SymbolBook, i: int, close: Decimal) -> Outcome:
        market, symbol = book.market, book.symbol
        ts = book.times[i]
        locked = self.protections.verdict_on(symbol, ts)
        if locked is not None:  # a protection's lock: no entry, whatever else would pass
            return [], "rejected", locked
        atr_value = book.stop_atr[i]
        atr_or_none = atr_value if atr_value == atr_value else None  # NaN during warm-up
        stop = self.stops.calculate_stop(close, atr_or_none)
        price = self._entry_price(market, close)
        risk_state = self._risk_state(book, ts, close)
        stop_price, fee = (stop.price if stop else None), self.settings.fee_rate
        # its venue's cash: money stays on each exchange
        cash = self._positions.portfolio.cash_for(symbol)
        inp = SizingInput(risk_state.equity, cash, price, stop_price, atr_or_none, fee)
        size, allotment = entry_size(
            self.sizer, self.allocator, self._books, book, ts, inp, self.trades
        )
        qty = market.round_qty(size)
        resized = ""
        room = self.risk.correlated_room(risk_state)
        if room is not None and qty * price > room:
            # Resized when at least half the intended position fits the correlated cluster's
            # cap (no dust positions); otherwise the risk check refuses it, saying why.
            fitted = market.round_qty(room / price)
            if 2 * fitted >= qty and market.limit_violation(fitted, price) is None:
                resized = f" (resized from {qty}: max_correlated_exposure)"
                qty = fitted
        too_small = market.limit_violation(qty, price)
        if too_small is not None:
            return [], "skip", RiskVerdict.rejected("market_limits", too_small)
        verdict = with_allotment(
            self.risk.validate_trade(OrderProposal(symbol, qty * price, False), risk_state),
            allotment,
        )
        if not verdict.approved:
            return [], "rejected", verdict
        order_type = OrderType.LIMIT if self.settings.use_limit_entries else OrderType.MARKET
        cmd = self._router.place(
            OrderIntent(  # positional: a record is made faster so
                symbol,
                OrderSide.BUY,
                order_type,
                qty,
                OrderRole.ENTRY,
                price if self.settings.use_limit_entries else None,
                None,  # stop price
                signal.reason,
            ),
            ts,
        )
        book.entry_atr[cmd.client_order_id] = atr_or_none
        return [cmd], f"buy {qty}{resized}", verdict

    def _exit(
        self, book: SymbolBook, ts: int, close: Decimal, role: OrderRole, reason: str
    ) -> Outcome:
        symbol = book.symbol
        # An exit meets only the kill switch (no limit stops the bot getting out), so the
        # account is not valued here: with many symbols held that is most of an exit's cost.
        state = RiskState(  # positional (keywords made it twice as slow to make)
            self._positions.portfolio.cash,  # equity
            ZERO,  # exposure
            ZERO,  # position notional
            self._account.open_positions(),
            self.day_start_equity,
            self._kill_switch,
        )
        proposal = OrderProposal(symbol, ZERO, reduces_exposure=True)
        verdict = self.risk.validate_trade(proposal, state)
        if not verdict.approved:
            return [], "rejected", verdict
        commands: list[Command] = list(book.protector.cancel(symbol, "exit signal"))
        qty = self._positions.sellable_qty(symbol)
        commands.append(
            self._router.place(
                OrderIntent(
                    symbol, OrderSide.SELL, OrderType.MARKET, qty, role, None, None, reason
                ),
                ts,
            )
        )
        return commands, f"sell {qty}", verdict

    def _age_entry(self, book: SymbolBook, entry: Order, ts: int, close: Decimal) -> Outcome:
        if ts + self.bar_ms - entry.created_ts_ms < self.settings.limit_timeout_ms:
            return [], "wait entry", None
        cancel = CancelOrder(entry.client_order_id, entry.symbol, "limit entry timed out")
        action = self.settings.on_limit_timeout
        locked = self.protections.verdict_on(book.symbol, ts)  # no new order if locked
        if action is LimitTimeoutAction.CANCEL or entry.filled_qty > 0 or locked:
            return [cancel], "cancel entry", locked
        order_type = OrderType.MARKET if action is LimitTimeoutAction.MARKET else OrderType.LIMIT
        price = None if order_type is OrderType.MARKET else self._entry_price(book.market, close)
        verdict = self.risk.validate_trade(
            OrderProposal(book.symbol, entry.remaining_qty * (price or close), False),
            self._risk_state(book, ts, close),
        )
        if not verdict.approved:
            return [cancel], "cancel entry", verdict
        cmd = self._router.place(
            OrderIntent(
                book.symbol,
                OrderSide.BUY,
                order_type,
                entry.remaining_qty,
                OrderRole.ENTRY,
                price=price,
                reason=f"{action} after timeout",
            ),
            ts,
        )
        book.entry_atr[cmd.client_order_id] = book.entry_atr.get(entry.client_order_id)
        return [cancel, cmd], f"{action} entry", verdict

    # ----------------------------------------------------------------- protection
    def _protect(self, book: SymbolBook, entry: Order) -> list[Command]:
        if entry.client_order_id not in book.entry_atr and self.stops.needs_atr:
            # Decided before a restart that did not find its ATR: the next close protects
            # the position from that bar's ATR (``Protector.guard``), not "no stop".
            return []
        entry_price = entry.avg_fill_price or ZERO
        atr_value = book.entry_atr.pop(entry.client_order_id, None)
        stop = self.stops.calculate_stop(entry_price, atr_value)
        target = self.stops.take_profit(entry_price, stop)
        return book.protector.place(
            entry.updated_ts_ms, stop.price if stop else None, target, atr_value
        )

    # ----------------------------------------------------------------- state
    def _open_entry(self, symbol: str) -> Order | None:
        return self._router.working_entry(symbol)

    def _entry_price(self, market: Market, close: Decimal) -> Decimal:
        if not self.settings.use_limit_entries:
            return close
        offset = 1 - self.settings.limit_offset_bps / Decimal(10_000)
        return market.round_price(close * offset)

    def _risk_state(self, book: SymbolBook, ts: int, close: Decimal) -> RiskState:
        """The account as the risk checks see it at the close of ``book``'s bar ``ts``."""
        return self._account.risk_state(
            book, ts, close, self.risk.limits, self.day_start_equity, self._kill_switch
        )

    @property
    def utc_day(self) -> int:
        """Days since the epoch of the UTC day being traded (-1 before the first bar)."""
        return self._day

    def _note_account(self, book: SymbolBook) -> tuple[Decimal, Decimal]:
        """Note the cash and every symbol's holding at this close (the next day's start is
        valued from them); return the cash and ``book``'s holding."""
        self._last_cash = self._positions.portfolio.cash
        return self._last_cash, self._account.note_holdings(book)

    def _roll_day(self, book: SymbolBook, ts: int) -> None:
        """Set the day-start equity at the first bar (opened at ``ts``) closing in a new
        UTC day.

        It is valued at the last close of the previous day with what was held then (each
        symbol at its own last close), so a backtest that skips quiet bars and a live bot
        that sees every bar agree exactly.
        """
        day = (ts + self.bar_ms - 1) // DAY_MS
        if day == self._day:
            return
        first = self._day < 0
        self._day = day
        self.day_start_equity = (
            self._last_cash
            if first
            else self._account.value_at_day_start(self._last_cash, day * DAY_MS - self.bar_ms)
        )
