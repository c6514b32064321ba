"""The exchange section: how to reach one exchange account, or several at once (venues).

Today's one-account config (``exchange: {name, sandbox, api_key, ...}``) is the one-venue case
of ``exchange.venues``: a venue whose id is ``exchange.name`` trading every symbol of
``trading.symbols``. Several venues name their own connection each, and which symbols trade
where; every symbol trades on exactly one venue (money does not move between exchanges, and
one symbol on two venues would be two positions under one name).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from tradebot.config.base import Section
from tradebot.config.sections import check_symbol
from tradebot.domain.errors import ConfigError

_VENUE_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class SandboxConfig(Section):
    """The local exchange that paper mode trades against."""

    embedded: bool = Field(default=True, description="Start the sandbox inside the bot process.")
    host: str = Field(default="127.0.0.1", description="Address the sandbox listens on.")
    port: int = Field(
        default=8765, ge=0, le=65535, description="Port of the sandbox; 0 picks a free one."
    )
    market_data: Literal["replay", "binance"] = Field(
        default="replay",
        description=(
            "Where the embedded sandbox's prices come from: replay = a candle file; binance ="
            " Binance's live public candles (no keys); orders are matched locally either way."
        ),
    )
    market_data_url: str | None = Field(
        default=None,
        description="REST base URL standing in for the market-data exchange (a local sandbox).",
    )
    market_data_poll_s: float = Field(
        default=2.0, gt=0, le=60, description="Seconds between asks for the source's candles."
    )

    @model_validator(mode="after")
    def _url_with_a_source(self) -> SandboxConfig:
        url = self.market_data_url
        if url is not None and self.market_data == "replay":
            msg = "market_data_url is used only with market_data: binance (replay reads a file)"
            raise ValueError(msg)
        if url is not None and not url.startswith(("http://", "https://")):
            msg = f"market_data_url {url!r} must start with http:// or https://"
            raise ValueError(msg)
        return self


class ConnectionConfig(Section):
    """How to reach one exchange account: which exchange, testnet or not, keys, rate budget."""

    name: Literal["binance"] = Field(default="binance", description="Exchange (CCXT id).")
    testnet: bool = Field(
        default=True,
        description="In live mode trade the exchange's testnet; set false for real money.",
    )
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    api_key: SecretStr | None = Field(
        default=None, description="API key; write ${BINANCE_API_KEY}."
    )
    api_secret: SecretStr | None = Field(
        default=None, description="API secret; ${BINANCE_API_SECRET}."
    )
    credentials_file: Path | None = Field(
        default=None,
        description="YAML or KEY=VALUE file holding api_key and api_secret (chmod 600).",
    )
    rate_limit_weight_per_minute: int = Field(
        default=1200,
        ge=1,
        le=6000,
        description="Request weight budget per minute, below the venue cap.",
    )
    timeout_s: float = Field(default=10.0, gt=0, le=120, description="HTTP timeout per request.")

    @model_validator(mode="after")
    def _key_and_secret_together(self) -> ConnectionConfig:
        if (self.api_key is None) != (self.api_secret is None):
            msg = "api_key and api_secret must be set together (or both left out)"
            raise ValueError(msg)
        return self


class VenueConfig(ConnectionConfig):
    """One exchange account of several (``exchange.venues.<id>``) and the symbols it trades."""

    symbols: list[str] = Field(
        min_length=1, description="The markets traded on this venue (each on one venue only)."
    )
    starting_cash: Decimal | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description="This account's quote balance in backtests; unset = trading.starting_cash.",
    )

    @field_validator("symbols")
    @classmethod
    def _symbols_form(cls, value: list[str]) -> list[str]:
        for item in value:
            check_symbol(item)
        if len(set(value)) != len(value):
            msg = "must not list a symbol twice"
            raise ValueError(msg)
        return value


class ExchangeConfig(ConnectionConfig):
    """Which mode, and the account(s) traded: this section's own connection, or ``venues``."""

    mode: Literal["backtest", "paper", "live"] = Field(
        default="paper",
        description="backtest: historical data; paper: local sandbox; live: real orders.",
    )
    venues: dict[str, VenueConfig] = Field(
        default_factory=dict,
        description=(
            "Several exchange accounts at once, by venue id (lower case, e.g. binance, "
            "binance_b), each with its connection and symbols; unset = this section's one."
        ),
    )

    @field_validator("venues")
    @classmethod
    def _venue_ids(cls, value: dict[str, VenueConfig]) -> dict[str, VenueConfig]:
        for venue_id in value:
            if not _VENUE_ID.match(venue_id):
                msg = (
                    f"venue id {venue_id!r} must be lower case letters, digits and _, starting "
                    "with a letter (it is in event ids and database rows), e.g. binance_b"
                )
                raise ValueError(msg)
        seen: dict[str, str] = {}
        for venue_id, venue in value.items():
            for symbol in venue.symbols:
                if symbol in seen:
                    msg = (
                        f"{symbol} is listed on venues {seen[symbol]} and {venue_id}: a symbol "
                        "trades on one venue only; remove it from one of them"
                    )
                    raise ValueError(msg)
                seen[symbol] = venue_id
        return value

    @model_validator(mode="after")
    def _one_place_for_a_connection(self) -> ExchangeConfig:
        # Compared with the defaults, not with the keys written: a config re-validated from
        # its own dump (with_overrides) has every key written.
        defaults = ConnectionConfig()
        beside = [
            name
            for name in ConnectionConfig.model_fields
            if self.venues and getattr(self, name) != getattr(defaults, name)
        ]
        if beside:
            first = next(iter(self.venues))
            msg = (
                f"exchange.{beside[0]} is set beside exchange.venues: with several venues each "
                f"has its own connection; move it to exchange.venues.<id>.{beside[0]} "
                f"(e.g. exchange.venues.{first}.{beside[0]})"
            )
            raise ValueError(msg)
        return self


