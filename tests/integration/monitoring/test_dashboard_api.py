"""The dashboard's REST API over a real SQLite bot database: what it shows, who may act.

Requests go through httpx's ASGI transport into the same application uvicorn serves; the
Chromium test drives it over a real socket.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from dashboard_parts import ENTRY, PASSWORDS, TS, bot_database, dashboard_app, users
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from tradebot.domain.alerts import Alert, AlertRule
from tradebot.monitoring.figures import FiguresReader
from tradebot.state import Database, KillSwitchLevel, Repository
from tradebot.state.outbox import AlertOutbox

HEADERS = {"X-Tradebot-Request": "1"}


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    return bot_database(tmp_path / "bot.db")


def TestClient(app: FastAPI) -> AsyncClient:
    return AsyncClient(transport=ASGITransport(app), base_url="http://127.0.0.1")


async def logged_in(client: AsyncClient, name: str) -> AsyncClient:
    answer = await client.post(
        "/api/login", json={"name": name, "password": PASSWORDS[name]}, headers=HEADERS
    )
    assert answer.status_code == 200, answer.text
    return client


async def test_api_without_users_shows_state_to_loopback_viewers(repo: Repository) -> None:
    # Arrange
    client = TestClient(dashboard_app(repo))
    # Act
    overview = (await client.get("/api/overview")).json()
    positions = (await client.get("/api/positions")).json()
    candles = (await client.get("/api/candles")).json()
    equity = (await client.get("/api/equity")).json()
    # Assert
    assert overview["kill_switch"] == "ACTIVE"
    assert (overview["role"], overview["may_operate"]) == ("viewer", False)
    assert overview["equity"] == "10000.1"
    assert [(p["symbol"], p["qty"], p["stop_price"]) for p in positions] == [
        ("BTC/USDT", "0.024975", "39800")  # the fee was paid in BTC
    ]
    assert positions[0]["mark_price"] == 40_200.0
    assert candles["close"] == [40_000.0, 40_100.0, 40_200.0]
    assert list(candles["overlays"]) == ["ema_fast"]
    assert candles["oscillators"]["risk_atr"] == [
        None,
        None,
        None,
    ]  # NaN warm-up: null, not an error
    assert [(m["side"], m["price"]) for m in candles["markers"]] == [("buy", 40_210.0)]
    assert equity["buy_and_hold"] == [10_000.0, 10_025.0, 10_050.0]
    assert equity["drawdown"] == [0.0, 0.0, 0.0]


async def test_decision_explanation_has_signal_checks_order_and_fill(repo: Repository) -> None:
    # Arrange
    client = TestClient(dashboard_app(repo))
    acted = (await client.get("/api/decisions", params={"acted_only": True})).json()
    # Act
    found = (await client.get(f"/api/decisions/{acted[0]['id']}")).json()
    # Assert
    assert [d["action"] for d in acted] == ["buy 0.025"]
    assert (found["signal"], found["reason"], found["verdict"]) == (
        "BUY",
        "EMA3 golden cross EMA8",
        "approved",
    )
    assert [(c["name"], c["passed"]) for c in found["checks"]] == [
        ("max_exposure", True),
        ("daily_loss", True),
    ]
    assert found["indicators"]["rsi"] == 61.5
    assert [o["client_order_id"] for o in found["orders"]] == [ENTRY]
    assert [(f["qty"], f["price"]) for f in found["orders"][0]["fills"]] == [("0.025", "40210")]
    assert "    pass  max_exposure: exposure 1000 <= 5000" in found["text"]
    assert (await client.get("/api/decisions/999")).status_code == 404


async def test_control_without_login_is_refused_and_changes_nothing(repo: Repository) -> None:
    # Arrange: no users configured (loopback viewers), then users configured
    for client in (TestClient(dashboard_app(repo)), TestClient(dashboard_app(repo, users=users()))):
        # Act
        asked = await client.post("/api/controls/stop", headers=HEADERS)
        confirmed = await client.post("/api/controls/confirm", json={"token": "x"}, headers=HEADERS)
        # Assert
        assert asked.status_code == 401, asked.text
        assert "operator" in asked.json()["detail"]
        assert confirmed.status_code == 401
    assert repo.kill_switch() is KillSwitchLevel.ACTIVE
    assert repo.control_actions() == []


async def test_state_changing_request_without_the_dashboard_header_is_refused(
    repo: Repository,
) -> None:
    # Arrange: what a form on another site could send with the operator's cookie
    client = await logged_in(TestClient(dashboard_app(repo, users=users())), "olga")
    # Act
    answer = await client.post("/api/controls/stop")
    # Assert
    assert answer.status_code == 403
    assert "X-Tradebot-Request" in answer.json()["detail"]
    assert repo.kill_switch() is KillSwitchLevel.ACTIVE


async def test_with_users_every_read_needs_a_login(repo: Repository) -> None:
    # Arrange
    client = TestClient(dashboard_app(repo, users=users()))
    # Act
    reads = [
        (await client.get(f"/api/{path}")).status_code
        for path in ("overview", "positions", "trades", "events")
    ]
    wrong = await client.post(
        "/api/login", json={"name": "olga", "password": "nope"}, headers=HEADERS
    )
    unknown = await client.post(
        "/api/login", json={"name": "mallory", "password": "x"}, headers=HEADERS
    )
    # Assert
    assert reads == [401, 401, 401, 401]
    assert (wrong.status_code, unknown.status_code) == (401, 401)
    assert (await client.get("/api/session")).json()["login_required"] is True


async def test_viewer_asking_for_a_control_is_refused_and_audited(repo: Repository) -> None:
    # Arrange
    client = await logged_in(TestClient(dashboard_app(repo, users=users())), "vic")
    # Act
    answer = await client.post("/api/controls/flatten", headers=HEADERS)
    # Assert
    assert answer.status_code == 403
    assert repo.kill_switch() is KillSwitchLevel.ACTIVE
    [row] = repo.control_actions()
    assert (row.actor, row.role, row.action, row.outcome) == ("vic", "viewer", "flatten", "refused")


async def test_operator_stop_entries_needs_the_confirmation_and_is_audited(
    repo: Repository,
) -> None:
    # Arrange
    client = await logged_in(TestClient(dashboard_app(repo, users=users())), "olga")
    # Act
    asked = (await client.post("/api/controls/stop_entries", headers=HEADERS)).json()
    before_confirm = repo.kill_switch()
    done = await client.post(
        "/api/controls/confirm", json={"token": asked["token"]}, headers=HEADERS
    )
    again = await client.post(
        "/api/controls/confirm", json={"token": asked["token"]}, headers=HEADERS
    )
    # Assert
    assert before_confirm is KillSwitchLevel.ACTIVE
    assert "opens no new positions" in asked["prompt"]
    assert done.status_code == 200, done.text
    assert done.json()["kill_switch_after"] == "REDUCING"
    assert repo.kill_switch() is KillSwitchLevel.REDUCING
    assert repo.kill_switch_reason() == "stop entries by olga (dashboard)"
    assert again.status_code == 409
    [row] = repo.control_actions()
    assert (row.actor, row.channel, row.action, row.outcome) == (
        "olga",
        "dashboard",
        "stop_entries",
        "done",
    )
    assert (row.kill_switch_before, row.kill_switch_after) == ("ACTIVE", "REDUCING")
    assert (await client.get("/api/controls/audit")).json()[0]["action"] == "stop_entries"


async def test_flatten_then_resume_writes_the_flatten_request_the_bot_reads(
    repo: Repository,
) -> None:
    # Arrange
    client = await logged_in(TestClient(dashboard_app(repo, users=users())), "olga")

    async def act(action: str) -> None:
        token = (await client.post(f"/api/controls/{action}", headers=HEADERS)).json()["token"]
        assert (
            await client.post("/api/controls/confirm", json={"token": token}, headers=HEADERS)
        ).status_code == 200

    # Act / Assert
    await act("flatten")
    assert (repo.kill_switch(), repo.get_control("flatten_requested")) == (
        KillSwitchLevel.HALTED,
        "1",
    )
    await act("resume")
    assert (repo.kill_switch(), repo.get_control("flatten_requested")) == (
        KillSwitchLevel.ACTIVE,
        "0",
    )


async def test_cors_is_denied_by_default_and_allowed_only_for_configured_origins(
    repo: Repository,
) -> None:
    # Arrange
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "X-Tradebot-Request"}  # fmt: skip
    closed = TestClient(dashboard_app(repo))
    opened = TestClient(dashboard_app(repo, cors_origins=["https://ops.example"]))
    # Act
    denied = await closed.options("/api/controls/stop", headers=preflight)
    read = await closed.get("/api/overview", headers={"Origin": "https://evil.example"})
    other = await opened.options("/api/controls/stop", headers=preflight)
    allowed = await opened.options(
        "/api/controls/stop", headers={**preflight, "Origin": "https://ops.example"}
    )
    # Assert
    assert "access-control-allow-origin" not in denied.headers
    assert "access-control-allow-origin" not in read.headers
    assert "access-control-allow-origin" not in other.headers
    assert allowed.headers["access-control-allow-origin"] == "https://ops.example"


async def test_pages_forbid_framing_and_foreign_scripts_and_openapi_documents_the_api(
    repo: Repository,
) -> None:
    # Arrange
    client = TestClient(dashboard_app(repo))
    # Act
    page = await client.get("/")
    spec = (await client.get("/api/openapi.json")).json()
    # Assert
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert {
        "/api/positions",
        "/api/decisions/{decision_id}",
        "/api/controls/confirm",
        "/api/events",
    } <= set(spec["paths"])
    assert (await client.get("/static/plotly.min.js")).status_code == 200
    assert (await client.get("/static/../app.py")).status_code == 404


async def test_health_names_a_stale_bot_and_a_stopped_kill_switch(repo: Repository) -> None:
    # Arrange: the last decision was written "now" by the test clock; a stop follows
    client = TestClient(dashboard_app(repo))
    repo.set_kill_switch(KillSwitchLevel.HALTED, "tradebot stop")
    # Act
    health = (await client.get("/api/health")).json()
    # Assert
    assert health["status"] == "attention"
    assert "kill switch HALTED: tradebot stop" in health["problems"]
    assert health["last_decision_ts_ms"] == TS
    assert health["open_positions"] == 1


async def test_health_figures_are_the_numbers_metrics_exports(repo: Repository) -> None:
    # Arrange: the reader behind /metrics, on the same database
    expected = FiguresReader(repo).read()
    client = TestClient(dashboard_app(repo))
    # Act
    figures = (await client.get("/api/health")).json()["figures"]
    # Assert
    assert figures["equity"] == str(expected.snapshot.equity) == "10000.1"  # type: ignore[union-attr]
    assert figures["peak_equity"] == str(expected.peak_equity)
    assert figures["unrealised_pnl"] == str(expected.unrealised_pnl)
    assert figures["trades"] == expected.trades == 0
    assert figures["orders_by_status"] == {k.value: v for k, v in expected.orders.items()}


async def test_alerts_view_shows_the_outbox(repo: Repository) -> None:
    # Arrange: one critical alert written for Telegram, as the AlertManager writes it
    outbox = AlertOutbox(Database(repo.location))
    alert = Alert(AlertRule.ORDER_FAILED, ENTRY, "order failed", "refused by the venue")
    outbox.raise_alerts([(alert, {"telegram": False})], cooldown_ms=60_000)
    client = TestClient(dashboard_app(repo))
    # Act
    view = (await client.get("/api/alerts")).json()
    # Assert
    assert view["raised"] == 1
    assert view["deliveries"] == {"pending": 1, "sent": 0, "failed": 0}
    [entry] = view["recent"]
    assert (entry["rule"], entry["severity"], entry["channel"], entry["status"]) == (
        "order_failed", "critical", "telegram", "pending",
    )  # fmt: skip
