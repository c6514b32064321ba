"""The deployment examples under ``deploy/`` say only what the CLI and the config accept.

Docker is not on the test machines, so the compose file cannot be brought up here; what can
go stale without anyone noticing is checked instead: every service command in
``docker-compose.yml`` and every systemd ``ExecStart`` parses as a ``tradebot`` command line
(a renamed option or service fails here, not on a trader's server), ``deploy/services.yaml``
is a valid config whose sandbox, Redis and database agree with the compose file, and the
Redis example is passworded, loopback-only and journalled (the bus's loss window assumes AOF).
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.core import TyperGroup

from tradebot.cli import build_app
from tradebot.config import load_config

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SERVICES = ("execution", "market-data", "monitor", "strategy")
COMPOSE_CONFIG = {  # each compose file and the services config it mounts
    "docker-compose.yml": "services.yaml",
    "docker-compose.two-venues.yml": "services-two-venues.yaml",
}
COMPOSE_FILES = sorted(COMPOSE_CONFIG)


def _compose(name: str = "docker-compose.yml") -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _compose_commands(name: str = "docker-compose.yml") -> dict[str, list[str]]:
    """The arguments each service built from the tradebot image gives its ``tradebot`` entry."""
    services = _compose(name)["services"]
    assert isinstance(services, dict)
    anchor = _compose(name)["x-tradebot"]
    assert isinstance(anchor, dict)
    return {
        name: list(spec["command"])
        for name, spec in services.items()
        if spec.get("image", anchor["image"]) == anchor["image"]
    }


def _systemd_command(unit: Path) -> list[str]:
    exec_start = next(
        line.removeprefix("ExecStart=")
        for line in unit.read_text(encoding="utf-8").splitlines()
        if line.startswith("ExecStart=")
    )
    binary, *args = shlex.split(exec_start.replace("%H", "host1"))
    assert binary.endswith("/bin/tradebot"), f"{unit.name} runs {binary}, not tradebot"
    return args


def _parse(args: list[str]) -> Any:
    """Parse ``tradebot <args>`` as the CLI would, without running it; a bad line raises
    (typer's vendored click classes are private, hence ``Any``)."""
    command: Any = typer.main.get_command(build_app())
    context = command.make_context("tradebot", [], resilient_parsing=True)
    rest = list(args)
    while isinstance(command, TyperGroup):
        name, *rest = rest
        command = command.get_command(context, name)
        assert command is not None, f"tradebot has no command {name!r} (in {args})"
        if isinstance(command, TyperGroup):
            context = command.make_context(name, [], parent=context, resilient_parsing=True)
    return command.make_context(command.name, rest, parent=context)


@pytest.mark.parametrize(
    ("compose", "service"),
    [(name, service) for name in COMPOSE_FILES for service in sorted(_compose_commands(name))],
)
def test_compose_command_is_a_tradebot_command_line(compose: str, service: str) -> None:
    args = _compose_commands(compose)[service]

    context = _parse(args)

    assert context.command.name == (args[1] if args[0] == "serve" else args[0])


@pytest.mark.parametrize("service", SERVICES)
def test_systemd_unit_runs_its_service(service: str) -> None:
    args = _systemd_command(DEPLOY / "systemd" / f"tradebot-{service}.service")

    context = _parse(args)

    assert args[:2] == ["serve", service]
    assert context.params["config_path"] == Path("/etc/tradebot/services.yaml")


@pytest.mark.parametrize("compose", COMPOSE_FILES)
def test_compose_runs_every_service_on_the_mounted_config(compose: str) -> None:
    commands = _compose_commands(compose)
    for service in SERVICES:
        context = _parse(commands[service])
        assert commands[service][:2] == ["serve", service]
        assert context.params["config_path"] == Path("/etc/tradebot/services.yaml")
    mount = f"./{COMPOSE_CONFIG[compose]}:/etc/tradebot/services.yaml:ro"
    assert mount in _compose(compose)["x-tradebot"]["volumes"]


def test_a_misspelt_option_is_caught_by_the_parse() -> None:
    with pytest.raises(Exception, match="No such option: --nmae"):
        _parse(["serve", "strategy", "-c", "/etc/tradebot/services.yaml", "--nmae", "s1"])


@pytest.mark.parametrize("compose", COMPOSE_FILES)
def test_services_config_is_valid_and_agrees_with_the_compose_file(compose: str) -> None:
    config = load_config(
        DEPLOY / COMPOSE_CONFIG[compose],
        environ={"TRADEBOT_REDIS_PASSWORD": "a-long-test-password"},
    )
    commands = _compose_commands(compose)

    # every venue's sandbox is one the compose file starts, and has its market-data service
    sandbox_ports = {
        int(args[args.index("--port") + 1]) for args in commands.values() if args[0] == "sandbox"
    }
    feeds = [args for args in commands.values() if args[:2] == ["serve", "market-data"]]
    fed = {args[args.index("--venue") + 1] if "--venue" in args else None for args in feeds}
    venues = config.venues
    assert config.exchange.mode == "paper"
    assert {v.connection.sandbox.port for v in venues} == sandbox_ports
    assert all(v.connection.sandbox.embedded is False for v in venues)
    assert fed == ({v.id for v in venues} if len(venues) > 1 else {None})
    assert config.services.bus.host == "127.0.0.1"
    assert config.services.bus.secret() == "a-long-test-password"
    state_volume = next(
        v for v in _compose(compose)["x-tradebot"]["volumes"] if "tradebot-state" in v
    )
    assert config.database.path.is_relative_to(state_volume.split(":")[1])


def test_redis_example_is_passworded_loopback_and_journalled() -> None:
    settings = dict(
        line.split(maxsplit=1)
        for line in (DEPLOY / "redis" / "redis.conf").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    )

    assert settings["bind"].split()[0] == "127.0.0.1"
    assert all(address in {"127.0.0.1", "-::1", "::1"} for address in settings["bind"].split())
    assert settings["protected-mode"] == "yes"
    assert settings["requirepass"].startswith("CHANGE-ME")
    assert settings["appendonly"] == "yes"
