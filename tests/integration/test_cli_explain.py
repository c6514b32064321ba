"""``tradebot explain``: a trade or a time explained from the database a paper replay wrote."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from processes import NO_KEYS
from tradebot.cli import build_app
from tradebot.state import Repository, create_database

QUICK = (
    "exchange:\n  sandbox:\n    port: 0\n"
    "strategy:\n  params: {fast_period: 3, slow_period: 8, rsi_threshold: 100}\n"
)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(build_app(), list(args), env=NO_KEYS)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Repository]:
    """A paper replay of 100 bars with a quick strategy: a few trades in the database."""
    folder = tmp_path_factory.mktemp("explain")
    config, db = folder / "config.yaml", folder / "bot.db"
    config.write_text(QUICK, encoding="utf-8")
    code, out, _ = invoke("run", "--mode", "paper", "--replay", "--bars", "100", "-c", str(config),
                          "--db", str(db))  # fmt: skip
    assert code == 0, out
    return db, Repository(create_database(f"sqlite:///{db}"))


def _utc(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def test_explain_trade_id_prints_trade_decisions_orders_and_fills(
    replayed: tuple[Path, Repository],
) -> None:
    # Arrange
    db, repo = replayed
    trade = repo.trade(1)
    assert trade is not None
    entry_fill = next(f for f in repo.fills() if f.ts_ms == trade.entry_ts_ms)
    # Act
    code, out, _ = invoke("explain", "1", "--db", str(db))
    # Assert
    assert code == 0, out
    assert f"trade 1  BTC/USDT  size {trade.qty}" in out
    assert f"entry   {_utc(trade.entry_ts_ms)} @ {trade.entry_price}" in out
    assert f"pnl     {trade.pnl} after fees {trade.fees}" in out
    assert "signal      BUY" in out
    assert "risk        approved" in out
    assert f"order       {entry_fill.client_order_id}  buy market" in out
    assert f"{entry_fill.qty} @ {entry_fill.price}" in out
    assert "pass  " in out  # each risk check with its verdict


def test_explain_time_prints_the_decision_of_the_bar_open_then(
    replayed: tuple[Path, Repository],
) -> None:
    # Arrange: a decision that proposed an order, asked at a minute inside its bar
    db, repo = replayed
    entry = next(e for e in repo.decision_entries() if e.decision.verdict is not None)
    decision = entry.decision
    assert decision.verdict is not None
    moment = datetime.fromtimestamp((decision.ts_ms + 60_000) / 1000, tz=UTC)
    # Act
    code, out, _ = invoke("explain", moment.strftime("%Y-%m-%d %H:%M"), "--db", str(db))
    # Assert
    assert code == 0, out
    assert f"decision {entry.id}  BTC/USDT  bar {_utc(decision.ts_ms)}" in out
    assert f"{decision.signal.action} (confidence" in out
    assert decision.signal.reason in out
    for name in decision.indicators:
        assert f"{name}=" in out
    for check in decision.verdict.checks:
        assert f"{check.name}: {check.detail}" in out
    assert f"action      {decision.action}" in out
    for client_order_id in decision.client_order_ids:
        assert client_order_id in out


@pytest.mark.parametrize(
    ("what", "message"),
    [
        ("999", "no trade 999 in the database"),
        ("yesterday", "is neither a trade id nor a time"),
        ("1990-01-01T00:00", "no decision at or before 1990-01-01 00:00:00 UTC"),
    ],
)
def test_explain_unknown_trade_or_bad_time_is_refused_with_the_reason(
    replayed: tuple[Path, Repository], what: str, message: str
) -> None:
    # Act
    code, _, err = invoke("explain", what, "--db", str(replayed[0]))
    # Assert
    assert code == 2
    assert message in err


def test_explain_missing_database_names_it(tmp_path: Path) -> None:
    code, _, err = invoke("explain", "1", "--db", str(tmp_path / "absent.db"))
    assert code == 2
    assert "absent.db" in err
