"""Settings the bot cannot act on are refused at load time (DESIGN rule 10): the error names
the key, the value and what to do, instead of a config that loads and is ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradebot.config import load_config, parse_config
from tradebot.domain.errors import ConfigError
from tradebot.exchange.ccxt.factory import Venue, settings_from_config


def load_error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return str(info.value)


def test_execution_stops_on_exchange_false_is_refused_naming_what_to_do(tmp_path: Path) -> None:
    # Every mode rests its stop-losses on the venue; a stop kept only in the bot is not built.
    message = load_error(tmp_path, "execution: {stops_on_exchange: false}\n")

    assert "execution.stops_on_exchange" in message
    assert "false" in message
    assert "remove the key" in message


def test_execution_stops_on_exchange_true_loads(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("execution: {stops_on_exchange: true}\n", encoding="utf-8")

    assert load_config(path).execution.stops_on_exchange is True


@pytest.mark.parametrize(("testnet", "venue"), [(True, Venue.TESTNET), (False, Venue.LIVE)])
def test_live_connection_is_the_exchange_section_s(testnet: bool, venue: Venue) -> None:
    # testnet: false is real money: the connection must follow the key, not a default.
    text = f"""
exchange:
  mode: live
  testnet: {str(testnet).lower()}
  rate_limit_weight_per_minute: 600
  timeout_s: 3.5
"""
    config = parse_config(text)

    settings = settings_from_config(config)

    assert settings.venue is venue
    assert settings.budget.weight_per_window == 600
    assert settings.timeout_s == 3.5
