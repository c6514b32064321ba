"""The size of a new position under capital allocation: the sizer sees the symbol's sleeve.

With a ``CapitalAllocator`` each symbol trades its sleeve (weight × the account's equity at
the decision) as if it were the account: the sizer is given the sleeve as equity, and the
position never exceeds it. The allotment is recorded as the ``allocation`` check of the
entry's risk verdict, so the decision log says which weight, how it was reached and what it
came to. Without an allocator the sizer sees the whole account, as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal

from tradebot.domain.decisions import RiskCheck, RiskVerdict
from tradebot.domain.estimate import exactly
from tradebot.domain.portfolio import Trade
from tradebot.orchestrator.books import SymbolBook
from tradebot.risk.allocation import Allotment, CapitalAllocator
from tradebot.risk.sizing import PositionSizer, SizingInput


def entry_size(
    sizer: PositionSizer,
    allocator: CapitalAllocator | None,
    books: Mapping[str, SymbolBook],
    book: SymbolBook,
    ts_ms: int,
    inp: SizingInput,
    trades: Sequence[Trade],
) -> tuple[Decimal, Allotment | None]:
    """The base amount to buy (unrounded) at the close of ``book``'s bar opened at
    ``ts_ms``, and the symbol's allotment (None without an allocator)."""
    if allocator is None:
        return sizer.calculate_size(inp, trades), None
    histories = {s: (b.bars.ts_ms, b.bars["close"]) for s, b in books.items()}
    allotment = allocator.allot(book.symbol, exactly(inp.equity), histories, ts_ms)
    qty = sizer.calculate_size(replace(inp, equity=allotment.sleeve), trades)
    return min(qty, allotment.sleeve / inp.price), allotment


def with_allotment(verdict: RiskVerdict, allotment: Allotment | None) -> RiskVerdict:
    """``verdict`` with the allotment first among its checks (unchanged without one)."""
    if allotment is None:
        return verdict
    return RiskVerdict((RiskCheck("allocation", True, allotment.detail), *verdict.checks))
