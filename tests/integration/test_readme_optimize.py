"""The README's optimisation, run as written in a fresh folder: it works on a clone."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradebot.cli import build_app

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_optimize_command_runs_on_the_bundled_data_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = re.search(r"^\.venv/bin/tradebot (optimize .*)$", README.read_text(), re.MULTILINE)
    assert line is not None, "the README shows no optimisation"
    args = shlex.split(line.group(1))
    monkeypatch.chdir(tmp_path)

    first = CliRunner().invoke(build_app(), args, env={"COLUMNS": "200"})
    again = CliRunner().invoke(build_app(), args, env={"COLUMNS": "200"})

    assert first.exit_code == 0, first.output
    said = " ".join(first.output.split())  # rich wraps long lines
    assert "trials (40 run now" in said
    assert "verdict: likely luck" in said  # what the README says it says
    assert (tmp_path / "data" / "tradebot-studies.db").is_file()
    assert "trials (0 run now" in " ".join(again.output.split())
