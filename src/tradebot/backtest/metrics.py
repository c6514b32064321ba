"""Performance metrics of a finished backtest (design section VIII), beside buy-and-hold.

Conventions, so the figures can be checked by hand:

* ``total_pnl`` is final equity − starting cash: what the account gained, including a position
  still open at the end. ``realised_pnl`` is the sum of the closed trades' net PnL.
* Drawdowns are measured on the equity curve marked at each bar's close, with the starting cash
  as the first peak, so a fee paid on the first bar already counts as drawdown.
  ``max_drawdown_duration_bars`` is the longest run of bars spent below a previous peak; the
  hours are those bars × the bar interval.
* Per-bar returns are taken on ``[starting_cash, equity...]``. Sharpe and Sortino ratios are
  annualised with ``periods_per_year = 365 × 24 × 3600 × 1000 / bar_ms`` (crypto trades every
  day of the year), where ``bar_ms`` is the median spacing of ``ts_ms``; the risk-free rate is
  0. Sharpe uses the sample standard deviation; Sortino the downside deviation
  ``sqrt(mean(min(r, 0)²))`` over all bars.
* The period covered is ``ts_ms[-1] − ts_ms[0] + bar_ms`` (the last bar counts in full);
  CAGR and trades per day use it, with 365-day years.
* Buy-and-hold buys at the first bar's open and is marked at each close, scaled to the starting
  cash, without fees: its return is ``close[-1] / open[0] − 1``.
* ``avg_slippage_bps`` is the slippage the simulation was configured with
  (``settings["slippage_bps"]``), not a measurement; it is ``None`` when the settings do not say.
* A figure that is undefined (no losing trade for the profit factor, a flat curve for the
  Sharpe ratio, no trades for the win rate) is ``None`` and shows as "n/a".
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from tradebot.backtest.result import BacktestResult, FloatArray, IntArray
from tradebot.domain.decisions import MetadataValue

MS_PER_HOUR = 3_600_000
MS_PER_DAY = 24 * MS_PER_HOUR
MS_PER_YEAR = 365 * MS_PER_DAY
_MAX_LOG_GROWTH = 700.0  # exp() of more overflows a float: annualising is meaningless there
_MIN_STD = 1e-15

Number = float | int | None


@dataclass(frozen=True, slots=True)
class CurveStats:
    """Return and risk of one equity curve: the strategy's or buy-and-hold's."""

    return_pct: float
    cagr_pct: float | None
    max_drawdown_pct: float
    max_drawdown_duration_bars: int
    sharpe_ratio: float | None
    sortino_ratio: float | None
    calmar_ratio: float | None


@dataclass(frozen=True, slots=True)
class PerformanceMetrics:
    """Every figure of a backtest; ``None`` means undefined (shown as "n/a")."""

    starting_cash: float
    final_equity: float
    n_bars: int
    start_ts_ms: int
    end_ts_ms: int  # open time of the last bar
    bar_ms: int | None
    periods_per_year: float | None
    days: float
    # Profitability
    total_pnl: float
    realised_pnl: float
    total_return_pct: float
    cagr_pct: float | None
    win_rate: float | None  # a fraction of closed trades, 0..1
    avg_win: float | None
    avg_loss: float | None  # negative: the mean PnL of losing trades
    profit_factor: float | None
    # Risk
    max_drawdown_pct: float
    max_drawdown_duration_bars: int
    max_drawdown_duration_hours: float
    sharpe_ratio: float | None
    sortino_ratio: float | None
    calmar_ratio: float | None
    max_consecutive_losses: int
    # Activity
    total_trades: int
    avg_trade_duration_hours: float | None
    trades_per_day: float
    exposure_time_pct: float
    # Execution
    avg_slippage_bps: float | None
    total_fees: float
    rejected_orders: int
    # Benchmark over the same bars
    buy_and_hold_return_pct: float
    buy_and_hold_cagr_pct: float | None
    buy_and_hold_max_drawdown_pct: float
    buy_and_hold_sharpe_ratio: float | None
    buy_and_hold_sortino_ratio: float | None
    buy_and_hold_calmar_ratio: float | None

    def to_dict(self) -> dict[str, Number]:
        """Plain values for ``metrics.json``; ``None`` stays ``None`` (JSON ``null``)."""
        return dict(asdict(self))

    def rows(self) -> list[tuple[str, str]]:
        """``(label, formatted value)`` pairs, strategy figures then buy-and-hold's."""
        pairs = [(label, strategy) for label, strategy, _ in self.comparison_rows()]
        pairs += [
            (f"Buy & hold {_lower_first(label)}", bench)
            for label, _, bench in self.comparison_rows()
            if bench
        ]
        return pairs

    def comparison_rows(self) -> list[tuple[str, str, str]]:
        """``(label, strategy, buy-and-hold)``; the last is "" where it does not apply."""
        return [
            ("Total PnL", _money(self.total_pnl), ""),
            ("Realised PnL", _money(self.realised_pnl), ""),
            ("Total return", _pct(self.total_return_pct), _pct(self.buy_and_hold_return_pct)),
            ("CAGR", _pct(self.cagr_pct), _pct(self.buy_and_hold_cagr_pct)),
            ("Max drawdown", _pct(self.max_drawdown_pct), _pct(self.buy_and_hold_max_drawdown_pct)),
            ("Max drawdown duration", _hours(self.max_drawdown_duration_hours), ""),
            ("Sharpe ratio", _ratio(self.sharpe_ratio), _ratio(self.buy_and_hold_sharpe_ratio)),
            ("Sortino ratio", _ratio(self.sortino_ratio), _ratio(self.buy_and_hold_sortino_ratio)),
            ("Calmar ratio", _ratio(self.calmar_ratio), _ratio(self.buy_and_hold_calmar_ratio)),
            ("Win rate", _pct(None if self.win_rate is None else self.win_rate * 100), ""),
            ("Average win", _money(self.avg_win), ""),
            ("Average loss", _money(self.avg_loss), ""),
            ("Profit factor", _ratio(self.profit_factor), ""),
            ("Max consecutive losses", str(self.max_consecutive_losses), ""),
            ("Total trades", str(self.total_trades), ""),
            ("Average trade duration", _hours(self.avg_trade_duration_hours), ""),
            ("Trades per day", _ratio(self.trades_per_day, 3), ""),
            ("Exposure time", _pct(self.exposure_time_pct), "100.00%"),
            ("Average slippage", _bps(self.avg_slippage_bps), ""),
            ("Total fees", _money(self.total_fees), ""),
            ("Orders refused or expired", str(self.rejected_orders), ""),
            ("Final equity", _money(self.final_equity), ""),
        ]


