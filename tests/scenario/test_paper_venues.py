"""Two venues, one portfolio: two sandboxes under two exchange ids, each with its own cash,
traded by one bot through the real path (ccxt over 127.0.0.1), make the trades of the
basket backtest of the same bars, and every row says which venue it belongs to."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from basket_markets import write_markets
from tradebot.config import Config, load_config, with_overrides
from tradebot.parity import QUICK_STRATEGY, basket_paper_vs_backtest
from tradebot.state import create_database
from tradebot.state.tables import DecisionRow, FillRow, OrderRow

VENUES = {
    "binance": {"symbols": ["BTC/USDT"], "starting_cash": 10_000},
    "binance_b": {"symbols": ["ETH/USDT", "SOL/USDT"], "starting_cash": 3_000},
}
VENUE_OF = {s: v for v, spec in VENUES.items() for s in spec["symbols"]}  # type: ignore[attr-defined]


def venues_config() -> Config:
    overrides: dict[str, object] = {
        **QUICK_STRATEGY,
        "exchange.venues": VENUES,
        "trading.symbols": list(VENUE_OF),
        "risk.max_open_positions": 3,
        "risk.stop_loss_method": "fixed_pct",
        "risk.stop_loss_pct": 0.01,
    }
    return with_overrides(load_config(None), overrides, "test")


async def test_paper_two_venues_same_trades_as_the_basket_backtest(tmp_path: Path) -> None:
    # Arrange: three markets on two sandboxes, 10,000 USDT on one and 3,000 on the other
    files = write_markets(tmp_path, 260)
    db = tmp_path / "p.db"
    # Act: 150 bars through the real path, then the basket backtest of what it saw
    comparison = await basket_paper_vs_backtest(
        venues_config(), files, start_index=60, bars=150, database_url=f"sqlite:///{db}"
    )
    # Assert: the same trades, field by field, and the same equity
    assert comparison.differences == []
    assert comparison.paper_equity == comparison.backtest_equity
    assert {t.symbol for t in comparison.paper_trades} == set(VENUE_OF)
    with create_database(f"sqlite:///{db}").engine.connect() as conn:
        for table in (OrderRow, FillRow, DecisionRow):
            pairs = set(conn.execute(select(table.symbol, table.venue).distinct()).all())
            assert pairs == set(VENUE_OF.items()), table.__tablename__


async def test_paper_two_venues_entries_sized_on_their_own_venues_cash(tmp_path: Path) -> None:
    # Arrange: the venue with 3,000 USDT could not pay for what the other's 10,000 buys
    files = write_markets(tmp_path, 200)
    big = {"risk.max_position_size": 8_000, "risk.max_portfolio_exposure": 20_000}
    config = with_overrides(venues_config(), big, "test")
    # Act
    comparison = await basket_paper_vs_backtest(config, files, start_index=60, bars=80)
    # Assert: every entry on binance_b cost at most its 3,000 (and the backtest agrees)
    assert comparison.differences == []
    b_costs = [
        t.qty * t.entry_price for t in comparison.paper_trades if VENUE_OF[t.symbol] != "binance"
    ]
    a_costs = [
        t.qty * t.entry_price for t in comparison.paper_trades if VENUE_OF[t.symbol] == "binance"
    ]
    assert b_costs
    assert a_costs
    assert max(b_costs) <= Decimal(3_000)
    assert max(a_costs) > Decimal(3_000)
