"""Shared set-up of the benchmarks: the data they read and the figures they print."""

from __future__ import annotations

import hashlib
import resource
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BTC_1M = SHARED_DATA / "binance_BTC-USDT_1m.csv.gz"
YEAR_2024 = (1_704_067_200_000, 1_735_689_600_000)


def require_shared_data(path: Path) -> None:
    """Exit 0 with a clear message when the shared data set is not beside the clone."""
    if not path.exists():
        print(f"skipped: {path} is absent (this benchmark needs ../shared/data beside the clone)")
        sys.exit(0)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


REPO = Path(__file__).resolve().parents[1]
COMPILED_CACHE = REPO / "bench" / ".compiled"


def compiled_tradebot() -> Path | None:
    """A folder holding tradebot as its wheel installs it, compiled by mypyc (hatch_build.py).

    Put it first on ``PYTHONPATH`` to run the compiled modules. The wheel is built from this
    checkout's source (``pip wheel``, as a user's ``pip install .`` builds it) and kept under
    ``bench/.compiled`` keyed by the source's hash. None (and why, printed) when this machine
    built a pure-Python wheel: no C compiler, or mypyc failed.
    """
    key = _source_hash()
    folder = COMPILED_CACHE / key
    if not (folder / "tradebot").is_dir():
        with tempfile.TemporaryDirectory() as wheels:
            subprocess.run(
                [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheels, str(REPO)],
                check=True,
            )
            (wheel,) = Path(wheels).glob("tradebot-*.whl")
            shutil.rmtree(COMPILED_CACHE, ignore_errors=True)  # one build kept: the source's
            with zipfile.ZipFile(wheel) as archive:
                archive.extractall(folder)
    if not any(folder.joinpath("tradebot").rglob("*.so")):
        print("compiled tradebot: the wheel came out pure Python (see pip's warning above)")
        return None
    return folder


def _source_hash() -> str:
    digest = hashlib.sha256()
    build_inputs = [REPO / "hatch_build.py", REPO / "pyproject.toml"]
    for path in sorted([*build_inputs, *REPO.joinpath("src").rglob("*.py")]):
        digest.update(path.relative_to(REPO).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
