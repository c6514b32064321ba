"""What the commands that read a bot's config and state set up first: the config with the
command line applied, the logging it asks for, and the bot's database.

Its own module, light to import, so that ``tradebot locks``, ``state``, ``explain`` and the
others (and their ``--help``) do not import ``run``'s exchange, sandbox and engine.
"""

from __future__ import annotations

from pathlib import Path

import typer

from tradebot.config import Config, load_config, with_overrides
from tradebot.domain.errors import ConfigError
from tradebot.monitoring.logging import configure_logging, environment_secrets
from tradebot.state import Repository, create_database


def configure(config_path: Path | None, mode: str | None, db: Path | None) -> Config:
    """The config file with ``--mode`` and ``--db`` applied (``tradebot state`` uses it too)."""
    config = load_config(config_path)
    updates: dict[str, object] = {}
    if mode is not None:
        if mode not in ("paper", "live"):
            raise ConfigError(f"--mode {mode!r}: choose paper or live")
        updates["exchange.mode"] = mode
    if db is not None:
        updates["database.path"] = str(db)
        updates["database.url"] = None
    return with_overrides(config, updates, "command line") if updates else config


def log_as_configured(context: typer.Context, config: Config) -> None:
    """Log at ``monitoring.log_level`` in ``monitoring.log_format`` unless ``--log-level``,
    ``TRADEBOT_LOG_LEVEL`` or ``--log-json`` said otherwise: the commands that keep running
    (``run``, ``serve``, ``monitor``, ``dashboard``) call it once the config is read."""
    root = context.find_root()
    sources = [root.get_parameter_source(name) for name in ("log_level", "log_json")]
    if all(source is None or source.name == "DEFAULT" for source in sources):
        settings = config.monitoring
        configure_logging(settings.log_level, settings.log_format, environment_secrets())


def open_repository(config: Config, *, create: bool = True) -> Repository:
    """The bot's database as ``config`` names it; with ``create=False`` it must exist.

    Raises:
        ConfigError: ``create=False`` and there is no database file.
        StateError: the database cannot be used (see ``create_database``).
    """
    url = config.database.sqlalchemy_url
    if not create and config.database.url is None and not config.database.path.exists():
        raise ConfigError(
            f"no bot database at {config.database.path}; pass --db PATH of a bot's state"
        )
    if config.database.url is None:
        config.database.path.parent.mkdir(parents=True, exist_ok=True)
    venue_of = {s: v.id for v in config.venues for s in v.symbols}
    return Repository(create_database(url), venues=venue_of)


def existing_repository(config: Config) -> Repository:
    """The state of a bot that has run (``status``, ``explain``); never creates a database.

    Raises:
        ConfigError: there is no database at the configured path.
    """
    return open_repository(config, create=False)
