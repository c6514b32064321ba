"""Load a config: read YAML, resolve ``${ENV_VAR}``, validate, and refuse unsafe live setups."""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from tradebot.config.interpolate import Interpolation, interpolate
from tradebot.config.model import Config
from tradebot.config.problems import describe_errors
from tradebot.config.source import parse_yaml, read_text
from tradebot.domain.errors import ConfigError

DEFAULT_CONFIG_NAME = "default.yaml"
_KEY_FIELDS = ("api_key", "api_secret")


def default_config_text() -> str:
    """The YAML of the built-in default config shipped inside the package."""
    return resources.files("tradebot.config").joinpath(DEFAULT_CONFIG_NAME).read_text("utf-8")


def load_config(path: Path | None = None, *, environ: Mapping[str, str] | None = None) -> Config:
    """Load, interpolate and validate the config at ``path``; None loads the built-in default.

    ``environ`` (default: the process environment) supplies ``${ENV_VAR}`` values.

    Raises:
        ConfigError: the file is missing or not YAML, a variable is unset, a value is invalid,
            or live mode has API keys written in the file. The message names every problem.
    """
    if path is None:
        return parse_config(default_config_text(), source="built-in default", environ=environ)
    return parse_config(read_text(path), source=str(path), environ=environ)


def parse_config(
    text: str, *, source: str = "<string>", environ: Mapping[str, str] | None = None
) -> Config:
    """Like ``load_config`` for YAML already in memory; ``source`` names it in errors."""
    raw = parse_yaml(text, source)
    outcome = Interpolation()
    resolved = interpolate(raw, os.environ if environ is None else environ, outcome)
    if outcome.problems:
        lines = "\n".join(f"  - {problem}" for problem in outcome.problems)
        msg = f"{source}: environment variables missing or malformed:\n{lines}"
        raise ConfigError(msg)
    config = validate_config(resolved, source)
    _refuse_literal_live_keys(raw, config, source)
    return config


def validate_config(data: object, source: str) -> Config:
    """Validate already-resolved data into a Config, or raise one ConfigError naming all faults."""
    try:
        return Config.model_validate(data)
    except ValidationError as e:
        raise ConfigError(describe_errors(e, Config, source)) from None


def _refuse_literal_live_keys(raw: Mapping[str, object], config: Config, source: str) -> None:
    # A key written in the file ends up in backups, repos and screenshots; live money needs
    # the key to come from the environment or a separate credentials file.
    if config.exchange.mode != "live":
        return
    exchange = raw.get("exchange")
    if not isinstance(exchange, Mapping):
        return
    venues = exchange.get("venues")
    sections = {"exchange": exchange}
    if isinstance(venues, Mapping):
        sections.update(
            (f"exchange.venues.{v}", section)
            for v, section in venues.items()
            if isinstance(section, Mapping)
        )
    literal = [
        f"`{path}.{name}`"
        for path, section in sections.items()
        for name in _KEY_FIELDS
        if isinstance(section.get(name), str) and "${" not in str(section.get(name))
    ]
    if literal:
        fields = " and ".join(literal)
        msg = (
            f"{source}: {fields} written literally in the config; live mode refuses API keys "
            "stored in the config file. Write api_key: ${BINANCE_API_KEY} and "
            "api_secret: ${BINANCE_API_SECRET}, or use exchange.credentials_file"
        )
        raise ConfigError(msg)


def with_overrides(config: Config, updates: Mapping[str, object], source: str) -> Config:
    """Return ``config`` with dotted-key ``updates`` applied and everything validated again.

    For command-line options: ``{"trading.symbol": "ETH/USDT", "backtest.start": "2024-06-01"}``.
    ``model_copy(update=...)`` would skip validation; this does not.

    Raises:
        ConfigError: an update names an unknown key or gives an invalid value.
    """
    data = _unmasked_dump(config)
    for dotted, value in updates.items():
        node = data
        *parents, leaf = dotted.split(".")
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                msg = f"{source}: `{dotted}`: `{part}` is a value, not a section"
                raise ConfigError(msg)
            node = child
        node[leaf] = value
    return validate_config(data, source)


def _unmasked_dump(config: Config) -> dict[str, object]:
    # Secrets stay SecretStr objects, which validate again unchanged.
    return config.model_dump(mode="python", exclude_unset=True)
