"""Keep the account across restarts: balances, orders, trades and the clock in a JSON file."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from tradebot.domain.errors import DataError
from tradebot.sandbox.orders import OrderRecord, TradeRecord
from tradebot.sandbox.venue import Venue

_VERSION = 1
_R = TypeVar("_R", OrderRecord, TradeRecord)


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def save(venue: Venue, path: Path) -> None:
    """Write the state atomically (temp file + rename), so a crash never leaves half a file."""
    engine = venue.engine
    state = {
        "version": _VERSION,
        "now_ms": venue.now_ms,
        "free": venue.account.free,
        "locked": venue.account.locked,
        "account_update_ms": venue.account.update_ms,
        "next_order_id": engine.next_order_id,
        "next_trade_id": engine.next_trade_id,
        "next_list_id": engine.next_list_id,
        "orders": [asdict(o) for o in engine.orders.values()],
        "trades": [asdict(t) for t in engine.trades],
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(_plain(state), indent=1))
    tmp.replace(path)


def _record(cls: type[_R], row: dict[str, object]) -> _R:
    kwargs: dict[str, object] = {}
    for f in fields(cls):
        if f.name not in row:  # a field added since the file was written keeps its default
            continue
        value = row[f.name]
        kwargs[f.name] = Decimal(str(value)) if f.type in ("Decimal", Decimal) else value
    return cls(**kwargs)  # type: ignore[arg-type]  # fields checked above by name


@dataclass(frozen=True, slots=True)
class SavedAccount:
    """What a snapshot file holds, read without building a venue (to tell a person)."""

    now_ms: int
    balances: dict[str, Decimal]
    """Free plus locked, per asset."""
    orders: int
    trades: int


def _load(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except ValueError as e:
        raise DataError(
            f"snapshot {path} is not valid JSON ({e}); move it away to start fresh"
        ) from e
    if state.get("version") != _VERSION:
        raise DataError(f"snapshot {path} has version {state.get('version')}, expected {_VERSION}")
    return state


def read_account(path: Path) -> SavedAccount | None:
    """The account a snapshot file keeps; None when there is no file.

    Raises:
        DataError: the file is unreadable or from another version.
    """
    state = _load(path)
    if state is None:
        return None
    balances: dict[str, Decimal] = {}
    for part in ("free", "locked"):
        for asset, amount in state[part].items():
            balances[asset] = balances.get(asset, Decimal(0)) + Decimal(amount)
    return SavedAccount(int(state["now_ms"]), balances, len(state["orders"]), len(state["trades"]))


def restore(venue: Venue, path: Path) -> bool:
    """Load a saved state into a freshly built venue; False when there is no file yet.

    Raises:
        DataError: the file is unreadable or from another version.
    """
    state = _load(path)
    if state is None:
        return False
    venue.reset_clock(int(state["now_ms"]))
    engine = venue.engine
    venue.account.free = {k: Decimal(v) for k, v in state["free"].items()}
    venue.account.locked = {k: Decimal(v) for k, v in state["locked"].items()}
    venue.account.update_ms = int(state["account_update_ms"])
    engine.next_order_id = int(state["next_order_id"])
    engine.next_trade_id = int(state["next_trade_id"])
    engine.next_list_id = int(state.get("next_list_id", 1))
    engine.orders = {int(r["order_id"]): _record(OrderRecord, r) for r in state["orders"]}
    engine.client_ids = {o.client_id: o.order_id for o in engine.orders.values()}  # newest wins
    engine.trades = [_record(TradeRecord, r) for r in state["trades"]]
    return True
