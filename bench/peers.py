"""The same strategy on backtrader and vectorbt, for the speed and trade-count comparison.

Conventions as in ``backtest_speed.py``: EMA 12/26 cross decided on a bar's close, market
orders at the next bar's open, a 2×ATR(14) stop from the entry fill, 0.1 % commission,
10,000 USDT per entry. backtrader runs with ``cheat_on_open`` so the entry and its stop are
sent together at the next open (a bracket), which lets the stop work inside the entry bar as
tradebot's does.
"""

from __future__ import annotations

from collections.abc import Callable

import backtrader as bt
import numpy as np

from backtest_speed import CASH, FEE, NOTIONAL, load, timed_runs


def run_backtrader(size: str, repeat: int) -> dict[str, float]:
    """backtrader 1.9 on the candles, ``repeat`` times in this process; time excludes
    loading."""
    frame = load(size)
    frame = frame.assign(datetime=frame["ts_ms"].astype("datetime64[ms]")).set_index("datetime")

    def once() -> int:
        cerebro = bt.Cerebro(stdstats=False, cheat_on_open=True)
        cerebro.adddata(bt.feeds.PandasData(dataname=frame))
        cerebro.addstrategy(EmaAtrStop)
        cerebro.broker.setcash(CASH)
        cerebro.broker.setcommission(commission=FEE)
        trades: int = cerebro.run()[0].trades_closed
        return trades

    return timed_runs(len(frame), once, repeat)


class EmaAtrStop(bt.Strategy):  # type: ignore[misc]
    def __init__(self) -> None:
        fast = bt.ind.EMA(self.data.close, period=12)
        slow = bt.ind.EMA(self.data.close, period=26)
        self.cross = bt.ind.CrossOver(fast, slow)
        self.atr = bt.ind.ATR(self.data, period=14)
        self.want = 0  # +1 buy at the next open, -1 sell at the next open
        self.stop_order = None
        self.trades_closed = 0

    def next(self) -> None:
        if self.cross[0] > 0 and not self.position:
            self.want = 1
        elif self.cross[0] < 0 and self.position:
            self.want = -1

    def next_open(self) -> None:
        if self.want == 1 and not self.position:
            self._enter()
        elif self.want == -1 and self.position:
            self._exit()
        self.want = 0

    def _enter(self) -> None:
        stop = self.data.open[0] - 2 * self.atr[-1]
        _, self.stop_order, _ = self.buy_bracket(
            size=NOTIONAL / self.data.close[-1],
            exectype=bt.Order.Market,
            stopprice=stop,
            limitexec=None,
        )

    def _exit(self) -> None:
        if self.stop_order is not None:
            self.cancel(self.stop_order)
        self.close()

    def notify_trade(self, trade) -> None:  # type: ignore[no-untyped-def]
        if trade.isclosed:
            self.trades_closed += 1


def run_vectorbt(size: str, repeat: int) -> dict[str, float]:
    """vectorbt from_signals with an ATR stop fraction per entry, ``repeat`` times in this
    process: the first run pays numba's compile, the later ones are warm. Time excludes
    loading."""
    import vectorbt as vbt

    from tradebot.strategy.indicators import atr, ema

    frame = load(size)
    o, h, lo, c = (frame[k].to_numpy() for k in ("open", "high", "low", "close"))

    def once() -> int:
        fast, slow = ema(c, 12), ema(c, 26)
        above = fast > slow
        cross_up = np.zeros_like(above)
        cross_dn = np.zeros_like(above)
        cross_up[1:] = above[1:] & ~above[:-1]
        cross_dn[1:] = ~above[1:] & above[:-1] & ~np.isnan(slow[:-1])
        stop_frac = np.nan_to_num(2 * atr(h, lo, c, 14) / c, nan=0.05)
        # decided at close i, executed at open i+1
        entries = np.roll(cross_up, 1)
        exits = np.roll(cross_dn, 1)
        entries[0] = exits[0] = False
        pf = vbt.Portfolio.from_signals(
            c,
            entries,
            exits,
            open=o,
            high=h,
            low=lo,
            price=o,
            sl_stop=np.roll(stop_frac, 1),
            size=NOTIONAL,
            size_type="value",
            fees=FEE,
            init_cash=CASH,
            freq="1min",
        )
        return int(pf.trades.count())

    return timed_runs(len(frame), once, repeat)


PEERS: dict[str, Callable[[str, int], dict[str, float]]] = {
    "backtrader": run_backtrader,
    "vectorbt": run_vectorbt,
}
