"""Signals, risk verdicts and the decision record written once per cycle."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from tradebot.domain.records import field_values

MetadataValue = float | int | str | bool | None


class KillSwitch(StrEnum):
    """How freely the bot may trade.

    ACTIVE trades normally; REDUCING only sends orders that cut exposure; HALTED sends none
    (protective stops already resting stay in place).
    """

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


class SignalAction(StrEnum):
    """What a strategy wants. Spot is long-only: SELL means leave the position."""

    BUY = "BUY"
    SELL = "SELL"
    HOLD = "HOLD"


@dataclass(frozen=True, slots=True)
class MemberSignal:
    """What one member of an ensemble said at a bar, kept in the ensemble's signal.

    The audit trail of a combined decision: who was asked, what each said and how sure,
    so a vote can be counted again from the decision log.
    """

    name: str
    action: SignalAction
    confidence: float = 0.0
    reason: str = ""


@dataclass(slots=True, unsafe_hash=True, init=False)
class Signal:
    """A strategy's output for one bar, with the reason a person can read.

    ``members`` is empty for a plain strategy; an ensemble lists every member it asked.
    """

    action: Final[SignalAction]
    confidence: Final[float]
    reason: Final[str]
    metadata: Final[Mapping[str, MetadataValue]]
    members: Final[tuple[MemberSignal, ...]]

    def __init__(
        self,
        action: SignalAction,
        confidence: float = 0.0,
        reason: str = "",
        metadata: Mapping[str, MetadataValue] | None = None,
        members: tuple[MemberSignal, ...] = (),
    ) -> None:
        self.action = action
        self.confidence = confidence
        self.reason = reason
        self.metadata = {} if metadata is None else metadata
        self.members = members

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return Signal, field_values(self)

    @classmethod
    def hold(cls, reason: str = "no signal") -> Signal:
        """The signal for doing nothing."""
        return cls(SignalAction.HOLD, 0.0, reason)


HOLD: Final = Signal.hold()


class RiskCheck:
    """One pre-trade check and its verdict: its ``name``, whether it ``passed``, and the
    ``detail`` a person reads.

    ``RiskCheck.lazy`` keeps a template and its values and formats the detail when it is
    first read (the decision log, a report, an alert): formatting the Decimals of an
    entry's checks cost more than running them (about 5 µs each), and a backtest reads them
    only when it writes its report. Compared, hashed and printed by its text.
    """

    __slots__ = ("_detail", "_values", "name", "passed")

    def __init__(self, name: str, passed: bool, detail: str) -> None:
        self.name = name
        self.passed = passed
        self._detail = detail
        self._values: tuple[object, ...] | None = None

    @classmethod
    def lazy(cls, name: str, passed: bool, template: str, *values: object) -> RiskCheck:
        """A check whose detail is ``template.format(*values)``, made when first read."""
        check = RiskCheck(name, passed, template)  # not ``cls``: compiled, a native call
        check._values = values
        return check

    @property
    def detail(self) -> str:
        """Why the check passed or failed, in words."""
        if self._values is not None:
            self._detail = self._detail.format(*self._values)
            self._values = None
        return self._detail

    def parts(self) -> tuple[str, bool, str, tuple[object, ...] | None]:
        """Name, verdict, the detail or its template, and the template's values (None once
        formatted): what a compact store keeps (``tradebot.backtest.packed``), leaving the
        detail unformatted until it is read, as here."""
        return (self.name, self.passed, self._detail, self._values)

    @classmethod
    def from_parts(
        cls, name: str, passed: bool, text: str, values: tuple[object, ...] | None
    ) -> RiskCheck:
        """The check ``parts`` described."""
        check = cls(name, passed, text)
        check._values = values
        return check

    def _key(self) -> tuple[str, bool, str]:
        return (self.name, self.passed, self.detail)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RiskCheck):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"RiskCheck(name={self.name!r}, passed={self.passed!r}, detail={self.detail!r})"

    def __reduce__(self) -> tuple[type[RiskCheck], tuple[str, bool, str]]:
        return RiskCheck, self._key()


@dataclass(slots=True, unsafe_hash=True, init=False)
class RiskVerdict:
    """The risk controller's answer to a proposed order, with every check it ran."""

    checks: Final[tuple[RiskCheck, ...]]

    def __init__(
        self,
        checks: tuple[RiskCheck, ...],
    ) -> None:
        self.checks = checks

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return RiskVerdict, field_values(self)

    @property
    def approved(self) -> bool:
        """True when every check passed."""
        return all(c.passed for c in self.checks)

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why the order was refused (empty when approved)."""
        return tuple(c.detail for c in self.checks if not c.passed)

    @classmethod
    def rejected(cls, name: str, reason: str) -> RiskVerdict:
        """A verdict refusing for one reason."""
        return cls((RiskCheck(name, False, reason),))


@dataclass(slots=True, unsafe_hash=True, init=False)
class Decision:
    """The append-only audit record of one cycle: what was seen, decided and done."""

    ts_ms: Final[int]
    symbol: Final[str]
    signal: Final[Signal]
    indicators: Final[Mapping[str, float]]
    verdict: Final[RiskVerdict | None]
    action: Final[str]
    client_order_ids: Final[tuple[str, ...]]
    equity: Final[float]
    """The account's at the close: cash and every symbol's holding at its last close."""
    cash: Final[float]
    position_qty: Final[float]
    """The deciding symbol's holding."""

    def __init__(
        self,
        ts_ms: int,
        symbol: str,
        signal: Signal,
        indicators: Mapping[str, float],
        verdict: RiskVerdict | None,
        action: str,
        client_order_ids: tuple[str, ...] = (),
        equity: float = 0.0,
        cash: float = 0.0,
        position_qty: float = 0.0,
    ) -> None:
        self.ts_ms = ts_ms
        self.symbol = symbol
        self.signal = signal
        self.indicators = indicators
        self.verdict = verdict
        self.action = action
        self.client_order_ids = client_order_ids
        self.equity = equity
        self.cash = cash
        self.position_qty = position_qty

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return Decision, field_values(self)

    @classmethod
    def skipped(
        cls, ts_ms: int, symbol: str, reason: str, account: tuple[float, float, float]
    ) -> Decision:
        """The record of a bar that was not decided (too old to trade on), and why;
        ``account`` is the equity, cash and the symbol's holding at the bar's close."""
        equity, cash, position_qty = account
        return cls(
            ts_ms=ts_ms,
            symbol=symbol,
            signal=Signal(SignalAction.HOLD, 0.0, reason),
            indicators={},
            verdict=None,
            action="skipped",
            equity=equity,
            cash=cash,
            position_qty=position_qty,
        )
