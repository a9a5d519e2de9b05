"""The `newsdesk` command, run as a user would: ingest, stats, ask --json."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import CORPUS, ROOT, SEED_QUESTION, subprocess_env

pytestmark = pytest.mark.integration

NEWSDESK = (
    str(Path(ROOT / ".venv" / "bin" / "newsdesk")) if (ROOT / ".venv" / "bin" / "newsdesk").exists() else "newsdesk"
)


def run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NEWSDESK, *args], cwd=ROOT, env=subprocess_env(data_dir), capture_output=True, text=True, timeout=300
    )


def test_ingest_stats_ask(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "broken.md").write_bytes(b"---\ntitle: [oops\n---\ntext")
    data = tmp_path / "data"

    ingested = run(data, "ingest", str(corpus), "--prune", "--json")
    assert ingested.returncode == 0, ingested.stderr
    report = json.loads(ingested.stdout)
    assert len(report["added"]) == len(list(CORPUS.glob("*.md")))
    assert report["failed"][0]["origin"].endswith("broken.md")
    assert "front matter" in report["failed"][0]["reason"]

    again = json.loads(run(data, "ingest", str(corpus), "--prune", "--json").stdout)
    assert again["added"] == [] and len(again["skipped"]) == len(report["added"])

    stats = json.loads(run(data, "stats", "--json").stdout)
    assert stats["articles"] == len(report["added"]) and stats["chunks"] >= stats["articles"]

    asked = run(data, "ask", SEED_QUESTION, "--json")
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert set(answer) >= {"answer", "abstained", "citations"}
    assert "300,000" in answer["answer"] and not answer["abstained"]
    citation = answer["citations"][0]
    assert set(citation) == {"n", "article_id", "title", "source", "url", "published_at", "quote"}
    assert citation["n"] == 1 and "300,000" in citation["quote"]

    plain = run(data, "ask", SEED_QUESTION)
    assert "[1]" in plain.stdout and "Sources:" in plain.stdout


def test_empty_question_gets_a_clear_error(tmp_path: Path) -> None:
    result = run(tmp_path / "data", "ask", "   ")
    assert result.returncode == 1
    assert "question is empty" in result.stderr
