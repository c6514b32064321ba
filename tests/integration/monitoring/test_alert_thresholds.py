"""``monitoring.alerts.daily_loss`` and ``max_api_latency_ms`` are the lines a monitor built
from the config acts on: crossing one delivers the alert by e-mail (a real SMTP server on
loopback), and the same facts under another setting deliver nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest

from paper_venue import FAST_RETRY, KEY, SECRET, sandbox
from smtp_standin import Inbox, smtp_standin
from tradebot.config import Config
from tradebot.exchange.ccxt.credentials import Credentials
from tradebot.exchange.ccxt.factory import ConnectSettings, Venue, connect
from tradebot.exchange.ccxt.metrics import ConnectorMetrics
from tradebot.monitoring.service import Monitor
from tradebot.sandbox.config import FaultConfig
from tradebot.state import PortfolioSnapshot, Repository, create_database

HOUR = 3_600_000
T0 = 1_733_011_200_000  # 2024-12-01T00:00Z


@contextmanager
def _emailed(tmp_path: Path, **monitoring: object) -> Iterator[tuple[Config, Inbox]]:
    # A config whose alerts go by e-mail to the SMTP stand-in, with ``monitoring`` keys.
    with smtp_standin(tmp_path) as (inbox, port, ca):
        email = {"smtp_host": "127.0.0.1", "smtp_port": port, "from_addr": "bot@example.com",
                 "to_addrs": ["you@example.com"], "ca_file": str(ca)}  # fmt: skip
        risk = monitoring.pop("risk", {})
        config = Config.model_validate({"monitoring": {"email": email, **monitoring}, "risk": risk})
        yield config, inbox


def _subjects(inbox: Inbox) -> list[str]:
    return [m.get("Subject", "").strip() for _e, m, _tls in inbox.messages]


def _snapshot(repo: Repository, ts_ms: int, equity: str) -> None:
    value = Decimal(equity)
    repo.record_snapshot(PortfolioSnapshot(ts_ms, value, value, Decimal(0), {}))


@pytest.mark.parametrize(
    ("daily_loss", "max_daily_loss", "alerted"),
    [("50", "500", True), ("150", "500", False), (None, "80", True)],
    ids=["alerts.daily_loss-crossed", "alerts.daily_loss-not-crossed", "unset-risk-limit"],
)
async def test_daily_loss_is_the_loss_today_that_is_alerted(
    tmp_path: Path, daily_loss: str | None, max_daily_loss: str, alerted: bool
) -> None:
    # Arrange: a day that starts at 10000; a monitor watching from there
    db = tmp_path / "bot.db"
    repo = Repository(create_database(db))
    repo.set_day_start_equity(T0, Decimal(10000))
    _snapshot(repo, T0, "10000")
    alerts = {} if daily_loss is None else {"daily_loss": daily_loss}
    with _emailed(tmp_path, alerts=alerts, risk={"max_daily_loss": max_daily_loss}) as (
        config,
        inbox,
    ):
        monitor = Monitor.build(config, create_database(db))
        await monitor.flush()
        # Act: 100 lost by the next bar
        _snapshot(repo, T0 + HOUR, "9900")
        await monitor.flush()
        await monitor.close()
    # Assert
    hit = [s for s in _subjects(inbox) if s.startswith("[tradebot critical] Daily loss limit hit")]
    assert len(hit) == (1 if alerted else 0), _subjects(inbox)


@pytest.mark.parametrize(("limit_ms", "alerted"), [(40, True), (5000, False)])
async def test_max_api_latency_ms_is_the_average_that_is_alerted(
    tmp_path: Path, limit_ms: int, alerted: bool
) -> None:
    # Arrange: a sandbox that answers each request 80 ms late, and a monitor reading the
    # connector's own timings, as `tradebot run` builds it
    db = tmp_path / "bot.db"
    create_database(db)
    metrics = ConnectorMetrics()
    async with sandbox(FaultConfig(latency_ms=80)) as server:
        settings = ConnectSettings(
            venue=Venue.SANDBOX, sandbox_url=server.http_url, websockets=False,
            retry=FAST_RETRY, runtime_dir=tmp_path / "rt",
        )  # fmt: skip
        connector = connect(settings, Credentials(KEY, SECRET), metrics)
        with _emailed(tmp_path, alerts={"max_api_latency_ms": limit_ms}) as (config, inbox):
            monitor = Monitor.build(config, create_database(db), metrics)
            await monitor.flush()
            # Act: three calls, each at least 80 ms
            for _ in range(3):
                await connector.fetch_time()
            await monitor.flush()
            await monitor.close()
        await connector.close()
    # Assert
    slow = [s for s in _subjects(inbox) if s.startswith("[tradebot warning] Exchange API slow")]
    assert len(slow) == (1 if alerted else 0), _subjects(inbox)
