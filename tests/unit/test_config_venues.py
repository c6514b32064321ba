"""``exchange.venues``: several exchange accounts in one config, today's config its one-venue
case, and every shape that cannot work refused naming the key, the value and the fix."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradebot.cli import build_app
from tradebot.config import load_credentials, parse_config
from tradebot.domain.errors import ConfigError
from tradebot.exchange.ccxt.factory import settings_from_config

TWO = """\
exchange:
  mode: paper
  venues:
    binance:
      sandbox: {embedded: false, port: 8765}
      symbols: [BTC/USDT]
    binance_b:
      sandbox: {embedded: false, port: 8766}
      symbols: [ETH/USDT, SOL/USDT]
      starting_cash: 2500
"""


def refusal(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="venues.yaml")
    return str(caught.value)


def test_venues_two_accounts_each_with_its_connection_and_symbols() -> None:
    config = parse_config(TWO)

    venues = {v.id: v for v in config.venues}

    assert config.trading.all_symbols == ("BTC/USDT", "ETH/USDT", "SOL/USDT")
    assert venues["binance"].symbols == ("BTC/USDT",)
    assert venues["binance_b"].symbols == ("ETH/USDT", "SOL/USDT")
    assert venues["binance"].connection.sandbox.port == 8765
    assert venues["binance_b"].connection.sandbox.port == 8766
    assert venues["binance"].starting_cash == Decimal(10_000)  # trading.starting_cash
    assert venues["binance_b"].starting_cash == Decimal(2_500)


def test_venues_todays_config_is_the_one_venue_case() -> None:
    config = parse_config("exchange: {timeout_s: 3}\ntrading: {symbols: [BTC/USDT, ETH/USDT]}\n")

    (venue,) = config.venues

    assert venue.id == "binance"
    assert venue.symbols == ("BTC/USDT", "ETH/USDT")
    assert venue.connection.timeout_s == 3


def test_venues_a_symbol_on_two_venues_refused() -> None:
    message = refusal(TWO.replace("[ETH/USDT, SOL/USDT]", "[ETH/USDT, BTC/USDT]"))

    assert "`exchange.venues`" in message
    assert "BTC/USDT is listed on venues binance and binance_b" in message
    assert "remove it from one of them" in message


def test_venues_a_traded_symbol_on_no_venue_refused() -> None:
    message = refusal(TWO + "trading:\n  symbols: [BTC/USDT, ETH/USDT, SOL/USDT, LTC/USDT]\n")

    assert "trading.symbols lists LTC/USDT, which no venue trades" in message
    assert "exchange.venues.<id>.symbols (venues: binance, binance_b)" in message


def test_venues_a_venue_symbol_not_traded_refused() -> None:
    message = refusal(TWO + "trading:\n  symbols: [BTC/USDT, ETH/USDT]\n")

    assert "exchange.venues.binance_b.symbols lists SOL/USDT" in message
    assert "trading.symbols does not" in message


def test_venues_a_connection_key_beside_venues_refused() -> None:
    message = refusal(TWO.replace("  mode: paper\n", "  mode: paper\n  timeout_s: 3\n"))

    assert "exchange.timeout_s is set beside exchange.venues" in message
    assert "exchange.venues.<id>.timeout_s" in message


def test_venues_an_unknown_exchange_or_a_bad_id_refused() -> None:
    unknown = refusal(TWO.replace("    binance_b:\n", "    binance_b:\n      name: kraken\n"))
    bad_id = refusal(TWO.replace("binance_b:", "Binance-B:"))

    assert "`exchange.venues.binance_b.name` = 'kraken'" in unknown
    assert "allowed: binance" in unknown
    assert "venue id 'Binance-B' must be lower case" in bad_id


def test_venues_of_two_quote_currencies_refused() -> None:
    message = refusal(TWO.replace("[ETH/USDT, SOL/USDT]", "[ETH/BTC]"))

    assert "must share one quote currency" in message


def test_venues_connection_settings_are_the_named_venues() -> None:
    config = parse_config(TWO)

    b = settings_from_config(config, venue_id="binance_b")
    with pytest.raises(ConfigError, match=r"several venues \(binance, binance_b\): say which one"):
        settings_from_config(config)
    with pytest.raises(ConfigError, match="venue 'kraken' is not in the config"):
        settings_from_config(config, venue_id="kraken")

    assert b.sandbox_url == "http://127.0.0.1:8766"


def test_venues_credentials_are_each_venues_own_not_the_environment() -> None:
    text = TWO.replace(
        "      starting_cash: 2500\n",
        "      starting_cash: 2500\n      api_key: ${B_KEY}\n      api_secret: ${B_SECRET}\n",
    )
    environ = {"B_KEY": "b-key", "B_SECRET": "b-secret"}
    config = parse_config(text, environ=environ)
    one_account = {"BINANCE_API_KEY": "k", "BINANCE_API_SECRET": "s"}

    assert load_credentials(config, venue="binance_b") == ("b-key", "b-secret")
    assert load_credentials(config, venue="binance", environ=one_account) is None


def test_venues_literal_keys_in_live_mode_refused_per_venue() -> None:
    text = TWO.replace("mode: paper", "mode: live").replace(
        "      starting_cash: 2500\n",
        "      starting_cash: 2500\n      api_key: plain\n      api_secret: ${B_SECRET}\n",
    )
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="live.yaml", environ={"B_SECRET": "x"})

    assert "`exchange.venues.binance_b.api_key` written literally" in str(caught.value)


def test_cli_run_several_venues_with_an_embedded_sandbox_refused(tmp_path: Path) -> None:
    config = tmp_path / "venues.yaml"
    config.write_text(TWO.replace("{embedded: false, port: 8766}", "{port: 8766}"))

    result = CliRunner().invoke(
        build_app(), ["run", "--mode", "paper", "-c", str(config), "--db", str(tmp_path / "b.db")]
    )

    assert result.exit_code == 2
    assert "exchange.venues.binance_b.sandbox.embedded is true" in result.output
    assert "tradebot sandbox --port" in result.output


def test_cli_state_rebuild_with_several_venues_refused(tmp_path: Path) -> None:
    config = tmp_path / "venues.yaml"
    config.write_text(TWO)

    result = CliRunner().invoke(
        build_app(), ["state", "rebuild", "-c", str(config), "--db", str(tmp_path / "n.db")]
    )

    assert result.exit_code == 2
    assert "with several venues (exchange.venues: binance, binance_b)" in result.output
