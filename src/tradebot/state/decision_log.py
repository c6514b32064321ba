"""The append-only decision log: one record per cycle, never changed afterwards.

There is deliberately no update or delete here, and the database refuses them too (triggers
created by the first migration), so an audit record cannot be rewritten after the fact.

Indicator values are floats and may be NaN while an indicator warms up; JSON has no NaN, so
non-finite floats are stored as ``{"$float": "nan"}`` and read back as the same float.

An ensemble's members' signals are kept in the signal's metadata column under the key
``$members``, a list of ``{"name", "action", "confidence", "reason"}`` objects: a
strategy's own metadata keys are plain names, and the table keeps its shape.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.orm import Session

from tradebot.domain.decisions import (
    Decision,
    MemberSignal,
    MetadataValue,
    RiskCheck,
    RiskVerdict,
    Signal,
    SignalAction,
)
from tradebot.state.prepared import DriverStatement
from tradebot.state.tables import DecisionRow

_FLOAT_TAG = "$float"
_MEMBERS = "$members"
_APPEND = DriverStatement(insert(DecisionRow).returning(DecisionRow.id))


@dataclass(frozen=True, slots=True)
class LoggedDecision:
    """A decision as logged: its sequence number and when it was written."""

    id: int
    recorded_ts_ms: int
    decision: Decision


def _encode_value(value: MetadataValue) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return {_FLOAT_TAG: repr(value)}
    return value


def _decode_value(value: Any) -> MetadataValue:
    if isinstance(value, dict):
        return float(value[_FLOAT_TAG])
    if value is None or isinstance(value, float | int | str | bool):
        return value
    raise TypeError(f"decision log holds an unexpected JSON value {value!r}")


def _exact(value: float) -> Decimal:
    # repr is the shortest string that reads back as the same float: exact both ways.
    return Decimal(repr(float(value)))


def _signal_metadata(signal: Signal) -> dict[str, Any]:
    stored: dict[str, Any] = {k: _encode_value(v) for k, v in signal.metadata.items()}
    if signal.members:
        stored[_MEMBERS] = [
            {
                "name": m.name,
                "action": m.action.value,
                "confidence": _encode_value(float(m.confidence)),
                "reason": m.reason,
            }
            for m in signal.members
        ]
    return stored


def _members(stored: Any) -> tuple[MemberSignal, ...]:
    if not isinstance(stored, list):
        return ()
    return tuple(
        MemberSignal(
            str(m["name"]),
            SignalAction(m["action"]),
            float(m["confidence"][_FLOAT_TAG])
            if isinstance(m["confidence"], dict)
            else float(m["confidence"]),
            str(m["reason"]),
        )
        for m in stored
    )


def decision_values(decision: Decision, recorded_ts_ms: int) -> dict[str, Any]:
    """The column values of a new row for ``decision``."""
    verdict = decision.verdict
    return {
        "ts_ms": decision.ts_ms,
        "symbol": decision.symbol,
        "signal_action": decision.signal.action.value,
        "signal_confidence": float(decision.signal.confidence),
        "signal_reason": decision.signal.reason,
        "signal_metadata": _signal_metadata(decision.signal),
        "indicators": {k: _encode_value(float(v)) for k, v in decision.indicators.items()},
        "risk_checks": None
        if verdict is None
        else [{"name": c.name, "passed": c.passed, "detail": c.detail} for c in verdict.checks],
        "verdict": None if verdict is None else ("approved" if verdict.approved else "rejected"),
        "action": decision.action,
        "client_order_ids": list(decision.client_order_ids),
        "equity": _exact(decision.equity),
        "cash": _exact(decision.cash),
        "position_qty": _exact(decision.position_qty),
        "recorded_ts_ms": recorded_ts_ms,
    }


def _verdict(checks: list[dict[str, Any]] | None) -> RiskVerdict | None:
    if checks is None:
        return None
    return RiskVerdict(
        tuple(RiskCheck(str(c["name"]), bool(c["passed"]), str(c["detail"])) for c in checks)
    )


def _floats(values: Mapping[str, Any]) -> dict[str, float]:
    return {k: float(v[_FLOAT_TAG]) if isinstance(v, dict) else float(v) for k, v in values.items()}


def decision_from_row(row: DecisionRow) -> Decision:
    """The decision a row stands for."""
    signal = Signal(
        action=SignalAction(row.signal_action),
        confidence=row.signal_confidence,
        reason=row.signal_reason,
        metadata={k: _decode_value(v) for k, v in row.signal_metadata.items() if k != _MEMBERS},
        members=_members(row.signal_metadata.get(_MEMBERS)),
    )
    return Decision(
        ts_ms=row.ts_ms,
        symbol=row.symbol,
        signal=signal,
        indicators=_floats(row.indicators),
        verdict=_verdict(row.risk_checks),
        action=row.action,
        client_order_ids=tuple(row.client_order_ids),
        equity=float(row.equity),
        cash=float(row.cash),
        position_qty=float(row.position_qty),
    )


def append_decision(
    connection: Connection, decision: Decision, recorded_ts_ms: int, venue: str
) -> int:
    """Write ``decision`` of a symbol on ``venue`` in ``connection``'s transaction; return
    its sequence number (increasing with each append)."""
    # A Core insert built once: the ORM's unit of work (add, then flush to learn the id)
    # cost about a millisecond of the live cycle before the order could be sent, and a
    # statement built per call with its values in it another half.
    values = {**decision_values(decision, recorded_ts_ms), "venue": venue}
    row = _APPEND.first(connection, values)
    if row is None:  # pragma: no cover - an insert that raised nothing returns its id
        raise RuntimeError("the decision's insert returned no id")
    return int(row[0])


class DecisionLog:
    """Append and read decisions within a caller's session; nothing else."""

    def __init__(self, session: Session) -> None:
        """Work inside ``session`` (its transaction decides when the write commits)."""
        self._session = session

    def append(self, decision: Decision, recorded_ts_ms: int, venue: str) -> int:
        """Write ``decision`` of a symbol on ``venue``; return its sequence number
        (increasing with each append)."""
        return append_decision(self._session.connection(), decision, recorded_ts_ms, venue)

    def entries(
        self,
        since_ms: int | None = None,
        symbol: str | None = None,
        limit: int | None = None,
        after_id: int | None = None,
    ) -> list[LoggedDecision]:
        """Decisions with ``ts_ms >= since_ms`` (all when None), oldest first; with
        ``after_id``, those logged after that sequence number, in the order logged."""
        query = select(DecisionRow).order_by(DecisionRow.ts_ms, DecisionRow.id)
        if after_id is not None:
            query = select(DecisionRow).where(DecisionRow.id > after_id).order_by(DecisionRow.id)
        if since_ms is not None:
            query = query.where(DecisionRow.ts_ms >= since_ms)
        if symbol is not None:
            query = query.where(DecisionRow.symbol == symbol)
        if limit is not None:
            query = query.limit(limit)
        return [
            LoggedDecision(row.id, row.recorded_ts_ms, decision_from_row(row))
            for row in self._session.scalars(query)
        ]

    def at_or_before(self, ts_ms: int, symbol: str | None = None) -> list[LoggedDecision]:
        """The decisions of the newest bar that opened at or before ``ts_ms``, oldest first.

        Usually one; more when a bar was recorded twice (skipped, then decided after a
        restart).
        """
        newest = select(func.max(DecisionRow.ts_ms)).where(DecisionRow.ts_ms <= ts_ms)
        if symbol is not None:
            newest = newest.where(DecisionRow.symbol == symbol)
        bar_ts = self._session.scalar(newest)
        if bar_ts is None:
            return []
        return [e for e in self.entries(bar_ts, symbol) if e.decision.ts_ms == bar_ts]

    def entry(self, decision_id: int | None) -> LoggedDecision | None:
        """The decision with ``decision_id``, or the newest when None (None if there is none)."""
        query = select(DecisionRow).order_by(DecisionRow.id.desc()).limit(1)
        if decision_id is not None:
            query = select(DecisionRow).where(DecisionRow.id == decision_id)
        row = self._session.scalars(query).first()
        return (
            None
            if row is None
            else LoggedDecision(row.id, row.recorded_ts_ms, decision_from_row(row))
        )

    def latest(
        self,
        limit: int,
        before_id: int | None = None,
        symbol: str | None = None,
        acted_only: bool = False,
    ) -> list[LoggedDecision]:
        """Up to ``limit`` decisions, newest first; a page ends below ``before_id``.

        ``acted_only`` leaves out the cycles that only held (most of a bot's decisions), so
        a person browsing finds the ones that did something.
        """
        query = select(DecisionRow).order_by(DecisionRow.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(DecisionRow.id < before_id)
        if symbol is not None:
            query = query.where(DecisionRow.symbol == symbol)
        if acted_only:
            query = query.where(DecisionRow.action != "hold")
        return [
            LoggedDecision(row.id, row.recorded_ts_ms, decision_from_row(row))
            for row in self._session.scalars(query)
        ]
