"""Positions as a trader sees them: fee dust below the market's minimum amount is flat.

A round trip leaves the rounding of the buy's fee behind (Binance charges it in the base
asset); that dust cannot be sold and needs no stop, so it opens no trade, ages into no
warning and cannot be force-exited (the same rule ``tradebot status`` shows).
"""

from __future__ import annotations

from tradebot.backtest.markets import backtest_market
from tradebot.state.repository import Repository
from tradebot.state.rows import SavedPosition


def held_positions(repo: Repository) -> list[SavedPosition]:
    """Open positions of at least the market's minimum amount, by symbol."""
    return [
        saved
        for saved in repo.positions(open_only=True)
        if saved.position.qty >= backtest_market(saved.position.symbol).min_qty
    ]