def compute_metrics(result: BacktestResult) -> PerformanceMetrics:
    """Compute every figure of ``result``; see the module docstring for the conventions."""
    ts = result.ts_ms
    bar_ms = _bar_ms(ts)
    ppy = MS_PER_YEAR / bar_ms if bar_ms else None
    span_ms = int(ts[-1] - ts[0]) + bar_ms if bar_ms else 0
    years = span_ms / MS_PER_YEAR
    strategy = curve_stats(result.equity, result.starting_cash, ppy, years)
    # Handed over in a list, so the 16 MB curve is freed once its returns are made.
    bench = _curve_stats([buy_and_hold_equity(result)], result.starting_cash, ppy, years)
    pnl = np.array([float(t.pnl) for t in result.trades], dtype=np.float64)
    held_ms = np.array([t.duration_ms for t in result.trades], dtype=np.float64)
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    dd_bars = strategy.max_drawdown_duration_bars
    return PerformanceMetrics(
        starting_cash=result.starting_cash,
        final_equity=result.final_equity,
        n_bars=result.n_bars,
        start_ts_ms=int(ts[0]) if len(ts) else 0,
        end_ts_ms=int(ts[-1]) if len(ts) else 0,
        bar_ms=bar_ms,
        periods_per_year=ppy,
        days=span_ms / MS_PER_DAY,
        total_pnl=result.final_equity - result.starting_cash,
        realised_pnl=float(pnl.sum()),
        total_return_pct=strategy.return_pct,
        cagr_pct=strategy.cagr_pct,
        win_rate=len(wins) / len(pnl) if len(pnl) else None,
        avg_win=float(wins.mean()) if len(wins) else None,
        avg_loss=float(losses.mean()) if len(losses) else None,
        profit_factor=profit_factor(pnl),
        max_drawdown_pct=strategy.max_drawdown_pct,
        max_drawdown_duration_bars=dd_bars,
        max_drawdown_duration_hours=dd_bars * (bar_ms or 0) / MS_PER_HOUR,
        sharpe_ratio=strategy.sharpe_ratio,
        sortino_ratio=strategy.sortino_ratio,
        calmar_ratio=strategy.calmar_ratio,
        max_consecutive_losses=longest_run(pnl < 0),
        total_trades=len(pnl),
        avg_trade_duration_hours=float(held_ms.mean()) / MS_PER_HOUR if len(held_ms) else None,
        trades_per_day=len(pnl) * MS_PER_DAY / span_ms if span_ms else 0.0,
        exposure_time_pct=_share_pct(result.position_qty > 0),
        avg_slippage_bps=_configured_slippage(result.settings.get("slippage_bps")),
        total_fees=result.fees_paid,
        rejected_orders=result.rejected_orders,
        buy_and_hold_return_pct=bench.return_pct,
        buy_and_hold_cagr_pct=bench.cagr_pct,
        buy_and_hold_max_drawdown_pct=bench.max_drawdown_pct,
        buy_and_hold_sharpe_ratio=bench.sharpe_ratio,
        buy_and_hold_sortino_ratio=bench.sortino_ratio,
        buy_and_hold_calmar_ratio=bench.calmar_ratio,
    )


