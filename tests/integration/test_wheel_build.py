"""The wheel's build hook (hatch_build.py): compiled when it can be, pure Python otherwise.

``make test-compiled`` builds the compiled wheel and runs the trading suites against it;
here is what a machine that cannot compile gets. Built without build isolation, from the
test environment's hatchling, so no package is fetched.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _build_wheel(out: Path, **env: str) -> tuple[Path, str]:
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-v"]
    done = subprocess.run(
        [*pip_wheel, "-w", str(out), str(REPO)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    )
    (wheel,) = out.glob("tradebot-*.whl")
    return wheel, done.stdout + done.stderr


def test_without_a_c_compiler_the_wheel_is_pure_python_and_says_why(tmp_path: Path) -> None:
    wheel, output = _build_wheel(tmp_path, CC="no-such-cc")

    assert wheel.name.endswith("-py3-none-any.whl")
    assert "not compiled, pure Python instead: no C compiler ('no-such-cc' is not on PATH)" in (
        output
    )
    names = zipfile.ZipFile(wheel).namelist()
    assert "tradebot/orchestrator/engine.py" in names
    assert not [name for name in names if name.endswith(".so")]


def test_tradebot_pure_python_builds_a_pure_wheel_on_purpose(tmp_path: Path) -> None:
    wheel, output = _build_wheel(tmp_path, TRADEBOT_PURE_PYTHON="1")

    assert wheel.name.endswith("-py3-none-any.whl")
    assert "TRADEBOT_PURE_PYTHON=1, building pure Python" in output
