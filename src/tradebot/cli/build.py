"""Which build of tradebot is running: the order lifecycle compiled by mypyc, or pure Python.

A wheel compiles it where a C compiler is (``hatch_build.py``) and quietly falls back to pure
Python where none is; pip shows the build hook's warning only with ``-v``. ``tradebot
--version`` says which one this is, since the compiled build backtests about twice as fast.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec

# One module stands for the compiled set: the wheel compiles all of it or none.
_WITNESS = "tradebot.orchestrator.engine"


def is_compiled() -> bool:
    """Whether the engine is a compiled extension here (found without importing it)."""
    spec = find_spec(_WITNESS)
    return spec is not None and spec.origin is not None and not spec.origin.endswith(".py")


def describe_build() -> str:
    """``tradebot <version>: <build>``, the line ``tradebot --version`` prints."""
    try:
        number = version("tradebot")
    except PackageNotFoundError:  # run from a source tree that was never installed
        number = "(not installed)"
    if is_compiled():
        return f"tradebot {number}: the order lifecycle compiled by mypyc"
    return (
        f"tradebot {number}: pure Python (an editable install, or a wheel built without a C "
        "compiler; `pip install .` where one is compiles the order lifecycle, about twice as fast)"
    )