def curve_stats(
    equity: FloatArray, starting_cash: float, periods_per_year: float | None, years: float
) -> CurveStats:
    """Return, CAGR, drawdown and risk-adjusted ratios of an equity curve marked per bar."""
    return _curve_stats([equity], starting_cash, periods_per_year, years)


def _curve_stats(
    handed: list[FloatArray], starting_cash: float, periods_per_year: float | None, years: float
) -> CurveStats:
    # Per-bar arrays one after the other, each 16 MB on two million bars: the drawdown,
    # freed before the returns are made; ``handed`` holds the only reference to a curve
    # made for the call (buy and hold), freed here as soon as its returns are made.
    equity = handed.pop()
    last = float(equity[-1]) if len(equity) else float(starting_cash)
    ratio = last / starting_cash if starting_cash > 0 else 1.0
    cagr = _cagr_pct(ratio, years)
    drawdown = drawdown_pct(equity, starting_cash)
    max_dd = float(-drawdown.min()) + 0.0 if len(drawdown) else 0.0  # + 0.0: no "-0.00%"
    dd_bars = longest_run(drawdown < 0)
    del drawdown
    rets = bar_returns(equity, starting_cash)
    del equity
    sharpe = _sharpe(rets, periods_per_year)
    sortino = _sortino(rets, periods_per_year)  # last: it squares the losses in ``rets``
    return CurveStats(
        return_pct=(ratio - 1) * 100,
        cagr_pct=cagr,
        max_drawdown_pct=max_dd,
        max_drawdown_duration_bars=dd_bars,
        sharpe_ratio=sharpe,
        sortino_ratio=sortino,
        calmar_ratio=cagr / max_dd if cagr is not None and max_dd > 0 else None,
    )


def profit_factor(pnl: FloatArray) -> float | None:
    """Gross profit over gross loss of trades' PnL; None without a losing trade."""
    gross_loss = float(-pnl[pnl < 0].sum())
    return float(pnl[pnl > 0].sum()) / gross_loss if gross_loss > 0 else None


