"""What ``tradebot sandbox`` does; ``sandbox.py`` declares it.

Kept apart from the declaration: a command's ``--help`` imports its module, and this one
imports the sandbox server, aiohttp and pandas (1.3 s of CPU before ``sandbox --help``
answered without them).
"""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal
from pathlib import Path

import typer

from tradebot.domain.errors import TradebotError
from tradebot.exchange.ccxt.market_source import market_data_source
from tradebot.sandbox import FaultConfig, SandboxConfig, SandboxServer
from tradebot.sandbox.config import default_data_files, parse_decimal
from tradebot.sandbox.mirror import MirrorConfig


def _pairs(values: list[str] | None, what: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values or []:
        key, sep, rest = value.partition("=")
        if not sep or not key or not rest:
            raise typer.BadParameter(f"{what} {value!r}: write it as KEY=VALUE")
        pairs[key] = rest
    return pairs


def start_sandbox(
    port: int,
    host: str,
    api_key: str,
    api_secret: str,
    data: list[str] | None,
    balance: list[str] | None,
    speed: float,
    deterministic: bool,
    start_index: int,
    spread_bps: str,
    fee: str,
    snapshot: Path | None,
    weight_limit: int,
    seed: int,
    fault_error_rate: float,
    fault_latency_ms: int,
    fault_timeout_rate: float,
    fault_ambiguous_timeout_rate: float,
    fault_hang_s: float,
    fault_ws_disconnect_after_s: float,
    fault_maintenance_s: float,
    fault_price_shock_pct: float,
    market_data: str,
    market_data_url: str | None,
    symbol: list[str] | None,
    timeframe: str,
    poll_s: float,
) -> None:
    """The work of ``sandbox.sandbox``, which declares its options and help."""
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
