"""Build hook: a wheel of tradebot carries its order lifecycle compiled by mypyc, when it can.

The engine's loop is hundreds of small Python calls per round trip. mypyc turns the
modules listed in pyproject.toml (``[tool.hatch.build.targets.wheel.hooks.custom]
modules``: the ones every bar and order passes through, in backtest, paper and live alike)
into C extensions, from the same source, already mypy-strict; the backtest's loop then runs
about three times faster in CPU time with the same trades (docs/backtest.md, "Compiled").

What is compiled is the same code an editable install runs from source:

- An editable install (``make install``, ``pip install -e``) is never compiled: a ``.so``
  beside its ``.py`` would shadow the source, and an edit would silently not run.
- A wheel (``pip install .``, ``pip wheel .``) is compiled when a C compiler and mypyc
  work here; if either does not, the hook says why and the wheel is pure Python, which runs
  the same (a slower install is better than a failed one).
- ``TRADEBOT_PURE_PYTHON=1`` builds a pure-Python wheel on purpose.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# Types come from the source alone, the same on every machine: mypy reads neither the
# project's strict configuration (found by walking up from ``src``) nor any installed package,
# so a third-party value is Any to mypyc whatever the build environment holds. (Reading them,
# a user's fresh ``pip install .`` failed the compile on numpy's types and quietly built pure
# Python.) ``make check`` holds the source to mypy --strict with everything installed.
_MYPY_ARGS = ("--no-site-packages", "--ignore-missing-imports", "--python-version", "3.11")

_SETUP = """\
import sys
from setuptools import setup
from mypyc.build import mypycify

modules, mypy_args, target = sys.argv[1].split(","), sys.argv[2].split(","), sys.argv[3]
sys.argv = [sys.argv[0], *sys.argv[4:]]
setup(name="tradebot-compiled", ext_modules=mypycify([*mypy_args, *modules], opt_level="3",
      target_dir=target))
"""


class CompileCore(BuildHookInterface):
    """Compile the listed modules into a standard wheel; leave every other build alone."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        if os.environ.get("TRADEBOT_PURE_PYTHON") == "1":
            self.app.display_info("tradebot: TRADEBOT_PURE_PYTHON=1, building pure Python")
            return
        source = Path(self.root) / "src"
        try:
            modules = list(self.config["modules"])
            extensions = compile_modules(source, modules, Path(self.directory) / "mypyc")
        except CompileUnavailable as exc:
            self.app.display_warning(f"tradebot: not compiled, pure Python instead: {exc}")
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        for built, inside_wheel in extensions.items():
            build_data["force_include"][str(built)] = inside_wheel


class CompileUnavailable(Exception):
    """This machine cannot compile (no C compiler, no mypyc, or the compile failed)."""


def compile_modules(source: Path, modules: list[str], out: Path) -> dict[Path, str]:
    """Compile ``modules`` (paths under ``source``) with mypyc into ``out``.

    Returns each built extension and its path inside the wheel. Raises
    ``CompileUnavailable`` saying why when this machine cannot compile them.
    """
    compiler = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        raise CompileUnavailable(f"no C compiler ({compiler!r} is not on PATH)")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as scratch:
        setup_file = Path(scratch) / "setup.py"
        setup_file.write_text(_SETUP)
        no_config = Path(scratch) / "mypy.ini"
        no_config.write_text("[mypy]\n")
        command = [
            sys.executable,
            str(setup_file),
            ",".join(modules),
            ",".join([*_MYPY_ARGS, f"--config-file={no_config}"]),
            str(Path(scratch) / "c"),
            "build_ext",
            "--build-lib",
            str(out),
            "--build-temp",
            str(Path(scratch) / "tmp"),
        ]
        done = subprocess.run(  # noqa: S603 (our own interpreter, our own arguments)
            command, cwd=source, capture_output=True, text=True, check=False
        )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise CompileUnavailable(f"mypyc failed:\n{tail}")
    return {built: built.relative_to(out).as_posix() for built in out.rglob("*.so")}
