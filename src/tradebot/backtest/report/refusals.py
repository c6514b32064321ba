"""The orders the venue refused or expired, for the report's summary and the console.

An entry the venue will not fill (a market buy the cash no longer covers at the next open,
an order under the minimum notional) trades nothing, so nothing else in the report shows
it: the trades, fills and equity simply lack it. Listing each one with the venue's reason
is what tells a trader that a result was shaped by orders that never happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

from tradebot.backtest.result import RefusedOrder

MAX_ROWS = 1_000  # a run refusing more than this has one cause; the count says how many
TITLE = "Orders refused or expired"


def _when(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def describe(order: RefusedOrder) -> str:
    """One line: when, which order, what it was, and the venue's reason."""
    return (
        f"{_when(order.ts_ms)} {order.client_order_id} {order.side} {order.type} "
        f"{order.qty.normalize():f} {order.symbol}: {order.status.value} ({order.reason})"
    )


def refused_section(refused: Sequence[RefusedOrder]) -> str:
    """The HTML section listing them; empty when the venue refused nothing."""
    if not refused:
        return ""
    rows = "".join(
        "<tr>"
        f"<td>{_when(r.ts_ms)}</td>"
        f'<td class="text">{escape(r.client_order_id)}</td>'
        f'<td class="text">{escape(r.symbol)}</td>'
        f'<td class="text">{escape(r.side)} {escape(r.type)}</td>'
        f"<td>{r.qty.normalize():f}</td>"
        f'<td class="text">{escape(r.status.value)}</td>'
        f'<td class="text">{escape(r.reason)}</td>'
        "</tr>"
        for r in refused[:MAX_ROWS]
    )
    more = ""
    if len(refused) > MAX_ROWS:
        more = f'<p class="note">The first {MAX_ROWS:,} of {len(refused):,} are shown.</p>'
    return (
        f"<h2>{TITLE} ({len(refused):,})</h2>"
        '<p class="note">Nothing of these traded: each is missing from the trades and the '
        "equity above. decisions.jsonl lists each beside the decision that placed it.</p>"
        f"{more}"
        '<table id="refused"><thead><tr><th>Time</th><th>Order</th><th>Symbol</th>'
        "<th>Order type</th><th>Qty</th><th>Status</th><th>Venue's reason</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )
