"""How ``tradebot run`` and the services reach the configured venue(s): an embedded sandbox
or not, and each venue's keys for live trading."""

from __future__ import annotations

from tradebot.config import Config
from tradebot.config.exchange import pick_venue
from tradebot.domain.errors import ConfigError
from tradebot.exchange.ccxt.credentials import Credentials, from_config

REAL_MONEY_FLAG = "--i-understand-this-trades-real-money"


def embedded_sandbox(config: Config) -> bool:
    """True when paper mode starts its sandbox inside the bot (one venue only).

    Raises:
        ConfigError: several venues with an embedded sandbox: each needs its own exchange,
            started with ``tradebot sandbox``.
    """
    venues = config.venues
    if len(venues) == 1:
        return venues[0].connection.sandbox.embedded
    inside = [v.id for v in venues if v.connection.sandbox.embedded]
    if inside:
        raise ConfigError(
            f"exchange.venues.{inside[0]}.sandbox.embedded is true: with several venues "
            "each trades a sandbox of its own; start one per venue (`tradebot sandbox --port "
            "N`) and set sandbox.embedded: false and sandbox.port: N for each"
        )
    return False


def live_credentials(config: Config, confirmed: bool, venue: str | None = None) -> Credentials:
    """The API keys of ``venue`` (None: the first, or the only one) for live trading.

    Raises:
        ConfigError: no keys found, or the real-money flag not given; the message says
            which venue, where keys are looked for, and that orders go to the exchange.
    """
    traded = pick_venue(config.venues, venue or config.venues[0].id)
    credentials = from_config(config, venue=traded.id)
    missing = []
    if credentials is None and config.exchange.venues:
        missing.append(
            f"API credentials of venue {traded.id}: set exchange.venues.{traded.id}.api_key "
            "and api_secret (${...}), or its credentials_file"
        )
    elif credentials is None:
        missing.append(
            "API credentials: set BINANCE_API_KEY and BINANCE_API_SECRET, or "
            "exchange.credentials_file in the config"
        )
    if not confirmed:
        missing.append(f"the confirmation flag {REAL_MONEY_FLAG}")
    if credentials is not None and not missing:
        return credentials
    where = "the Binance testnet" if traded.connection.testnet else "Binance with REAL money"
    raise ConfigError(f"live mode sends real orders to {where}; missing: " + "; ".join(missing))
