"""Find the exchange API key and secret: config values, then a credentials file, then env vars.

Why a separate step: the config may be shown, dumped into reports and logged; the plain key
and secret exist only in the tuple this returns, which goes straight to the exchange adapter.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from tradebot.config.exchange import pick_venue
from tradebot.config.model import Config
from tradebot.config.source import parse_yaml, read_text, refuse_shared_file
from tradebot.domain.errors import ConfigError

ENV_KEY = "BINANCE_API_KEY"
ENV_SECRET = "BINANCE_API_SECRET"  # noqa: S105 (the variable name, not a secret)
_FILE_NAMES = {
    "api_key": "api_key",
    "api_secret": "api_secret",
    ENV_KEY.lower(): "api_key",
    ENV_SECRET.lower(): "api_secret",
}


def load_credentials(
    config: Config, *, environ: Mapping[str, str] | None = None, venue: str | None = None
) -> tuple[str, str] | None:
    """Return ``(api_key, api_secret)``, or None when no credentials are configured anywhere.

    Order: ``exchange.api_key``/``api_secret`` (usually ``${...}`` from the environment), then
    ``exchange.credentials_file``, then the BINANCE_API_KEY/BINANCE_API_SECRET variables.
    With several venues, ``venue``'s own ``exchange.venues.<id>.api_key``/``api_secret`` or
    ``credentials_file``; the variables stand for one account, so they are not read then.

    Raises:
        ConfigError: the credentials file is missing, readable by others, unparsable, or
            holds only one of key and secret. Messages never include the values.
    """
    exchange = pick_venue(config.venues, venue).connection
    if exchange.api_key is not None and exchange.api_secret is not None:
        return exchange.api_key.get_secret_value(), exchange.api_secret.get_secret_value()
    if exchange.credentials_file is not None:
        return _from_file(exchange.credentials_file)
    if config.exchange.venues:
        return None
    env = os.environ if environ is None else environ
    key, secret = env.get(ENV_KEY) or None, env.get(ENV_SECRET) or None
    if key is None and secret is None:
        return None
    if key is None or secret is None:
        missing = ENV_KEY if key is None else ENV_SECRET
        msg = f"{missing} is not set; set both {ENV_KEY} and {ENV_SECRET}, or neither"
        raise ConfigError(msg)
    return key, secret


def _from_file(path: Path) -> tuple[str, str]:
    text = read_text(path)
    refuse_shared_file(path)
    values = _parse_env(text, path) if _looks_like_env(text) else _parse_mapping(text, path)
    found = {_FILE_NAMES[k.lower()]: v for k, v in values.items() if k.lower() in _FILE_NAMES}
    key, secret = found.get("api_key"), found.get("api_secret")
    if not key or not secret:
        msg = (
            f"{path}: needs both api_key and api_secret "
            f"(or {ENV_KEY} and {ENV_SECRET}); missing: "
            + ", ".join(name for name in ("api_key", "api_secret") if not found.get(name))
        )
        raise ConfigError(msg)
    return key, secret


def _looks_like_env(text: str) -> bool:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return bool(lines) and all("=" in ln and ":" not in ln.split("=", 1)[0] for ln in lines)


def _parse_env(text: str, path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        name, _, value = stripped.removeprefix("export ").partition("=")
        if not name.strip():
            msg = f"{path}: line {number} has no variable name before `=`"
            raise ConfigError(msg)
        values[name.strip()] = value.strip().strip("'\"")
    return values


def _parse_mapping(text: str, path: Path) -> dict[str, str]:
    document = parse_yaml(text, str(path))
    values: dict[str, str] = {}
    for name, value in document.items():
        if value is not None and not isinstance(value, str | int):
            msg = f"{path}: `{name}` must be text"
            raise ConfigError(msg)
        values[name] = "" if value is None else str(value)
    return values
