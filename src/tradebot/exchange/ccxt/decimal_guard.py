"""ccxt's Decimal settings kept inside ccxt.

ccxt's ``decimal_to_precision`` (behind ``amount_to_precision``, so behind every order it
places) sets the calling thread's decimal context to ROUND_HALF_UP, traps Underflow, and
never puts it back. The bot works and writes its Decimals under Python's default context
in every mode, and a backtest never calls ccxt: after the first paper order a risk check's
text read 999.13 where the backtest wrote 999.12. So each call into ccxt runs in a copy
of the caller's context, dropped when the call returns (the context is per asyncio task,
so a copy set here is seen by this call alone, and by the tasks ccxt starts inside it).
"""

from __future__ import annotations

import decimal
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def in_own_decimal_context(call: Callable[[], Awaitable[T]]) -> T:
    """``await call()`` with whatever it does to the decimal context undone afterwards."""
    with decimal.localcontext():
        return await call()
