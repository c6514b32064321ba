"""The top-level commands: each one's module and the line ``tradebot --help`` shows for it.

The table is read by ``build_app``: a command's module is imported only when that command
runs, so ``tradebot stop`` or ``tradebot sandbox`` does not pay for importing scikit-learn,
ccxt, pandas and FastAPI on every start, and ``tradebot --help`` lists every command from
the summaries here without importing any (importing them all took 4.5 s of CPU). Each
summary is the first paragraph of its command's own help; a unit test holds them equal, so
change both together. Tests that spawn dozens of bot, sandbox and monitor processes pay the
start-up each time.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Listed:
    """Where a top-level command lives and what ``tradebot --help`` says of it."""

    module: str
    """Module of ``tradebot.cli`` whose ``register(app)`` adds the command."""
    summary: str
    """The first paragraph of the command's help, on one line."""


COMMANDS: dict[str, Listed] = {
    "demo": Listed(
        "demo", "Backtest the built-in default on the bundled data, then paper-trade it."
    ),
    "backtest": Listed(
        "backtest", "Backtest a strategy on historical candles and write an HTML report."
    ),
    "optimize": Listed(
        "optimize",
        "Optimise a strategy's parameters (Optuna) on the same engine that trades live.",
    ),
    "strategies": Listed(
        "strategy",
        "List the built-in strategies (and the ml extra's) with their parameters and defaults.",
    ),
    "lookahead-check": Listed(
        "strategy",
        "Recompute a strategy on truncated histories; exit 1 if a value depends on the future.",
    ),
    "new-strategy": Listed(
        "scaffold",
        "Write FOLDER/NAME.py (a strategy that already trades) and FOLDER/NAME.yaml (its config).",
    ),
    "config": Listed("config", "Show or validate a config file."),
    "data": Listed("data", "Check, list, import and export candle data."),
    "download": Listed(
        "download",
        "Download closed candles into the store, resuming from the last stored one.",
    ),
    "sandbox": Listed(
        "sandbox",
        "Run a local exchange that speaks Binance's spot API (REST under /api/v3 and "
        "websockets) on 127.0.0.1, replaying historical candles with a synthetic order book.",
    ),
    "exchange": Listed("exchange", "Check the exchange account the bot trades on."),
    "run": Listed(
        "run", "Trade the configured strategy on paper (local sandbox) or live until Ctrl-C."
    ),
    "stop": Listed(
        "run", "Halt the bot (no new orders; stops stay); with --flatten close everything."
    ),
    "resume": Listed(
        "run",
        "Set the kill switch back to ACTIVE after a stop or a halt (look at status first).",
    ),
    "status": Listed(
        "run", "Print the kill switch, last bar, open orders, position and last snapshot."
    ),
    "state": Listed("state", "The bot's saved state: rebuild it from the exchange."),
    "locks": Listed("locks", "The protections' locks on new entries: list them, lift them."),
    "explain": Listed(
        "explain",
        "Print a decision: signal and reason, indicators, risk checks, action, orders, fills.",
    ),
    "report": Listed(
        "report",
        "Write the HTML report of a paper or live session: the backtest's report, metrics "
        "and files, computed from the orders, fills, trades, decisions and equity the bot "
        "saved.",
    ),
    "monitor": Listed(
        "monitor", "Send the bot's alerts and answer Telegram commands until Ctrl-C."
    ),
    "dashboard": Listed("dashboard", "The web dashboard and REST API over a bot's database."),
    "serve": Listed(
        "serve", "Run one service of the distributed deployment (docs/distributed.md)."
    ),
    "walk-forward": Listed(
        "walkforward",
        "Walk forward: optimise each in-sample window, trade the next one, and say whether "
        "the result is an edge or luck (PBO, deflated Sharpe, random entries, Monte Carlo).",
    ),
    "ml": Listed(
        "ml", "Machine-learning models: evaluate walk-forward and purged, train, list, promote."
    ),
}
"""Top-level command name → its module and summary, in the order help lists them."""
