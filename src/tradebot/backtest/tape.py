"""A backtest's tape: what each visited bar left, to rebuild per-bar equity afterwards.

The loop notes a visit (the bar, the cash, the symbol's holding, whether it counts as a
position) and the decisions and refusals it saw; the result repeats each visit's state over
the bars it lasts. Compiled with the loop (hatch_build.py).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Final

from tradebot.backtest.packed import Packed, packed_decisions
from tradebot.backtest.result import RefusedOrder
from tradebot.domain.decisions import Decision

_BATCH: Final = 4_096


@dataclass(slots=True)
class Tape:
    """What changed at each visited bar, to rebuild per-bar equity afterwards."""

    # Typed arrays: 25 bytes a visit instead of about 100 for lists of Python numbers. A
    # visit is noted in lists first (compiled, a list's append is a few instructions, an
    # array's a method call: 2 % of a backtest), moved into the arrays every _BATCH.
    index: array[int] = field(default_factory=lambda: array("q"))
    cash: array[float] = field(default_factory=lambda: array("d"))
    qty: array[float] = field(default_factory=lambda: array("d"))
    exposed: array[int] = field(default_factory=lambda: array("b"))
    decisions: Packed[Decision] = field(default_factory=packed_decisions)
    refused: list[RefusedOrder] = field(default_factory=list)
    new_index: list[int] = field(default_factory=list)
    new_cash: list[float] = field(default_factory=list)
    new_qty: list[float] = field(default_factory=list)
    new_exposed: list[bool] = field(default_factory=list)

    def note(self, bar: int, cash: float, qty: float, exposed: bool) -> None:
        """What the visit of ``bar`` left."""
        self.new_index.append(bar)
        self.new_cash.append(cash)
        self.new_qty.append(qty)
        self.new_exposed.append(exposed)
        if len(self.new_index) >= _BATCH:
            self.flush()

    def flush(self) -> Tape:
        """Move the visits noted into the arrays (before they are read)."""
        self.index.fromlist(self.new_index)
        self.cash.fromlist(self.new_cash)
        self.qty.fromlist(self.new_qty)
        self.exposed.fromlist(self.new_exposed)  # type: ignore[arg-type]  # bools are ints
        for noted in (self.new_index, self.new_cash, self.new_qty, self.new_exposed):
            noted.clear()
        return self
