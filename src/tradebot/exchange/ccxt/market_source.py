"""A keyless connection to an exchange's public market data, for a mirroring sandbox.

Paper trading on live prices (``exchange.sandbox.market_data: binance``) matches orders in the
local sandbox against the real exchange's candles. Those are public, so no API key is sent
or needed; the connector is the same ``CcxtConnector`` (limiter, retries, error map) live
trading uses, and it fills the sandbox's ``MarketSource`` port.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tradebot.exchange.ccxt.connector import CcxtConnector
from tradebot.exchange.ccxt.factory import ConnectSettings, Venue, connect
from tradebot.exchange.ccxt.retry import RetryPolicy


def market_data_source(
    exchange: str,
    url: str | None = None,
    *,
    timeout_s: float = 10.0,
    retry: RetryPolicy | None = None,
    runtime_dir: Path | None = None,
    websockets: bool = False,
) -> CcxtConnector:
    """Connect to ``exchange``'s public endpoints (its main site: testnet prices are not the
    market's), or to ``url`` standing in for its REST hosts (a local sandbox in tests).

    With ``websockets`` its public streams are open too (``--record-trades`` records the
    exchange's trades from them); at ``url`` they are the stand-in's ``/stream/ws``.

    Raises:
        ConfigError: an exchange tradebot does not support.
    """
    settings = ConnectSettings(
        venue=Venue.LIVE if url is None else Venue.SANDBOX,
        exchange=exchange,
        websockets=websockets,
        timeout_s=timeout_s,
        retry=retry or RetryPolicy(),
        runtime_dir=runtime_dir,
    )
    if url is not None:
        settings = replace(settings, sandbox_url=url)
    return connect(settings, public_only=True)
