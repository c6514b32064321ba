"""A typer group that imports a command's module only when that command is asked for."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

import typer
from typer._click import Command, Context, HelpFormatter  # typer vendors click
from typer.core import TyperCommand, TyperGroup

from tradebot.cli.commands import COMMANDS, Listed


class _LazyCommands(MutableMapping[str, Command]):
    """Command name → click command, importing the command's module on first look-up."""

    def __init__(self, listed: Mapping[str, Listed]) -> None:
        self._listed = listed
        self._loaded: dict[str, Command] = {}

    def __getitem__(self, name: str) -> Command:
        if name not in self._loaded and name in self._listed:
            self._loaded.update(_commands_of(self._listed[name].module))
        return self._loaded[name]

    def __setitem__(self, name: str, command: Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self._listed, *self._loaded]))

    def __len__(self) -> int:
        return len(dict.fromkeys([*self._listed, *self._loaded]))

    def summaries(self) -> dict[str, Command]:
        """Every command as help lists it: name and summary, none of them imported."""
        return {
            name: self._loaded.get(name) or TyperCommand(name, short_help=listed.summary)
            for name, listed in self._listed.items()
        } | self._loaded


def _commands_of(module_name: str) -> dict[str, Command]:
    # each command module adds its commands to the app it is given; give it a scratch one
    module = importlib.import_module(f"tradebot.cli.{module_name}")
    scratch = typer.Typer()
    module.register(scratch)
    return dict(typer.main.get_group(scratch).commands)


class LazyGroup(TyperGroup):
    """The ``tradebot`` group: every command of ``commands.COMMANDS``, each loaded on demand."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = self._lazy = _LazyCommands(COMMANDS)

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        """Print the help, listing the commands from the table instead of importing them."""
        self.commands = self._lazy.summaries()
        try:
            super().format_help(ctx, formatter)
        finally:
            self.commands = self._lazy