@dataclass(frozen=True, slots=True)
class TradedVenue:
    """One exchange account the bot trades, as the config resolves it."""

    id: str
    """The venue id: in event ids and in the venue column of orders, fills and decisions."""
    connection: ConnectionConfig
    symbols: tuple[str, ...]
    starting_cash: Decimal
    """The account's quote balance in a backtest (and an embedded sandbox's)."""


def traded_venues(
    exchange: ExchangeConfig, symbols: tuple[str, ...], starting_cash: Decimal
) -> tuple[TradedVenue, ...]:
    """The venues traded: ``exchange.venues``, or the section's own connection trading
    every symbol (the one-venue case, under the id ``exchange.name``)."""
    if not exchange.venues:
        return (TradedVenue(exchange.name, exchange, symbols, starting_cash),)
    return tuple(
        TradedVenue(venue_id, venue, tuple(venue.symbols), venue.starting_cash or starting_cash)
        for venue_id, venue in exchange.venues.items()
    )


def venue_coverage_problem(
    venues: Mapping[str, VenueConfig], symbols: tuple[str, ...]
) -> str | None:
    """Why ``trading.symbols`` and the venues' symbols do not match one to one (None: they do)."""
    if not venues:
        return None
    placed = {s for venue in venues.values() for s in venue.symbols}
    nowhere = [s for s in symbols if s not in placed]
    if nowhere:
        return (
            f"trading.symbols lists {', '.join(nowhere)}, which no venue trades: add "
            f"{'it' if len(nowhere) == 1 else 'them'} to exchange.venues.<id>.symbols "
            f"(venues: {', '.join(venues)}) or remove {'it' if len(nowhere) == 1 else 'them'}"
        )
    for venue_id, venue in venues.items():
        extra = [s for s in venue.symbols if s not in symbols]
        if extra:
            return (
                f"exchange.venues.{venue_id}.symbols lists {', '.join(extra)}, which "
                "trading.symbols does not: add it to trading.symbols (or leave trading.symbols "
                "out to trade every venue's symbols) or remove it from the venue"
            )
    return None


def pick_venue(venues: tuple[TradedVenue, ...], venue_id: str | None) -> TradedVenue:
    """The venue ``venue_id`` names, or the only one when it is None.

    Raises:
        ConfigError: no venue has that id, or several are configured and none was named.
    """
    ids = ", ".join(v.id for v in venues)
    if venue_id is None:
        if len(venues) == 1:
            return venues[0]
        msg = f"the config names several venues ({ids}): say which one (--venue)"
        raise ConfigError(msg)
    for venue in venues:
        if venue.id == venue_id:
            return venue
    msg = f"venue {venue_id!r} is not in the config (exchange.venues: {ids}); use one of those"
    raise ConfigError(msg)
