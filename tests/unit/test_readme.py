"""The README a newcomer reads on a fresh clone: every path it names exists there.

``../shared`` is beside the project's own checkouts, not in a clone; the quick start must
work without it (``make demo`` and ``make test`` do).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
# repository paths: src/, docs/, tests/, bench/, deploy/..., and anything outside the clone
_PATH = re.compile(r"(?<![\w/.-])((?:\.\./|src/|docs/|tests/|bench/|deploy/|shared/)[\w./-]*\w)")


def test_readme_paths_exist_in_a_clone() -> None:
    text = README.read_text(encoding="utf-8")

    named = sorted(set(_PATH.findall(text)))

    assert named, "the README names no repository paths: the pattern is broken"
    missing = [p for p in named if p.startswith(("../", "shared/")) or not (ROOT / p).exists()]
    assert missing == []


def test_readme_starts_with_make_demo_and_make_test() -> None:
    text = README.read_text(encoding="utf-8")

    first_block = text.split("```sh\n", 1)[1].split("```", 1)[0].splitlines()

    assert [line.split("#")[0].strip() for line in first_block[:2]] == ["make demo", "make test"]
