"""What survives an outage or a restart: the downtime policy and the UTC day's loss.

Design VI.D: while the exchange cannot be reached the bot waits (its stops rest on the venue);
when it comes back the configured policy runs — ``wait`` resumes trading, ``flatten_on_recovery``
closes every position at market, ``halt`` stops trading until a person resumes it. And the
daily loss limit counts from the equity the UTC day started with, which is saved, so a
restart in the middle of a bad day does not reset the limit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

import structlog

from tradebot.domain.decisions import Decision, KillSwitch
from tradebot.domain.errors import ExchangeUnavailable
from tradebot.domain.events import DayRestored, LocksRestored
from tradebot.domain.market import Candle
from tradebot.domain.portfolio import Portfolio
from tradebot.orchestrator.engine import DAY_MS, TradingEngine
from tradebot.orchestrator.trade_log import BotStats
from tradebot.state.repository import Repository
from tradebot.state.rows import PortfolioSnapshot, SavedLock

log = structlog.get_logger("tradebot.bot")
FLATTEN_REQUEST = "flatten_requested"


class DowntimePolicy(StrEnum):
    """What to do once an unreachable exchange answers again."""

    WAIT = "wait"
    FLATTEN_ON_RECOVERY = "flatten_on_recovery"
    HALT = "halt"


@dataclass(slots=True)
class DowntimeGuard:
    """Counts consecutive failed polls and applies the policy on the first success."""

    policy: DowntimePolicy = DowntimePolicy.WAIT
    failures: int = 0
    outages: int = 0

    def on_failure(self) -> None:
        """A poll could not reach the exchange."""
        self.failures += 1

    async def guarded(
        self, work: Callable[[], Awaitable[object]], stats: BotStats, repo: Repository
    ) -> bool:
        """Run ``work`` as the top of the live cycle: a failure is counted in
        ``stats.errors``, logged and answered False; the first success after the exchange
        was unreachable applies the policy."""
        try:
            await work()
        except ExchangeUnavailable as exc:
            stats.errors += 1
            self.on_failure()
            log.warning("exchange unavailable; waiting", error=str(exc))
            return False
        except Exception:  # the top of the live cycle: log, count, keep going
            stats.errors += 1
            log.exception("cycle failed")
            return False
        applied = self.on_success(repo)
        if applied is not None:
            log.warning("exchange back after an outage", policy=str(applied))
        return True

    def on_success(self, repo: Repository) -> DowntimePolicy | None:
        """A poll got through: after an outage, apply the policy and say which one ran."""
        if not self.failures:
            return None
        self.failures = 0
        self.outages += 1
        if self.policy is DowntimePolicy.FLATTEN_ON_RECOVERY:
            repo.set_kill_switch(KillSwitch.HALTED, "exchange was down: flattened on recovery")
            repo.set_control(FLATTEN_REQUEST, "1")
        elif self.policy is DowntimePolicy.HALT:
            repo.set_kill_switch(KillSwitch.HALTED, "exchange was down: halted by policy")
        return self.policy


_STRICTNESS = {KillSwitch.ACTIVE: 0, KillSwitch.REDUCING: 1, KillSwitch.HALTED: 2}


def start_kill_switch(engine: TradingEngine, repo: Repository) -> None:
    """Save the stricter of the configured kill switch (``risk.kill_switch``, which the
    engine was built with) and the saved one, at every start.

    Each cycle hands the engine the saved switch (another process may set it), so a
    configured ``reducing`` or ``halted`` never saved would be ACTIVE from the first bar.
    A saved stricter switch (an operator's stop) stays; ``tradebot resume`` lifts either
    until the next start.
    """
    configured, saved = engine.kill_switch, repo.kill_switch()
    if _STRICTNESS[configured] > _STRICTNESS[saved]:
        repo.set_kill_switch(
            configured,
            f"risk.kill_switch: {configured.value.lower()} in the config "
            "(`tradebot resume` lifts it until the next start)",
        )


def kill_switch_at_cycle(saved: KillSwitch, unsaved: bool) -> KillSwitch:
    """The kill switch a cycle trades under: the saved one, and no new entries (REDUCING)
    while a step could not be saved (``unsaved``)."""
    level = KillSwitch(saved.value)
    return KillSwitch.REDUCING if unsaved and level is KillSwitch.ACTIVE else level


def restore_day(engine: TradingEngine, repo: Repository, last_close_ms: int) -> None:
    """Resume the loss accounting of the UTC day of the last bar processed, if saved."""
    day = (last_close_ms - 1) // DAY_MS
    saved = repo.day_start_equity(day * DAY_MS)
    if saved is not None:
        engine.handle(DayRestored(day, saved))


def restore_locks(engine: TradingEngine, saved: Sequence[SavedLock]) -> None:
    """Hand the engine the saved locks still in force at the bar about to be decided
    (``Repository.controls`` reads them).

    Each cycle, before the bar is decided: after a restart the engine gets its locks back,
    and a lock a person lifted (``tradebot locks unlock``) is gone from the next bar on. The
    locks the engine set are saved with the step that set them, so none is missing here.
    """
    engine.handle(LocksRestored(tuple(s.lock for s in saved)))


def save_day(engine: TradingEngine, repo: Repository, saved_day: int) -> int:
    """Save the day-start equity when the engine has rolled into a new UTC day."""
    day = engine.utc_day
    if day >= 0 and day != saved_day:
        repo.set_day_start_equity(day * DAY_MS, Decimal(engine.day_start_equity))
    return day


def record_skipped(
    engine: TradingEngine,
    repo: Repository,
    marks: Mapping[str, Decimal],
    timeframe: str,
    symbol: str,
    stale: Sequence[Candle],
    reason: str,
) -> None:
    """Record the ``stale`` bars of one symbol as decided without trading, each with a
    decision saying why and the account valued at its close (each other holding at its
    newest close in ``marks``), and the last of them as the symbol's last bar decided."""
    portfolio = engine.portfolio
    cash, held = float(portfolio.cash), float(engine.view.held_qty(symbol))
    with repo.transaction() as tx:
        for candle in stale:
            closes = {**marks, symbol: Decimal(repr(candle.close))}
            equity = float(portfolio_snapshot(portfolio, candle.ts_ms, closes).equity)
            tx.append_decision(Decision.skipped(candle.ts_ms, symbol, reason, (equity, cash, held)))
        tx.set_last_bar_ts(symbol, timeframe, stale[-1].ts_ms)


def portfolio_snapshot(
    portfolio: Portfolio, ts_ms: int, closes: Mapping[str, Decimal]
) -> PortfolioSnapshot:
    """The account at the close of bar ``ts_ms``, for the snapshots table (the equity curve
    after restarts): each holding at its symbol's newest close in ``closes`` (at its average
    price until its symbol has closed a bar since the start)."""
    marks = {s: closes.get(s, p.avg_price) for s, p in portfolio.positions.items()}
    held = {s: p.qty for s, p in portfolio.positions.items()}
    return PortfolioSnapshot(
        ts_ms, portfolio.cash, portfolio.equity(marks), portfolio.exposure(marks), held
    )
