"""The ``tradebot`` command table: every command is listed and runs, each loaded on demand."""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import subprocess
import sys

import typer
from typer._click import Command
from typer.testing import CliRunner

from tradebot.cli import build_app
from tradebot.cli.commands import COMMANDS

# What a command other than backtest or run needs none of, and `tradebot --help` none at all
HEAVY = ("sklearn", "lightgbm", "optuna", "ray", "plotly", "fastapi", "pandas", "ccxt")
# What the commands do their work with, and so what none of them needs for its --help: the
# libraries, and the command modules' work (``cli/<command>_session.py``)
WORK = (
    *HEAVY, "numpy", "scipy", "pyarrow", "sqlalchemy", "alembic", "aiohttp", "redis",
    "uvicorn", "starlette", "prometheus_client", "argon2", "cryptography", "psutil",
)  # fmt: skip


def _registered() -> dict[str, tuple[str, Command]]:
    """Command name → (module, click command), from each module's own ``register``."""
    registered: dict[str, tuple[str, Command]] = {}
    for module_name in dict.fromkeys(listed.module for listed in COMMANDS.values()):
        scratch = typer.Typer()
        importlib.import_module(f"tradebot.cli.{module_name}").register(scratch)
        group = typer.main.get_group(scratch)
        registered |= {name: (module_name, c) for name, c in group.commands.items()}
    return registered


def _first_paragraph(help_text: str) -> str:
    # what typer's command list shows of a help text, on one line
    return " ".join(inspect.cleandoc(help_text).split("\n\n")[0].split())


def test_commands_table_names_exactly_what_each_module_registers() -> None:
    # Act
    registered = _registered()

    # Assert
    assert {name: module for name, (module, _) in registered.items()} == {
        name: listed.module for name, listed in COMMANDS.items()
    }


def test_commands_table_summary_is_each_commands_own_help() -> None:
    # Arrange: help lists the table's summaries; they must not drift from the docstrings
    registered = _registered()

    # Act
    own = {name: _first_paragraph(c.help or "") for name, (_, c) in registered.items()}

    # Assert
    assert own == {name: listed.summary for name, listed in COMMANDS.items()}


def test_help_lists_every_command() -> None:
    # Act
    result = CliRunner().invoke(build_app(), ["--help"], env={"COLUMNS": "200"})

    # Assert
    assert result.exit_code == 0, result.output
    listed = {line.split()[1] for line in result.output.splitlines() if line.startswith("│ ")}
    assert set(COMMANDS) <= listed
    assert "Backtest a strategy on historical candles and write an HTML report." in result.output


def test_unknown_command_is_refused_with_a_suggestion() -> None:
    # Act
    result = CliRunner().invoke(build_app(), ["sandbx"])

    # Assert
    assert result.exit_code == 2
    assert "No such command 'sandbx'" in result.output
    assert "'sandbox'" in result.output


def help_in_a_fresh_interpreter(commands: list[list[str]], loaded: str) -> tuple[str, str]:
    """Print each command line's help in a new interpreter, as every `tradebot` process
    starts; the output, and the last line: ``loaded`` (a Python expression over
    ``sys.modules``) evaluated after the help. The output also holds ``loaded`` after each
    command line's help, as ``after ['serve', 'strategy']: <loaded>``."""
    probe = (
        "import sys\n"
        "from tradebot.cli import main\n"
        f"heavy = {HEAVY!r}\n"
        f"for command in {commands!r}:\n"
        "    sys.argv = ['tradebot', *command, '--help']\n"
        "    try:\n        main()\n    except SystemExit:\n        pass\n"
        f"    print(f'after {{command}}:', {loaded})\n"
        f"print({loaded})\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "200"},
    ).stdout
    return out, out.strip().splitlines()[-1]


def test_a_command_starts_without_importing_the_other_commands_libraries() -> None:
    # Act
    out, loaded = help_in_a_fresh_interpreter(
        [["sandbox"]],
        "sorted(m for m in ('sklearn', 'fastapi', 'pandas', 'tradebot.cli.run_session')"
        " if m in sys.modules)",
    )
    # Assert
    assert "Run a local exchange" in out
    assert loaded == "[]"


