"""The list of command modules; add yours here (one line) so ``build_app`` registers it."""

from __future__ import annotations

from types import ModuleType

from tradebot.cli import (
    backtest,
    config,
    dashboard,
    data,
    demo,
    download,
    exchange,
    explain,
    locks,
    ml,
    monitor,
    optimize,
    report,
    run,
    sandbox,
    scaffold,
    serve,
    state,
    strategy,
    walkforward,
)

MODULES: list[ModuleType] = [
    demo,
    backtest,
    optimize,
    strategy,
    scaffold,
    config,
    data,
    download,
    sandbox,
    exchange,
    run,
    state,
    locks,
    explain,
    report,
    monitor,
    dashboard,
    serve,
    walkforward,
    ml,
]
