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
    assert set(citation) == {
        "n",
        "article_id",
        "title",
        "source",
        "url",
        "published_at",
        "quote",
        "quotes",
        "also_reported_by",
        "via",
    }
    assert citation["via"] is None  # the corpus's own article
    assert citation["n"] == 1 and "300,000" in citation["quote"] and citation["quotes"][0] == citation["quote"]

    plain = run(data, "ask", SEED_QUESTION)
    assert "[1]" in plain.stdout and "Sources:" in plain.stdout


def test_empty_question_gets_a_clear_error(tmp_path: Path) -> None:
    result = run(tmp_path / "data", "ask", "   ")
    assert result.returncode == 1
    assert "question is empty" in result.stderr


TRAP = (
    '---\ntitle: "Markup [/bold] trap :x: [red]"\nsource: "[b]Wire"\npublished_at: 2024-03-01\n---\n'
    "The harbour :x: crane [/bold] lifted forty containers an hour during the long dock strike that spring.\n"
)


def test_article_text_is_printed_literally(tmp_path: Path, model_cache: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "trap.md").write_text(TRAP)
    data = tmp_path / "data"
    assert run(data, "ingest", str(corpus)).returncode == 0

    found = run(data, "search", "harbour crane containers")
    assert found.returncode == 0, found.stderr
    assert "Markup [/bold] trap :x: [red] ([b]Wire, 2024-03-01)" in found.stdout
    # one line, as written: no markup, no emoji, no wrapping at 80 columns
    assert "The harbour :x: crane [/bold] lifted forty containers an hour during the long dock strike" in found.stdout
    asked = run(data, "ask", "How many containers did the harbour crane lift an hour?")
    assert asked.returncode == 0, asked.stderr
    assert "Markup [/bold] trap :x: [red]" in asked.stdout and "\u274c" not in asked.stdout


def test_search_checks_its_input_like_the_api(tmp_path: Path, model_cache: Path) -> None:
    data = tmp_path / "data"
    empty = run(data, "search", "  ")
    assert empty.returncode == 1 and "question is empty" in empty.stderr
    assert "Traceback" not in empty.stderr and "InvalidInput" not in empty.stderr
    for k, bound in (("0", "greater than or equal to 1"), ("100000", "less than or equal to 50")):
        bad = run(data, "search", "harbour", "--k", k)
        assert bad.returncode == 2 and "--k" in bad.stderr and bound in bad.stderr, bad.stderr


def test_ingest_logs_progress_when_not_a_terminal(tmp_path: Path, model_cache: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(10):
        (corpus / f"a{i}.md").write_text(f"---\ntitle: Story {i}\n---\nThe ferry number {i} sails at {i} o'clock.\n")
    result = subprocess.run(
        [NEWSDESK, "ingest", str(corpus)],
        cwd=ROOT,
        env=subprocess_env(tmp_path / "data", NEWSDESK_INGEST_BATCH_ARTICLES="4", NEWSDESK_SENTENCE_VECTORS="false"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "reading 1 source" in result.stderr
    assert "10/10 articles embedded" in result.stderr
    assert " DEBUG " not in result.stderr  # bm25s sets its own logger to DEBUG when imported