def test_help_lists_the_commands_without_importing_them() -> None:
    # Act: listing every command's module took 4.5 s of CPU
    out, loaded = help_in_a_fresh_interpreter(
        [[]],
        "sorted(m for m in sys.modules if m.split('.')[0] in heavy or m.startswith("
        "'tradebot.cli.') and m.rsplit('.', 1)[1] not in ('commands', 'lazy_group'))",
    )
    # Assert
    assert "walk-forward" in out
    assert "Run one service of the distributed deployment" in out
    assert loaded == "[]"


def test_run_and_serve_start_without_the_dashboards_libraries() -> None:
    # Act: FastAPI, uvicorn and plotly are imported by a process that serves the dashboard,
    # not by every bot and service that starts
    out, loaded = help_in_a_fresh_interpreter(
        [["run"], ["serve", "strategy"]],
        "sorted(m for m in ('fastapi', 'uvicorn', 'plotly') if m in sys.modules)",
    )
    # Assert
    assert "Trade the configured strategy" in out
    assert "Usage: tradebot serve strategy" in out
    assert loaded == "[]"


def test_the_commands_over_a_bots_state_start_without_run_and_the_exchange() -> None:
    # Act: locks, explain and monitor read the config and the database (cli/setup.py), not
    # `run`'s exchange, sandbox and engine
    out, loaded = help_in_a_fresh_interpreter(
        [["locks"], ["explain"], ["monitor"]],
        "sorted(m for m in ('tradebot.cli.run_session', 'ccxt', 'aiohttp') if m in sys.modules)",
    )
    # Assert
    assert "Print a decision" in out
    assert loaded == "[]"


def test_run_and_its_controls_answer_help_without_the_exchange_and_the_engine() -> None:
    # Act: `tradebot run --help` imported the exchange, the sandbox, the engine and the
    # database with the command's module (3.5 s); they come when the command runs
    out, loaded = help_in_a_fresh_interpreter(
        [["run"], ["stop"], ["resume"], ["status"]],
        "sorted(m for m in ('tradebot.cli.run_session', 'ccxt', 'aiohttp', 'pandas',"
        " 'sqlalchemy', 'tradebot.orchestrator.engine') if m in sys.modules)",
    )
    # Assert
    assert "Trade the configured strategy" in out
    assert "--i-understand-this-trades-real-money" in out
    assert "Set the kill switch back to ACTIVE" in out
    assert loaded == "[]"


def test_every_commands_help_imports_none_of_what_the_command_works_with() -> None:
    # Act: `--help` imported the command's module, and with it what the command runs with:
    # serve, optimize, walk-forward, demo and ml took 2.7-3.2 s of CPU, state 2.3, dashboard
    # 1.8. Each module declares its commands; what they do is imported when one runs.
    out, _ = help_in_a_fresh_interpreter(
        [[name] for name in COMMANDS],
        f"sorted(m for m in sys.modules if m.split('.')[0] in {WORK!r}"
        " or m.startswith('tradebot.cli.') and m.endswith('_session'))",
    )

    # Assert: what each command's help imported first (what an earlier one imported is
    # not imported again); none of it for any command
    first: dict[str, list[str]] = {}
    seen: set[str] = set()
    for line in out.splitlines():
        if line.startswith("after ["):
            command, _, modules = line.removeprefix("after ").partition(": ")
            loaded = set(ast.literal_eval(modules))
            first[" ".join(ast.literal_eval(command))] = sorted(loaded - seen)
            seen |= loaded
    assert {name: first[name] for name in COMMANDS} == {name: [] for name in COMMANDS}


def test_version_says_whether_the_order_lifecycle_is_compiled() -> None:
    # ``make test`` runs the editable install (never compiled); ``make test-compiled`` runs
    # the wheel's compiled modules and sets TRADEBOT_EXPECT_COMPILED=1
    compiled = os.environ.get("TRADEBOT_EXPECT_COMPILED") == "1"

    main = "from tradebot.cli import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", main, "--version"], capture_output=True, text=True, check=False
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("tradebot 0.1.0: ")
    if compiled:
        assert "the order lifecycle compiled by mypyc" in done.stdout
    else:
        assert "pure Python (an editable install, or a wheel built without a C compiler" in (
            done.stdout
        )
