"""The ``tradebot`` command table: every command is listed and runs, each loaded on demand."""

from __future__ import annotations

import importlib
import subprocess
import sys

import typer
from typer.testing import CliRunner

from tradebot.cli import build_app
from tradebot.cli.commands import MODULES


def test_commands_table_names_exactly_what_each_module_registers() -> None:
    # Arrange
    registered: dict[str, str] = {}
    for module_name in dict.fromkeys(MODULES.values()):
        scratch = typer.Typer()
        importlib.import_module(f"tradebot.cli.{module_name}").register(scratch)
        group = typer.main.get_group(scratch)
        registered |= dict.fromkeys(group.commands, module_name)

    # Assert
    assert registered == MODULES


def test_help_lists_every_command() -> None:
    # Act
    result = CliRunner().invoke(build_app(), ["--help"], env={"COLUMNS": "200"})

    # Assert
    assert result.exit_code == 0, result.output
    listed = {line.split()[1] for line in result.output.splitlines() if line.startswith("│ ")}
    assert set(MODULES) <= listed


def test_unknown_command_is_refused_with_a_suggestion() -> None:
    # Act
    result = CliRunner().invoke(build_app(), ["sandbx"])

    # Assert
    assert result.exit_code == 2
    assert "No such command 'sandbx'" in result.output
    assert "'sandbox'" in result.output


def test_a_command_starts_without_importing_the_other_commands_libraries() -> None:
    # Arrange: a fresh interpreter, as every `tradebot stop` and spawned test bot is
    probe = (
        "import sys\n"
        "from tradebot.cli import main\n"
        "sys.argv = ['tradebot', 'sandbox', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('sklearn', 'fastapi', 'pandas', 'tradebot.cli.run')"
        " if m in sys.modules))\n"
    )

    # Act
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout

    # Assert
    assert "Run a local exchange" in out
    assert out.strip().splitlines()[-1] == "[]"
