"""What each Telegram command answers, as plain text read from the saved state.

Every view reads the database (WAL: the bot is never blocked) and shows every symbol it
finds, so a portfolio of several markets needs no change here.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

from tradebot.domain.errors import ConfigError
from tradebot.domain.portfolio import Trade
from tradebot.monitoring.alerts.logtap import LogTap
from tradebot.monitoring.alerts.rules import when
from tradebot.monitoring.explain import decision_lines, explain, explain_decision
from tradebot.monitoring.holdings import held_positions
from tradebot.orchestrator.controls import flatten_requested
from tradebot.state.control import utc_day
from tradebot.state.outbox import AlertOutbox
from tradebot.state.repository import Repository
from tradebot.state.watch import StateWatch

HELP_VIEWER = (
    "/status: kill switch, positions, open orders\n"
    "/profit: closed trades and their result\n"
    "/balance: cash and equity at the last bar\n"
    "/daily: result per UTC day (last 7)\n"
    "/trades: the last 10 closed trades\n"
    "/performance: result per symbol\n"
    "/locks: what stops the bot from trading\n"
    "/health: last cycle, exchange, alert outbox\n"
    "/explain [trade id | UTC time]: why the bot did what it did (default: the last bar)\n"
    "/help: this list"
)
HELP_OPERATOR = (
    "/stopentry: no new entries; exits and stops go on\n"
    "/stop: no new orders at all; resting stops stay\n"
    "/resume: trade again\n"
    "/forceexit <symbol|all>: sell at market (asks for a /confirm code first)"
)


def _pnl(trades: list[Trade]) -> tuple[Decimal, int]:
    return sum((t.pnl for t in trades), Decimal(0)), sum(1 for t in trades if t.pnl > 0)


class Views:
    """The answers of the read-only commands."""

    def __init__(
        self,
        watch: StateWatch,
        outbox: AlertOutbox,
        tap: LogTap | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Read through ``watch``; ``tap`` tells /health about the exchange."""
        self._watch, self._repo, self._outbox = watch, watch.repository, outbox
        self._tap, self._clock = tap, clock

    @property
    def repository(self) -> Repository:
        """The state the views read."""
        return self._repo

    def status(self) -> str:
        """Kill switch, positions with their stops, open orders, the last bar."""
        lines = [self._kill_switch_line()]
        positions = held_positions(self._repo)
        lines += [
            f"{p.position.symbol}: {p.position.qty} at {p.position.avg_price:.8g}, "
            f"stop {p.stop_price if p.stop_price is not None else 'none'}"
            for p in positions
        ] or ["flat"]
        orders = self._repo.open_orders()
        lines.append(f"open orders: {len(orders)}")
        lines += [
            f"  {o.symbol} {o.side} {o.type} {o.qty} @ {o.stop_price or o.price} ({o.status})"
            for o in orders
        ]
        snapshot = self._repo.latest_snapshot()
        lines.append("last bar: " + (when(snapshot.ts_ms) if snapshot else "none yet"))
        return "\n".join(lines)

    def profit(self) -> str:
        """Closed trades: count, wins, net result, best and worst."""
        trades = self._repo.trades()
        if not trades:
            return "no closed trades yet"
        pnl, wins = _pnl(trades)
        best, worst = max(trades, key=lambda t: t.pnl), min(trades, key=lambda t: t.pnl)
        return (
            f"{len(trades)} closed trades, {wins} won ({wins / len(trades):.0%})\n"
            f"net PnL {pnl:+.2f} after fees\n"
            f"best {best.symbol} {best.pnl:+.2f}, worst {worst.symbol} {worst.pnl:+.2f}"
        )

    def balance(self) -> str:
        """Cash, equity and exposure at the last bar, and what is held."""
        snapshot = self._repo.latest_snapshot()
        if snapshot is None:
            return "no snapshot yet: the bot has not finished a cycle"
        held = ", ".join(f"{s} {q}" for s, q in snapshot.positions.items() if q) or "nothing"
        return (
            f"at {when(snapshot.ts_ms)}\ncash {snapshot.cash:.2f}\nequity {snapshot.equity:.2f}\n"
            f"exposure {snapshot.exposure:.2f}\nheld: {held}"
        )

    def daily(self, days: int = 7) -> str:
        """Result per UTC day of the last ``days`` days with closed trades."""
        by_day: dict[str, list[Trade]] = defaultdict(list)
        for trade in self._repo.trades():
            by_day[utc_day(trade.exit_ts_ms)].append(trade)
        if not by_day:
            return "no closed trades yet"
        lines = []
        for day in sorted(by_day)[-days:]:
            pnl, wins = _pnl(by_day[day])
            lines.append(f"{day}: {len(by_day[day])} trades, {wins} won, {pnl:+.2f}")
        return "\n".join(lines)

    def trades(self, count: int = 10) -> str:
        """The last ``count`` closed trades."""
        trades = self._repo.trades()[-count:]
        if not trades:
            return "no closed trades yet"
        return "\n".join(
            f"{when(t.exit_ts_ms)} {t.symbol} {t.qty} {t.entry_price} -> {t.exit_price} "
            f"{t.pnl:+.2f} ({t.exit_reason or 'no reason'})"
            for t in reversed(trades)
        )

    def performance(self) -> str:
        """Result per symbol, best first."""
        by_symbol: dict[str, list[Trade]] = defaultdict(list)
        for trade in self._repo.trades():
            by_symbol[trade.symbol].append(trade)
        if not by_symbol:
            return "no closed trades yet"
        rows = sorted(((*_pnl(t), s, len(t)) for s, t in by_symbol.items()), reverse=True)
        return "\n".join(f"{s}: {pnl:+.2f} over {n} trades, {w} won" for pnl, w, s, n in rows)

    def locks(self) -> str:
        """What keeps the bot from trading freely."""
        lines = [self._kill_switch_line()]
        lines.append("flatten requested: " + ("yes" if flatten_requested(self._repo) else "no"))
        if self._tap is not None and self._tap.unreachable_since is not None:
            lines.append(
                f"exchange unreachable since {when(int(self._tap.unreachable_since * 1000))}"
            )
        return "\n".join(lines)

    def health(self) -> str:
        """Age of the last cycle, the exchange as the bot logs it, and the alert outbox."""
        snapshot = self._repo.latest_snapshot()
        decision = self._watch.decision(None)
        lines = [
            "last bar: " + (when(snapshot.ts_ms) if snapshot else "none yet"),
            "last decision recorded: "
            + (
                f"{self._clock() - decision.recorded_ts_ms / 1000:.0f} s ago"
                if decision
                else "none"
            ),
        ]
        if self._tap is not None:
            since = self._tap.unreachable_since
            lines.append(
                "exchange: reachable" if since is None
                else f"exchange: UNREACHABLE for {self._clock() - since:.0f} s"
            )  # fmt: skip
        counts = self._outbox.counts()
        lines.append(
            f"alerts: {counts['pending']} pending, {counts['sent']} sent, {counts['failed']} failed"
        )
        return "\n".join(lines)

    def explain(self, argument: str) -> str:
        """``tradebot explain`` for a trade id or a UTC time; the last decision by default."""
        if not argument:
            entry = self._watch.decision(None)
            if entry is None:
                return "no decision recorded yet"
            return "\n".join(decision_lines(explain_decision(entry, self._repo)))
        try:
            return "\n".join(explain(argument, self._repo))
        except ConfigError as exc:
            return f"cannot explain {argument!r}: {exc}"

    def _kill_switch_line(self) -> str:
        reason = self._repo.kill_switch_reason()
        return f"kill switch {self._repo.kill_switch()}" + (f" ({reason})" if reason else "")
