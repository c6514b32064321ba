"""Balances of the sandbox's one account: free and locked amounts per asset."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from tradebot.sandbox.errors import INSUFFICIENT_BALANCE, ApiError
from tradebot.sandbox.markets import fmt


@dataclass(slots=True)
class Account:
    """Free and locked balances; locking is how open orders reserve what they may spend."""

    free: dict[str, Decimal] = field(default_factory=dict)
    locked: dict[str, Decimal] = field(default_factory=dict)
    update_ms: int = 0

    def lock(self, asset: str, amount: Decimal) -> None:
        """Move ``amount`` from free to locked.

        Raises:
            ApiError: -2010 insufficient balance.
        """
        if self.free.get(asset, Decimal(0)) < amount:
            raise ApiError(-2010, INSUFFICIENT_BALANCE)
        self.free[asset] -= amount
        self.locked[asset] = self.locked.get(asset, Decimal(0)) + amount

    def unlock(self, asset: str, amount: Decimal) -> None:
        """Return ``amount`` of a lock to free."""
        if amount <= 0:
            return
        self.locked[asset] -= amount
        self.free[asset] = self.free.get(asset, Decimal(0)) + amount

    def spend_locked(self, asset: str, amount: Decimal) -> None:
        """Pay ``amount`` out of a lock (a fill of an order that locked it)."""
        self.locked[asset] -= amount

    def credit(self, asset: str, amount: Decimal) -> None:
        """Add to the free balance."""
        self.free[asset] = self.free.get(asset, Decimal(0)) + amount

    def has_free(self, asset: str, amount: Decimal) -> bool:
        """True when ``amount`` of ``asset`` is free."""
        return self.free.get(asset, Decimal(0)) >= amount

    def assets(self) -> list[str]:
        """Every asset the account has held, sorted."""
        return sorted(set(self.free) | set(self.locked))

    def row(self, asset: str) -> dict[str, str]:
        """One entry of ``balances`` in ``GET /api/v3/account``."""
        return {
            "asset": asset,
            "free": fmt(self.free.get(asset, Decimal(0))),
            "locked": fmt(self.locked.get(asset, Decimal(0))),
        }
