"""`newsdesk bot` without a token says what to set, before loading anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app


def test_bot_without_a_token_explains_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(app, ["bot"])
    assert result.exit_code == 2
    assert "NEWSDESK_DISCORD_TOKEN is not set" in result.output
    assert "README" in result.output
    assert not (tmp_path / "data").exists(), "nothing is opened without a token"


def test_bot_is_listed_in_the_help() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "bot" in result.output and "Discord" in result.output
