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


def _compose() -> dict[str, object]:
    loaded = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _compose_commands() -> dict[str, list[str]]:
    """The arguments each service built from the tradebot image gives its ``tradebot`` entry."""
    services = _compose()["services"]
    assert isinstance(services, dict)
    anchor = _compose()["x-tradebot"]
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


@pytest.mark.parametrize("service", sorted(_compose_commands()))
def test_compose_command_is_a_tradebot_command_line(service: str) -> None:
    args = _compose_commands()[service]

    context = _parse(args)

    assert context.command.name == (args[1] if args[0] == "serve" else args[0])


@pytest.mark.parametrize("service", SERVICES)
def test_systemd_unit_runs_its_service(service: str) -> None:
    args = _systemd_command(DEPLOY / "systemd" / f"tradebot-{service}.service")

    context = _parse(args)

    assert args[:2] == ["serve", service]
    assert context.params["config_path"] == Path("/etc/tradebot/services.yaml")


def test_compose_runs_every_service_on_the_mounted_config() -> None:
    commands = _compose_commands()
    for service in SERVICES:
        context = _parse(commands[service])
        assert commands[service][:2] == ["serve", service]
        assert context.params["config_path"] == Path("/etc/tradebot/services.yaml")
    anchor = _compose()["x-tradebot"]
    assert isinstance(anchor, dict)
    assert "./services.yaml:/etc/tradebot/services.yaml:ro" in anchor["volumes"]


def test_a_misspelt_option_is_caught_by_the_parse() -> None:
    with pytest.raises(Exception, match="No such option: --nmae"):
        _parse(["serve", "strategy", "-c", "/etc/tradebot/services.yaml", "--nmae", "s1"])


def test_services_config_is_valid_and_agrees_with_the_compose_file() -> None:
    config = load_config(
        DEPLOY / "services.yaml", environ={"TRADEBOT_REDIS_PASSWORD": "a-long-test-password"}
    )

    sandbox_args = _compose_commands()["sandbox"]
    assert config.exchange.mode == "paper"
    assert config.exchange.sandbox.embedded is False
    assert config.exchange.sandbox.port == int(sandbox_args[sandbox_args.index("--port") + 1])
    assert config.services.bus.host == "127.0.0.1"
    assert config.services.bus.secret() == "a-long-test-password"
    state_volume = next(v for v in _compose()["x-tradebot"]["volumes"] if "tradebot-state" in v)
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
