"""``tradebot exchange check``: can this bot trade on this account, safely?

Reports connectivity, clock skew, the markets and balances seen, and whether the key may
withdraw funds (where the exchange says; Binance: ``GET /sapi/v1/account/apiRestrictions``).
A key that can withdraw is refused: a trading bot never needs that power, and a leaked key
with it empties the account.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from tradebot.domain.errors import AuthenticationError, ExchangeError
from tradebot.exchange.ccxt.connector import CcxtConnector

MAX_SKEW_MS = 1000
"""Binance refuses signed requests whose timestamp is off by more than recvWindow; warn early."""


@dataclass(slots=True)
class CheckReport:
    """What the check found; ``problems`` empty means the account is fit to trade."""

    venue: str
    reachable: bool = False
    latency_ms: float | None = None
    skew_ms: int | None = None
    markets: list[str] = field(default_factory=list)
    balances: dict[str, str] = field(default_factory=dict)
    can_withdraw: bool | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing stops trading."""
        return not self.problems

    def lines(self) -> list[str]:
        """The report as aligned text lines (no secrets: none are ever put in it)."""
        withdraw = {None: "unknown (the exchange did not say)", True: "ENABLED", False: "disabled"}
        shown = ", ".join(self.markets[:8]) + (" ..." if len(self.markets) > 8 else "")
        money = ", ".join(f"{a} {v}" for a, v in self.balances.items()) or "none"
        rows = [
            ("exchange", self.venue),
            ("connected", f"yes ({self.latency_ms:.0f} ms)" if self.reachable else "NO"),
            ("clock skew", "n/a" if self.skew_ms is None else f"{self.skew_ms:+d} ms"),
            ("markets", f"{len(self.markets)} spot: {shown}" if self.markets else "none seen"),
            ("balances", money),
            ("withdrawals", withdraw[self.can_withdraw]),
        ]
        result = [f"{name:<12}{value}" for name, value in rows]
        result += [f"PROBLEM     {p}" for p in self.problems]
        result.append(f"{'result':<12}{'OK' if self.ok else 'REFUSED'}")
        return result


async def run_check(connector: CcxtConnector, venue: str) -> CheckReport:
    """Run every check; failures become ``problems`` in the report, never exceptions."""
    report = CheckReport(venue=venue)
    try:
        await _clock(connector, report)
        report.markets = sorted(await connector.load_markets())
    except ExchangeError as error:
        report.problems.append(f"cannot reach the exchange: {error}")
        return report
    try:
        balances = await connector.fetch_balance()
    except AuthenticationError as error:
        report.problems.append(f"the API key was refused: {error}")
        return report
    except ExchangeError as error:
        report.problems.append(f"cannot read balances: {error}")
        return report
    report.balances = {a: f"{b.total.normalize():f}" for a, b in balances.items() if b.total > 0}
    report.can_withdraw = await connector.withdrawal_permission()
    if report.can_withdraw:
        report.problems.append(
            "this API key may withdraw funds; create a key with withdrawals disabled "
            "(trading only) and restrict it to this machine's IP"
        )
    return report


async def _clock(connector: CcxtConnector, report: CheckReport) -> None:
    before = time.time() * 1000
    server_ms = await connector.fetch_time()
    after = time.time() * 1000
    report.reachable = True
    report.latency_ms = after - before
    report.skew_ms = round(server_ms - (before + after) / 2)
    # The server read its clock somewhere in the round trip, so the estimate is only good to
    # half of it: a slow answer on a loaded machine is not a wrong clock.
    if abs(report.skew_ms) - report.latency_ms / 2 > MAX_SKEW_MS:
        report.problems.append(
            f"clock skew {report.skew_ms:+d} ms exceeds {MAX_SKEW_MS} ms: sync the system "
            "clock (NTP) or signed requests will be refused (code -1021)"
        )
