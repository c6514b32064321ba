"""``tradebot sandbox``: run the local Binance-spot exchange that ccxt trades against."""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from tradebot.domain.errors import TradebotError
from tradebot.exchange.ccxt.market_source import market_data_source
from tradebot.sandbox import FaultConfig, SandboxConfig, SandboxServer
from tradebot.sandbox.config import default_data_files, parse_decimal
from tradebot.sandbox.mirror import MirrorConfig

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


def _pairs(values: list[str] | None, what: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values or []:
        key, sep, rest = value.partition("=")
        if not sep or not key or not rest:
            raise typer.BadParameter(f"{what} {value!r}: write it as KEY=VALUE")
        pairs[key] = rest
    return pairs


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
    try:
        if market_data != "replay" and (data or deterministic):
            raise ValueError(
                f"--market-data {market_data} takes its candles and clock from the exchange: "
                "drop --data and --deterministic, or use --market-data replay"
            )
        files = {k: Path(v) for k, v in _pairs(data, "--data").items()} or default_data_files()
        balances = {
            k: parse_decimal(v, f"--balance {k}") for k, v in _pairs(balance, "--balance").items()
        } or {"USDT": Decimal(10000)}
        fee_rate = parse_decimal(fee, "--fee")
        faults = FaultConfig(
            error_rate=fault_error_rate,
            latency_ms=fault_latency_ms,
            timeout_rate=fault_timeout_rate,
            ambiguous_timeout_rate=fault_ambiguous_timeout_rate,
            hang_s=fault_hang_s,
            ws_disconnect_after_s=fault_ws_disconnect_after_s,
            maintenance_s=fault_maintenance_s,
            price_shock_pct=fault_price_shock_pct,
        )
        # the mirror goes last: it opens a connection that only a started server closes
        config = SandboxConfig(
            host=host, port=port, api_key=api_key, api_secret=api_secret, data_files=files,
            balances=balances, maker_fee_rate=fee_rate, taker_fee_rate=fee_rate,
            spread_bps=parse_decimal(spread_bps, "--spread-bps"), deterministic=deterministic,
            speed=speed, start_index=start_index, snapshot_path=snapshot, faults=faults,
            seed=seed, weight_limit_1m=weight_limit,
            mirror=_mirror(market_data, market_data_url, symbol, timeframe, poll_s),
        )  # fmt: skip
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(config))
    except (TradebotError, ValueError, OSError) as e:
        typer.echo(f"sandbox: {e}", err=True)
        raise typer.Exit(2) from e


def _mirror(
    name: str, url: str | None, symbols: list[str] | None, timeframe: str, poll_s: float
) -> MirrorConfig | None:
    if name == "replay":
        if url is not None or symbols:
            raise ValueError("--market-data-url and --symbol need --market-data binance")
        return None
    if name != "binance":
        raise ValueError(f"--market-data {name!r}: choose replay or binance")
    if poll_s <= 0:
        raise ValueError(f"--poll-s {poll_s}: give a number of seconds above 0")
    label = f"--market-data {name}" + ("" if url is None else f" --market-data-url {url}")
    source = market_data_source(name, url)
    return MirrorConfig(source, tuple(symbols or ["BTC/USDT"]), timeframe, label, poll_s)


async def _serve(config: SandboxConfig) -> None:
    async with SandboxServer(config) as server:
        mode = "deterministic" if config.deterministic else f"replay at {config.speed}x"
        if config.mirror is not None:
            mode = f"prices from {config.mirror.label}"
        typer.echo(f"sandbox exchange on {server.http_url} (websockets {server.ws_url}), {mode}")
        symbols = ", ".join(server.venue.unified.values())
        typer.echo(f"markets: {symbols}; API key {config.api_key!r}; Ctrl-C to stop")
        await asyncio.Event().wait()
