"""A local exchange that speaks Binance's spot API (REST + websockets) for paper trading and tests.

It stands for the outside world, so it imports nothing of tradebot but ``domain``. Prices come
from replayed candles, the book is synthesised around them, and unmodified ccxt trades
against it once its URLs point here (``tradebot.exchange.ccxt.sandbox_client``). See
docs/sandbox.md.
"""

from tradebot.sandbox.config import FaultConfig, SandboxConfig
from tradebot.sandbox.server import SandboxServer
from tradebot.sandbox.thread import run_sandbox_in_thread

__all__ = ["FaultConfig", "SandboxConfig", "SandboxServer", "run_sandbox_in_thread"]
