"""The account's figures as the database holds them: what /metrics and the metrics log show.

Everything here is read from the bot's saved state (the SQLite file is WAL, so reading never
blocks the bot), so the figures are the same whether the bot is running, stopped or read from
another process. Times are the venue's (the bars'), like the engine's own day boundaries: a
paper replay of 2024 data has 2024 "today".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from tradebot.domain.orders import OrderStatus
from tradebot.state import KillSwitchLevel, PortfolioSnapshot, Repository

DAY_MS = 86_400_000
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Holding:
    """One open position: amount held, its value at the last mark and its cost (quote)."""

    qty: Decimal
    exposure: Decimal
    cost: Decimal


@dataclass(frozen=True, slots=True)
class Figures:
    """The account at the last saved snapshot, plus the counts kept beside it."""

    snapshot: PortfolioSnapshot | None
    peak_equity: Decimal
    daily_pnl: Decimal | None
    holdings: dict[str, Holding]
    trades: int
    wins: int
    trades_today: int
    kill_switch: KillSwitchLevel
    orders: dict[OrderStatus, int]
    discrepancies: dict[str, int] = field(default_factory=dict)

    @property
    def unrealised_pnl(self) -> Decimal:
        """Value of what is held at the last mark, less what it cost (fees excluded)."""
        return sum((h.exposure - h.cost for h in self.holdings.values()), ZERO)

    @property
    def drawdown(self) -> float:
        """Fall of equity from its highest saved value, as a fraction (0 at a new high)."""
        if self.snapshot is None or self.peak_equity <= 0:
            return 0.0
        return float((self.peak_equity - self.snapshot.equity) / self.peak_equity)

    @property
    def win_rate(self) -> float | None:
        """Share of closed trades with a positive net PnL; None before the first trade."""
        return self.wins / self.trades if self.trades else None


def _marks(snapshot: PortfolioSnapshot | None) -> dict[str, Decimal]:
    # A snapshot saves the total exposure, not a price per symbol: with one symbol held the
    # price is exact; with several, positions are valued at cost until snapshots carry
    # prices (the portfolio issue).
    if snapshot is None:
        return {}
    held = {s: q for s, q in snapshot.positions.items() if q > 0}
    if len(held) != 1:
        return {}
    ((symbol, qty),) = held.items()
    return {symbol: snapshot.exposure / qty}


class FiguresReader:
    """Reads ``Figures`` from a repository, keeping the peak equity and trade counts between
    reads.

    Snapshots and trades are read once each, then only the new ones, so a read costs the
    same after a year of bars as after a day.
    """

    def __init__(self, repo: Repository) -> None:
        """Read from ``repo`` (give it a database connection of its own)."""
        self._repo = repo
        self._peak = ZERO
        self._seen_ts_ms: int | None = None
        self._last_trade_id = 0
        self._wins = 0
        self._exits_ms: list[int] = []

    def _read_trades(self) -> None:
        for trade_id, trade in self._repo.trades_after(self._last_trade_id):
            self._last_trade_id = trade_id
            self._wins += trade.pnl > 0
            self._exits_ms.append(trade.exit_ts_ms)

    def read(self) -> Figures:
        """The figures now."""
        repo = self._repo
        snapshot = repo.latest_snapshot()
        for saved in repo.snapshots(self._seen_ts_ms):
            self._peak = max(self._peak, saved.equity)
            self._seen_ts_ms = saved.ts_ms
        marks = _marks(snapshot)
        holdings = {
            s.position.symbol: Holding(
                s.position.qty,
                s.position.qty * marks.get(s.position.symbol, s.position.avg_price),
                s.position.cost,
            )
            for s in repo.positions(open_only=True)
        }
        self._read_trades()
        day_start = None if snapshot is None else snapshot.ts_ms - snapshot.ts_ms % DAY_MS
        daily_pnl = None
        if snapshot is not None:
            start_equity = repo.day_start_equity(snapshot.ts_ms)
            daily_pnl = None if start_equity is None else snapshot.equity - start_equity
        kinds = Counter(str(e.discrepancy.kind) for e in repo.reconciliation_events())
        return Figures(
            snapshot=snapshot,
            peak_equity=self._peak,
            daily_pnl=daily_pnl,
            holdings=holdings,
            trades=len(self._exits_ms),
            wins=self._wins,
            trades_today=0 if day_start is None else sum(t >= day_start for t in self._exits_ms),
            kill_switch=repo.kill_switch(),
            orders=repo.order_counts(),
            discrepancies=dict(kinds),
        )
