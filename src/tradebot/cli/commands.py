"""Which module of this package holds each top-level command; add yours here.

The table is read by ``build_app``: a command's module is imported only when that command
runs (or when help lists them all), so ``tradebot stop`` or ``tradebot sandbox`` does not pay
for importing scikit-learn, ccxt, pandas and FastAPI on every start. Tests that spawn dozens
of bot, sandbox and monitor processes pay that start-up each time.
"""

from __future__ import annotations

MODULES: dict[str, str] = {
    "demo": "demo",
    "backtest": "backtest",
    "optimize": "optimize",
    "strategies": "strategy",
    "lookahead-check": "strategy",
    "new-strategy": "scaffold",
    "config": "config",
    "data": "data",
    "download": "download",
    "sandbox": "sandbox",
    "exchange": "exchange",
    "run": "run",
    "stop": "run",
    "resume": "run",
    "status": "run",
    "state": "state",
    "locks": "locks",
    "explain": "explain",
    "report": "report",
    "monitor": "monitor",
    "dashboard": "dashboard",
    "serve": "serve",
    "walk-forward": "walkforward",
    "ml": "ml",
}
"""Top-level command name → module of ``tradebot.cli`` whose ``register(app)`` adds it."""
