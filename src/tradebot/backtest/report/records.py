"""The machine-readable files of a report: trades, fills, the decision log and the metrics.

Times are written twice: ISO 8601 in UTC for people and epoch milliseconds for programs.
Ledger amounts (``Decimal``) are written as exact fixed-point strings, never floats.
Non-finite floats (an indicator still warming up) become empty CSV cells or JSON ``null``.
Configuration values whose key names a secret are masked before anything is written.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from tradebot.backtest.breakdown import NO_REGIME
from tradebot.backtest.excursions import Excursion
from tradebot.backtest.metrics import PerformanceMetrics
from tradebot.backtest.result import BacktestResult, RefusedOrder
from tradebot.domain.decisions import Decision, MetadataValue
from tradebot.domain.orders import Fill
from tradebot.domain.portfolio import Trade

MASK = "***"
_SECRET_WORDS = ("key", "secret", "token", "password")
JsonValue = MetadataValue | list["JsonValue"] | dict[str, "JsonValue"]

TRADE_COLUMNS = (
    "symbol",
    "entry_time",
    "entry_ts_ms",
    "exit_time",
    "exit_ts_ms",
    "qty",
    "entry_price",
    "exit_price",
    "fees",
    "pnl",
    "return_pct",
    "duration_hours",
    "exit_reason",
    "entry_signal",
    "mae_pct",
    "mfe_pct",
    "entry_regime",
)
FILL_COLUMNS = (
    "time",
    "ts_ms",
    "client_order_id",
    "symbol",
    "side",
    "qty",
    "price",
    "notional",
    "fee",
    "fee_asset",
    "trade_id",
    "is_maker",
)


def iso_utc(ts_ms: int) -> str:
    """``2024-01-01T00:00:00Z``; milliseconds appear only when they are not zero."""
    moment = datetime.fromtimestamp(ts_ms / 1000, tz=UTC)
    spec = "milliseconds" if ts_ms % 1000 else "seconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")


def exact(value: Decimal) -> str:
    """A Decimal as a fixed-point string with no exponent (``1E+2`` → ``100``)."""
    return format(value, "f")


def is_secret_key(name: str) -> bool:
    """True when a config key looks like it holds a credential."""
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def masked(values: Mapping[str, MetadataValue]) -> dict[str, MetadataValue]:
    """A copy with every secret-looking key's value replaced by ``***``."""
    return {k: MASK if is_secret_key(k) else finite(v) for k, v in values.items()}


