"""``tradebot sandbox``: run the local Binance-spot exchange that ccxt trades against.

The command is declared here; what it does is in ``sandbox_session.py``, imported when
it runs, so that ``--help`` answers without importing the sandbox server and aiohttp.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

_HELP = """Run a local exchange that speaks Binance's spot API (REST under /api/v3 and
websockets) on 127.0.0.1, replaying historical candles with a synthetic order book.

Unmodified ccxt trades against it once pointed at it:

    from tradebot.exchange.ccxt.sandbox_client import sandbox_exchange
    ex = sandbox_exchange("http://127.0.0.1:8765")

Default keys: sandbox-key / sandbox-secret.

With --market-data binance it mirrors Binance instead: its live public candles (no keys), one
bar walked as Binance closes it, orders still matched here.

Admin: POST /admin/advance?bars=N, POST /admin/faults (JSON), GET /admin/state.
See docs/sandbox.md for the market rules, limits and faults.
"""


def register(app: typer.Typer) -> None:
    """Add ``sandbox`` to ``app``."""
    app.command("sandbox", help=_HELP)(sandbox)


def sandbox(
    port: Annotated[int, typer.Option(help="TCP port; 0 picks a free one.")] = 8765,
    host: Annotated[str, typer.Option(help="Interface to bind (keep it loopback).")] = "127.0.0.1",
    api_key: Annotated[str, typer.Option(help="The API key clients must send.")] = "sandbox-key",
    api_secret: Annotated[
        str, typer.Option(help="The HMAC secret signatures are checked with.", show_default=False)
    ] = "sandbox-secret",  # noqa: S107 (documented default of a local sandbox)
    data: Annotated[
        list[str] | None,
        typer.Option(help="SYMBOL=PATH of a candle CSV(.gz); repeat. Default: bundled samples."),
    ] = None,
    balance: Annotated[
        list[str] | None, typer.Option(help="Starting ASSET=AMOUNT; repeat. Default USDT=10000.")
    ] = None,
    speed: Annotated[
        float, typer.Option(help="Replay speed x real time; 0 = as fast as possible.")
    ] = 1.0,
    deterministic: Annotated[
        bool, typer.Option(help="Clock moves only on POST /admin/advance.")
    ] = False,
    start_index: Annotated[int, typer.Option(help="Bar of the first file to start at.")] = 0,
    spread_bps: Annotated[str, typer.Option(help="Bid/ask spread, basis points.")] = "2",
    fee: Annotated[str, typer.Option(help="Maker and taker fee rate (0.001 = 0.1 %).")] = "0.001",
    snapshot: Annotated[
        Path | None, typer.Option(help="JSON file keeping accounts across restarts.")
    ] = None,
    weight_limit: Annotated[int, typer.Option(help="Request weight per minute.")] = 6000,
    seed: Annotated[int, typer.Option(help="Seed of the fault dice.")] = 0,
    fault_error_rate: Annotated[float, typer.Option(help="Share of requests answered 503.")] = 0.0,
    fault_latency_ms: Annotated[int, typer.Option(help="Delay added to every request.")] = 0,
    fault_timeout_rate: Annotated[float, typer.Option(help="Share of requests that hang.")] = 0.0,
    fault_ambiguous_timeout_rate: Annotated[
        float, typer.Option(help="Share of orders executed whose answer hangs.")
    ] = 0.0,
    fault_hang_s: Annotated[float, typer.Option(help="How long a hung request hangs.")] = 30.0,
    fault_ws_disconnect_after_s: Annotated[
        float, typer.Option(help="Drop each websocket after N s (0 = never).")
    ] = 0.0,
    fault_maintenance_s: Annotated[
        float, typer.Option(help="Answer 503 'System is under maintenance.' for N s from start.")
    ] = 0.0,
    fault_price_shock_pct: Annotated[
        float, typer.Option(help="Flash-crash the first bar walked by N %.")
    ] = 0.0,
    market_data: Annotated[
        str, typer.Option(help="replay (candle files) or binance (its live public candles).")
    ] = "replay",
    market_data_url: Annotated[
        str | None, typer.Option(help="REST base URL standing in for the market-data exchange.")
    ] = None,
    symbol: Annotated[
        list[str] | None, typer.Option(help="Market to mirror; repeat. Default BTC/USDT.")
    ] = None,
    timeframe: Annotated[str, typer.Option(help="Candles mirrored, e.g. 1m, 1h.")] = "1m",
    poll_s: Annotated[float, typer.Option(help="Seconds between asks for candles.")] = 2.0,
) -> None:
    """Serve until Ctrl-C."""
    from tradebot.cli import sandbox_session  # imported when it runs, not for --help

    sandbox_session.start_sandbox(
        port=port,
        host=host,
        api_key=api_key,
        api_secret=api_secret,
        data=data,
        balance=balance,
        speed=speed,
        deterministic=deterministic,
        start_index=start_index,
        spread_bps=spread_bps,
        fee=fee,
        snapshot=snapshot,
        weight_limit=weight_limit,
        seed=seed,
        fault_error_rate=fault_error_rate,
        fault_latency_ms=fault_latency_ms,
        fault_timeout_rate=fault_timeout_rate,
        fault_ambiguous_timeout_rate=fault_ambiguous_timeout_rate,
        fault_hang_s=fault_hang_s,
        fault_ws_disconnect_after_s=fault_ws_disconnect_after_s,
        fault_maintenance_s=fault_maintenance_s,
        fault_price_shock_pct=fault_price_shock_pct,
        market_data=market_data,
        market_data_url=market_data_url,
        symbol=symbol,
        timeframe=timeframe,
        poll_s=poll_s,
    )
