"""Closed trades grouped: by exit reason, by the entry signal that opened them, by the
regime at entry (a regime-adaptive strategy or a conditional ensemble), by symbol.

One function computes every group's figures, so the tables of a report (and of a paper
session's report) agree with each other and with the metrics: the same trades, the same PnL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from tradebot.backtest.excursions import Excursion
from tradebot.backtest.metrics import MS_PER_HOUR, profit_factor
from tradebot.domain.decisions import Decision
from tradebot.domain.orders import Fill, OrderSide
from tradebot.domain.portfolio import Trade

UNKNOWN_SIGNAL = "(no decision found)"
NO_REGIME = "(no regime)"
# Measured values in a signal's reason ("(42100.50 vs 42050.25)") make every reason unique;
# the decimals are replaced so trades opened by the same rule share one group. Whole numbers
# are usually parameters ("EMA12", "the 20-bar high") and stay.
_MEASURED = re.compile(r"[-+]?\d[\d,]*\.\d+")


@dataclass(frozen=True, slots=True)
class GroupStats:
    """The figures of one group of closed trades."""

    key: str
    trades: int
    wins: int
    pnl: float
    avg_return_pct: float
    profit_factor: float | None  # None without a losing trade
    avg_duration_hours: float
    avg_mae_pct: float | None  # None when no trade of the group has bars to measure
    avg_mfe_pct: float | None

    @property
    def win_rate_pct(self) -> float:
        """Winning trades in percent of the group's trades."""
        return self.wins / self.trades * 100 if self.trades else 0.0


def group_stats(
    trades: Sequence[Trade], keys: Sequence[str], moves: Sequence[Excursion | None]
) -> list[GroupStats]:
    """Figures per distinct key (``keys[i]`` is trade i's), the most trades first."""
    members: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        members.setdefault(key, []).append(i)
    stats = [
        _stats(key, [trades[i] for i in idx], [moves[i] for i in idx])
        for key, idx in members.items()
    ]
    return sorted(stats, key=lambda s: (-s.trades, s.key))


def signal_kind(reason: str) -> str:
    """A signal's reason without its measured values: the rule that fired."""
    return _MEASURED.sub("…", reason).strip() or "(no reason)"


def entry_decisions(
    trades: Sequence[Trade], fills: Iterable[Fill], decisions: Iterable[Decision]
) -> list[Decision | None]:
    """The decision whose order opened each trade (None when it is not in ``decisions``).

    A trade starts with a buy fill of its symbol at its entry time; that fill's order was
    placed by a decision. Only those decisions are kept while ``decisions`` is walked (a
    backtest's are made one chunk at a time: ``backtest/packed.py``).
    """
    opened_by: dict[tuple[str, int], str] = {}
    for fill in fills:
        if fill.side is OrderSide.BUY:
            opened_by.setdefault((fill.symbol, fill.ts_ms), fill.client_order_id)
    order_ids = [opened_by.get((trade.symbol, trade.entry_ts_ms)) for trade in trades]
    wanted = set(order_ids)
    placed_by = {cid: d for d in decisions for cid in d.client_order_ids if cid in wanted}
    return [None if cid is None else placed_by.get(cid) for cid in order_ids]


def entry_signals(
    trades: Sequence[Trade], fills: Iterable[Fill], decisions: Iterable[Decision]
) -> list[str]:
    """The kind of signal (``signal_kind``) whose order opened each trade."""
    return signal_kinds(entry_decisions(trades, fills, decisions))


def signal_kinds(entries: Iterable[Decision | None]) -> list[str]:
    """The kind of signal of each entry decision (``entry_decisions``)."""
    return [UNKNOWN_SIGNAL if d is None else signal_kind(d.signal.reason) for d in entries]


def entry_regimes(
    trades: Sequence[Trade], fills: Iterable[Fill], decisions: Iterable[Decision]
) -> list[str]:
    """The regime each trade was opened in: the ``regime`` its entry signal recorded
    (``regime_metadata``), else ``NO_REGIME``."""
    return regimes_at_entry(entry_decisions(trades, fills, decisions))


def regimes_at_entry(entries: Iterable[Decision | None]) -> list[str]:
    """The regime each entry decision (``entry_decisions``) recorded, else ``NO_REGIME``."""
    out = []
    for decision in entries:
        regime = None if decision is None else decision.signal.metadata.get("regime")
        out.append(NO_REGIME if regime is None else str(regime))
    return out


def regime_groups(
    trades: Sequence[Trade], regimes: Sequence[str], moves: Sequence[Excursion | None]
) -> list[GroupStats]:
    """The trades grouped by regime at entry; empty when no trade was opened in a regime."""
    if all(r == NO_REGIME for r in regimes):
        return []
    return group_stats(trades, regimes, moves)


def _stats(key: str, trades: list[Trade], moves: list[Excursion | None]) -> GroupStats:
    pnl = np.array([float(t.pnl) for t in trades], dtype=np.float64)
    known = [m for m in moves if m is not None]
    return GroupStats(
        key=key,
        trades=len(trades),
        wins=int((pnl > 0).sum()),
        pnl=float(pnl.sum()),
        avg_return_pct=float(np.mean([t.return_pct for t in trades])),
        profit_factor=profit_factor(pnl),
        avg_duration_hours=float(np.mean([t.duration_ms for t in trades])) / MS_PER_HOUR,
        avg_mae_pct=float(np.mean([m.mae_pct for m in known])) if known else None,
        avg_mfe_pct=float(np.mean([m.mfe_pct for m in known])) if known else None,
    )