def finite(value: MetadataValue) -> MetadataValue:
    """NaN and ±inf become None, so JSON stays valid."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_trades_csv(
    path: Path,
    trades: Sequence[Trade],
    moves: Sequence[Excursion | None],
    entry_kinds: Sequence[str],
    entry_regimes: Sequence[str] | None = None,
) -> None:
    """One row per closed trade, in the order they closed, with the kind of signal that
    opened it, its MAE/MFE (empty when no bar covers it) and the regime it was opened in
    (empty without one)."""
    regimes = entry_regimes if entry_regimes is not None else [NO_REGIME] * len(trades)
    rows = (_trade_row(*row) for row in zip(trades, moves, entry_kinds, regimes, strict=True))
    _write_csv(path, TRADE_COLUMNS, rows)


def write_fills_csv(path: Path, fills: Iterable[Fill]) -> None:
    """One row per fill, in the order they happened."""
    _write_csv(path, FILL_COLUMNS, (_fill_row(f) for f in fills))


def write_decisions_jsonl(
    path: Path, decisions: Iterable[Decision], refused: Iterable[RefusedOrder] = ()
) -> None:
    """The decision log: one JSON object a line, in time order.

    Each decision lists the orders it placed that the venue refused or expired
    (``orders_refused``, with the venue's reason), so a lost entry shows beside its signal.
    """
    by_order: dict[str, list[RefusedOrder]] = {}
    for order in refused:
        by_order.setdefault(order.client_order_id, []).append(order)
    encode = json.JSONEncoder(allow_nan=False, separators=(",", ":")).encode
    with path.open("w", encoding="utf-8") as out:
        for decision in decisions:
            mine = [r for cid in decision.client_order_ids for r in by_order.get(cid, ())]
            out.write(encode(decision_record(decision, mine)) + "\n")


def write_metrics_json(path: Path, result: BacktestResult, metrics: PerformanceMetrics) -> None:
    """The run's identity, its (masked) settings and every metric."""
    record: dict[str, JsonValue] = {
        "symbol": result.symbol,
        "timeframe": result.timeframe,
        "strategy": result.strategy_name,
        "strategy_config": dict(masked(result.strategy_config)),
        "settings": dict(masked(result.settings)),
        "start": iso_utc(metrics.start_ts_ms),
        "end": iso_utc(metrics.end_ts_ms),
        "bars": result.n_bars,
        "metrics": {k: finite(v) for k, v in metrics.to_dict().items()},
    }
    path.write_text(json.dumps(record, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def decision_record(
    decision: Decision, refused: Iterable[RefusedOrder] = ()
) -> dict[str, JsonValue]:
    """One decision as plain JSON values, with its orders the venue refused or expired."""
    signal = decision.signal
    verdict = decision.verdict
    risk: JsonValue = None
    if verdict is not None:
        risk = {
            "approved": verdict.approved,
            "checks": [
                {"name": c.name, "passed": c.passed, "detail": c.detail} for c in verdict.checks
            ],
        }
    return {
        "ts": iso_utc(decision.ts_ms),
        "ts_ms": decision.ts_ms,
        "symbol": decision.symbol,
        "signal": {
            "action": signal.action.value,
            "confidence": finite(signal.confidence),
            "reason": signal.reason,
            "metadata": dict(masked(signal.metadata)),
            "members": [
                {
                    "name": m.name,
                    "action": m.action.value,
                    "confidence": finite(m.confidence),
                    "reason": m.reason,
                }
                for m in signal.members
            ],
        },
        "indicators": {k: finite(v) for k, v in decision.indicators.items()},
        "risk": risk,
        "action": decision.action,
        "client_order_ids": list(decision.client_order_ids),
        "equity": finite(decision.equity),
        "cash": finite(decision.cash),
        "position_qty": finite(decision.position_qty),
        "orders_refused": [
            {
                "client_order_id": r.client_order_id,
                "status": r.status.value,
                "reason": r.reason,
                "ts": iso_utc(r.ts_ms),
                "ts_ms": r.ts_ms,
            }
            for r in refused
        ],
    }


def _trade_row(
    trade: Trade, move: Excursion | None, entry_kind: str, regime: str
) -> list[str | int]:
    return [
        trade.symbol,
        iso_utc(trade.entry_ts_ms),
        trade.entry_ts_ms,
        iso_utc(trade.exit_ts_ms),
        trade.exit_ts_ms,
        exact(trade.qty),
        exact(trade.entry_price),
        exact(trade.exit_price),
        exact(trade.fees),
        exact(trade.pnl),
        f"{trade.return_pct:.6f}",
        f"{trade.duration_ms / 3_600_000:.6g}",
        trade.exit_reason,
        entry_kind,
        "" if move is None else f"{move.mae_pct:.6f}",
        "" if move is None else f"{move.mfe_pct:.6f}",
        "" if regime == NO_REGIME else regime,
    ]


def _fill_row(fill: Fill) -> list[str | int]:
    return [
        iso_utc(fill.ts_ms),
        fill.ts_ms,
        fill.client_order_id,
        fill.symbol,
        fill.side.value,
        exact(fill.qty),
        exact(fill.price),
        exact(fill.notional),
        exact(fill.fee),
        fill.fee_asset,
        fill.trade_id,
        str(fill.is_maker).lower(),
    ]


def _write_csv(path: Path, header: tuple[str, ...], rows: Iterable[list[str | int]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
