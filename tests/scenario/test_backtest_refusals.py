"""An order the venue refuses or expires is counted and shown, never lost silently.

An all-in entry is sized at the signal bar's close; its market order fills at the next
open. When that open is higher than the cash allows, the simulated venue expires the order
(as Binance refuses a market buy the balance does not cover). Drawn as a few hand-written
bars: an up bar (BUY at its close, 101), then the next bar opens higher.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from typer.testing import CliRunner

from tradebot.backtest.report.saved import saved_session
from tradebot.backtest.session import run_backtest
from tradebot.cli import build_app
from tradebot.config import load_config, with_overrides
from tradebot.domain.orders import OrderStatus
from tradebot.monitoring.explain import explain
from tradebot.orchestrator.paper import PaperSetup, paper_session
from tradebot.state import Repository, create_database

STRATEGY = Path(__file__).parents[1] / "resources/strategies/bar_direction.py"
T0 = 1_735_689_600_000  # 2025-01-01 00:00 UTC
HOUR_MS = 3_600_000
ALL_IN = f"""\
strategy:
  name: {STRATEGY}:BarDirection
risk:
  position_sizing_method: fixed_notional   # always max_position_size: the cash caps it
  max_position_size: 1000000
  max_portfolio_exposure: 1000000
  stop_loss_method: none
"""


def write_bars(path: Path, next_open: float) -> Path:
    """Flat at 100, an up bar to 101 (BUY), then bars at ``next_open``."""
    bars = [(100.0,) * 4] * 5 + [(100.0, 101.0, 100.0, 101.0)] + [(next_open,) * 4] * 6
    rows = [f"{T0 + i * HOUR_MS},{o},{h},{lo},{c},1" for i, (o, h, lo, c) in enumerate(bars)]
    text = "timestamp,open,high,low,close,volume\n" + "\n".join(rows) + "\n"
    path.write_bytes(gzip.compress(text.encode()))
    return path


def test_backtest_entry_expired_at_the_next_open_is_counted_and_shown_with_its_reason(
    tmp_path: Path,
) -> None:
    # Arrange: the next open is 2 % above the close the entry was sized at
    data = write_bars(tmp_path / "BTCUSDT-1h.csv.gz", next_open=103.0)
    config = tmp_path / "all_in.yaml"
    config.write_text(ALL_IN, encoding="utf-8")
    reports = tmp_path / "reports"
    # Act
    result = CliRunner().invoke(
        build_app(),
        ["backtest", "-c", str(config), "--data", str(data), "--report-dir", str(reports)],
        env={"COLUMNS": "250"},
    )
    # Assert: the console counts it and says which order and why
    output = result.output
    assert result.exit_code == 0, output
    row = next(line for line in output.splitlines() if "Orders refused or expired" in line)
    assert row.split("│")[2].strip() == "1"
    assert "tb-BTCUSDT-1735707600000-en" in output  # the entry decided at bar 5's close
    assert "expired" in output
    assert "insufficient USDT at fill" in output
    # the HTML report shows it in its summary, the decision log beside its decision
    html = (reports / "latest" / "report.html").read_text()
    assert "Orders refused or expired (1)" in html
    assert "insufficient USDT at fill" in html
    log = (reports / "latest/decisions.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in log]
    entry = next(r for r in records if r["signal"]["reason"] == "up bar")
    assert [(o["client_order_id"], o["status"]) for o in entry["orders_refused"]] == [
        ("tb-BTCUSDT-1735707600000-en", "expired")
    ]
    assert "insufficient USDT at fill" in entry["orders_refused"][0]["reason"]
    metrics = json.loads((reports / "latest/metrics.json").read_text())
    assert metrics["metrics"]["rejected_orders"] == 1


def test_backtest_cash_buffer_keeps_an_all_in_entry_that_opens_higher(tmp_path: Path) -> None:
    # Arrange: the next open is 0.5 % above the signal close
    data = write_bars(tmp_path / "BTCUSDT-1h.csv.gz", next_open=101.5)
    path = tmp_path / "all_in.yaml"
    path.write_text(ALL_IN, encoding="utf-8")
    config = load_config(path)
    no_buffer = with_overrides(config, {"risk.cash_buffer_pct": 0.0}, "test")
    # Act
    kept = run_backtest(config, files=[data]).result
    lost = run_backtest(no_buffer, files=[data]).result
    # Assert: the default buffer (1 %) leaves room for the higher open; none loses the entry
    assert [f.price for f in kept.fills] == [101.5]
    assert kept.rejected_orders == 0
    assert float(kept.fills[0].qty) * 101.0 <= 10_000 * 0.99  # 1 % of the cash held back
    assert lost.fills == []
    assert lost.rejected_orders == 1


async def test_paper_entry_the_venue_refuses_is_saved_with_the_venues_reason(
    tmp_path: Path,
) -> None:
    # Arrange: the same all-in entry, no cash buffer, traded on paper through ccxt and the
    # sandbox: the venue refuses the market buy the cash does not cover at the next open
    data = write_bars(tmp_path / "BTCUSDT-1h.csv.gz", next_open=103.0)
    path = tmp_path / "all_in.yaml"
    path.write_text(ALL_IN, encoding="utf-8")
    config = with_overrides(load_config(path), {"risk.cash_buffer_pct": 0.0}, "test")
    db = tmp_path / "paper.db"
    setup = PaperSetup({"BTC/USDT": data}, start_index=3, database_url=f"sqlite:///{db}")
    # Act
    async with paper_session(config, setup) as session:
        await session.replay(5)
    # Assert: the order row says it was rejected, and why, in the venue's words
    repo = Repository(create_database(f"sqlite:///{db}"))
    (entry,) = repo.orders("BTC/USDT")
    assert entry.client_order_id == "tb-BTCUSDT-1735707600000-en"
    assert entry.status is OrderStatus.REJECTED
    assert "insufficient balance" in entry.status_reason
    assert repo.fills() == []
    explained = "\n".join(explain("2025-01-01 05:00", repo, "BTC/USDT"))  # `tradebot explain`
    assert "→ rejected" in explained
    assert "insufficient balance" in explained
    session = saved_session(  # what `tradebot report --db` reads
        repo, mode="paper", timeframe="1h", strategy_name="bar_direction", strategy_config={}
    )
    assert [(r.client_order_id, r.status) for r in session.refused] == [
        ("tb-BTCUSDT-1735707600000-en", OrderStatus.REJECTED)
    ]
    assert "insufficient balance" in session.refused[0].reason
