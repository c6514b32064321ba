"""Build a CcxtConnector for the configured venue: the local sandbox, Binance testnet or live.

The venue is the only switch; the connector, limiter, retries and streams are the same in
all three, so paper trading against the sandbox exercises exactly the live code path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro

from tradebot.config.exchange import pick_venue
from tradebot.config.model import Config
from tradebot.domain.errors import ConfigError
from tradebot.exchange.ccxt.connector import CcxtConnector
from tradebot.exchange.ccxt.credentials import Credentials, Redactor
from tradebot.exchange.ccxt.metrics import ConnectorMetrics
from tradebot.exchange.ccxt.ratelimit import RateBudget, SharedRateLimiter
from tradebot.exchange.ccxt.retry import RetryPolicy
from tradebot.exchange.ccxt.sandbox_client import DEFAULT_API_KEY as SANDBOX_KEY
from tradebot.exchange.ccxt.sandbox_client import DEFAULT_API_SECRET as SANDBOX_SECRET
from tradebot.exchange.ccxt.sandbox_client import sandbox_exchange
from tradebot.exchange.ccxt.stream import StreamSettings
from tradebot.exchange.port import ExchangeConnector
from tradebot.exchange.venues import VenueAccount, VenueRouter

BINANCE_OPTIONS: dict[str, Any] = {
    "fetchMarkets": {"types": ["spot"]},
    "fetchCurrencies": False,
    "fetchMargins": False,
    "fetchOpenOrders": {"warnWithoutSymbol": False},
    "adjustForTimeDifference": True,
}
"""Spot only, and no margin/currency endpoints at startup (each costs weight and a key scope)."""


class Venue(StrEnum):
    """Where orders go."""

    SANDBOX = "sandbox"
    TESTNET = "testnet"
    LIVE = "live"


@dataclass(frozen=True, slots=True)
class ConnectSettings:
    """What ``connect`` needs from the config (exchange section)."""

    venue: Venue = Venue.SANDBOX
    exchange: str = "binance"
    sandbox_url: str = "http://127.0.0.1:8765"
    sandbox_ws_url: str | None = None
    websockets: bool = True
    timeout_s: float = 10.0
    budget: RateBudget = field(default_factory=RateBudget)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    streams: StreamSettings = field(default_factory=StreamSettings)
    runtime_dir: Path | None = None
    stop_limit_offset: Decimal = Decimal("0.005")


def _clients(
    settings: ConnectSettings, creds: Credentials | None
) -> tuple[ccxt_async.binance, ccxt_pro.binance | None]:
    keys = {"apiKey": creds.api_key, "secret": creds.api_secret} if creds else {}
    if settings.venue is Venue.SANDBOX:
        # the sandbox's own documented key when none is configured (paper trading)
        key, secret = (creds.api_key, creds.api_secret) if creds else (SANDBOX_KEY, SANDBOX_SECRET)
        url, ws_url = settings.sandbox_url, settings.sandbox_ws_url
        rest = sandbox_exchange(url, ws_url, api_key=key, api_secret=secret)
        pro = None
        if settings.websockets:
            pro = sandbox_exchange(url, ws_url, api_key=key, api_secret=secret, pro=True)
        return rest, pro
    config = {**keys, "options": dict(BINANCE_OPTIONS), "timeout": int(settings.timeout_s * 1000)}
    rest = ccxt_async.binance(config)
    pro = ccxt_pro.binance(config) if settings.websockets else None
    if settings.venue is Venue.TESTNET:
        for client in (rest, pro):
            if client is not None:
                client.set_sandbox_mode(True)
    return rest, pro


def settings_from_config(
    config: Config, *, venue_id: str | None = None, **overrides: Any
) -> ConnectSettings:
    """Read the venue switch from the config for ``venue_id`` (the only venue when None):
    paper → sandbox, live → testnet or live.

    Raises:
        ConfigError: ``exchange.mode`` is backtest (which needs no connector); no venue
            ``venue_id``, or several venues and none named.
    """
    if config.exchange.mode == "backtest":
        raise ConfigError("exchange.mode is backtest: backtests use the simulated exchange")
    exchange = pick_venue(config.venues, venue_id).connection
    venue = Venue.SANDBOX
    if config.exchange.mode == "live":
        venue = Venue.TESTNET if exchange.testnet else Venue.LIVE
    sandbox = exchange.sandbox
    values: dict[str, Any] = {
        "venue": venue,
        "exchange": exchange.name,
        "sandbox_url": f"http://{sandbox.host}:{sandbox.port}",
        "timeout_s": exchange.timeout_s,
        "budget": RateBudget(weight_per_window=exchange.rate_limit_weight_per_minute, safety=1.0),
    }
    return ConnectSettings(**{**values, **overrides})


def connect_venues(
    config: Config,
    credentials: Callable[[str | None], Credentials | None] = lambda _venue: None,
    *,
    public_only: bool = False,
    **overrides: Any,
) -> ExchangeConnector:
    """One connector for the configured venues: the venue's own when there is one, else a
    ``VenueRouter`` over each venue's (``credentials`` gives a venue id's keys; None: the
    only venue's; ``public_only`` as for ``connect``).

    Raises:
        ConfigError: as ``settings_from_config`` and ``connect``.
    """

    def one(venue_id: str | None) -> CcxtConnector:
        settings = settings_from_config(config, venue_id=venue_id, **overrides)
        return connect(settings, credentials(venue_id), public_only=public_only)

    venues = config.venues
    if len(venues) == 1:
        return one(None)
    return VenueRouter([VenueAccount(v.id, one(v.id), v.symbols) for v in venues])


def connect(
    settings: ConnectSettings,
    credentials: Credentials | None = None,
    metrics: ConnectorMetrics | None = None,
    *,
    public_only: bool = False,
) -> CcxtConnector:
    """Build a connector (no network call yet; the first call loads markets).

    ``public_only`` allows a live venue without credentials for market data alone (the
    downloader); any private call then fails with ``AuthenticationError``.

    Raises:
        ConfigError: an exchange other than binance, or live trading without credentials.
    """
    if settings.exchange != "binance":
        raise ConfigError(
            f"exchange.name {settings.exchange!r} is not supported yet; use 'binance'"
        )
    if settings.venue is Venue.LIVE and credentials is None and not public_only:
        raise ConfigError("exchange.testnet is false (live) but no API credentials were found")
    rest, pro = _clients(settings, credentials)
    rest.timeout = int(settings.timeout_s * 1000)
    limiter = SharedRateLimiter.for_account(
        credentials.api_key if credentials else None, settings.budget, settings.runtime_dir
    )
    return CcxtConnector(
        rest,
        pro,
        limiter=limiter,
        retry=settings.retry,
        metrics=metrics,
        redactor=Redactor.of(credentials),
        stop_limit_offset=settings.stop_limit_offset,
        streams=settings.streams,
    )