def drawdown_pct(equity: FloatArray, starting_cash: float) -> FloatArray:
    """Per-bar drawdown from the running peak (starting cash included), in percent (≤ 0)."""
    # In place, in the running peak's own array: on two million bars each is 16 MB.
    out = np.maximum.accumulate(equity)
    np.maximum(out, starting_cash, out=out)
    positive = out > 0
    np.divide(equity, out, out=out, where=positive)
    out -= 1
    out *= 100
    out[~positive] = 0.0
    return out


def bar_returns(equity: FloatArray, starting_cash: float) -> FloatArray:
    """Simple per-bar returns of ``[starting_cash, equity...]`` (one per bar of ``equity``);
    a bar after a non-positive value counts as 0."""
    out = np.empty(len(equity), dtype=np.float64)
    if not len(out):
        return out
    # The first bar's return on the starting cash, as numpy computes it for the others.
    first, cash = np.float64(equity[0]), np.float64(starting_cash)
    out[0] = (first - cash) / cash if cash > 0 else 0.0
    prev = equity[:-1]
    positive = prev > 0
    np.subtract(equity[1:], prev, out=out[1:])
    np.divide(out[1:], prev, out=out[1:], where=positive)
    out[1:][~positive] = 0.0
    return out


def longest_run(mask: np.ndarray) -> int:
    """Length of the longest run of True in a boolean array."""
    if not mask.any():
        return 0
    # In int8 throughout: a list's 0 would make the padded copy and its diff int64, 16 MB
    # each on two million bars instead of 2.
    padded = np.zeros(len(mask) + 2, dtype=np.int8)
    padded[1:-1] = mask
    edges = np.diff(padded)
    return int((np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)).max())


def buy_and_hold_equity(result: BacktestResult) -> FloatArray:
    """Starting cash put in at the first open, marked at each close (no fees)."""
    if not result.n_bars or result.open[0] <= 0:
        return np.full(result.n_bars, result.starting_cash, dtype=np.float64)
    equity = np.multiply(result.close, result.starting_cash)
    equity /= float(result.open[0])
    return equity


def _bar_ms(ts: IntArray) -> int | None:
    if len(ts) < 2:  # one spacing needs two bars
        return None
    step = int(np.median(np.diff(ts), overwrite_input=True))  # no sorted copy of the diffs
    return step if step > 0 else None


def _cagr_pct(ratio: float, years: float) -> float | None:
    if years <= 0:
        return None
    if ratio <= 0:
        return -100.0
    growth = math.log(ratio) / years
    return math.expm1(growth) * 100 if growth < _MAX_LOG_GROWTH else None


def _sharpe(rets: FloatArray, periods_per_year: float | None) -> float | None:
    if periods_per_year is None or len(rets) < 2:  # a sample std needs two
        return None
    std = float(rets.std(ddof=1))
    if std < _MIN_STD:
        return None
    return float(rets.mean()) / std * math.sqrt(periods_per_year)


def _sortino(rets: FloatArray, periods_per_year: float | None) -> float | None:
    """The Sortino ratio; squares the losses in ``rets`` in place (its last reader)."""
    if periods_per_year is None or not len(rets):
        return None
    mean = float(rets.mean())
    losses = np.minimum(rets, 0.0, out=rets)
    losses *= losses
    downside = math.sqrt(float(np.mean(losses)))
    if downside < _MIN_STD:
        return None
    return mean / downside * math.sqrt(periods_per_year)


def _share_pct(mask: np.ndarray) -> float:
    return float(mask.mean()) * 100 if len(mask) else 0.0


def _configured_slippage(value: MetadataValue) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _lower_first(label: str) -> str:
    # "Total return" → "total return", but "CAGR" stays "CAGR".
    return label if label[:2].isupper() else label[0].lower() + label[1:]


def _money(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.2f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.2f}%"


def _ratio(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _hours(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value / 24:,.1f} d" if value >= 48 else f"{value:,.1f} h"


def _bps(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g} bps"
