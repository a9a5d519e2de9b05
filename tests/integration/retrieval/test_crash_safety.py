"""kill -9 a real ingest at several points; the next run must leave exactly what one clean run gives."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from retrieval.core.types import ChunkMeta
from retrieval.service import Newsdesk
from retrieval.storage.manifest import Manifest
from tests.conftest import ROOT, subprocess_env
from tests.support.inside import chroma_documents, lexical_file, reopen_index
from tests.support.lexical_check import assert_lexical_matches_chroma

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ARTICLES = 18
BATCH = "3"


def make_corpus(folder: Path, version: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(ARTICLES):
        edited = version > 1 and i % 2 == 0
        sentences = [
            f"Report {i} sentence {j} says the {'revised' if edited else 'first'} figure for region {i} is {i * j}."
            for j in range(30 if edited else 24)
        ]
        (folder / f"article-{i:02d}.md").write_text(
            f"---\ntitle: Regional report {i}\nsource: Wire {i % 3}\npublished_at: 2023-11-{i + 1:02d}\n---\n"
            + " ".join(sentences)
            + "\n"
        )


def snapshot(service: Newsdesk) -> dict[str, tuple[str, ChunkMeta]]:
    return chroma_documents(service)


def start_ingest(data_dir: Path, folder: Path, pause: str = "") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.ingest_driver", str(folder), *([pause] if pause else [])],
        cwd=ROOT,
        env=subprocess_env(data_dir, NEWSDESK_INGEST_BATCH_ARTICLES=BATCH, NEWSDESK_LOG_LEVEL="WARNING"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def kill_after(
    process: subprocess.Popen[str], batches: int, extra_delay: float, lines: tuple[str, ...] = ("ready", "batch")
) -> bool:
    """Wait for `batches` lines starting with one of `lines` (the progress lines, by default; 0: model loaded),
    sleep a little, kill -9. False if it finished."""
    assert process.stdout is not None
    seen = -1 if "ready" in lines else 0
    for line in process.stdout:
        if line.startswith(lines):
            seen += 1
        if line.startswith("done"):
            return False
        if seen >= batches:
            break
    time.sleep(extra_delay)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    return True


def assert_clean(service: Newsdesk, expected: dict[str, tuple[str, ChunkMeta]], work: Path) -> None:
    state = snapshot(service)
    assert set(state) == set(expected), "chunk ids differ from a clean run (orphans or missing chunks)"
    assert state == expected
    manifest = Manifest.from_metadata({cid: meta for cid, (_, meta) in state.items()})
    assert len(manifest) == ARTICLES
    assert all(article.complete for article in manifest.articles.values())
    reopen_index(service)
    assert_lexical_matches_chroma(service, work)  # the lexical file too: what a clean rebuild gives


def clean_run(
    make_service: Callable[..., Newsdesk], corpus: Path, data_dir: Path
) -> dict[str, tuple[str, ChunkMeta]]:
    """What one clean, uninterrupted run gives for the corpus as it is now."""
    service = make_service(data_dir=data_dir)
    service.ingest([str(corpus)], prune=True)
    return snapshot(service)


@pytest.mark.parametrize(("batches", "delay"), [(0, 0.3), (1, 0.0), (2, 0.15), (4, 0.05)])
def test_killed_first_ingest_is_completed_by_the_next_run(
    tmp_path: Path, make_service: Callable[..., Newsdesk], batches: int, delay: float
) -> None:
    corpus = tmp_path / "corpus"
    make_corpus(corpus, 1)
    expected = clean_run(make_service, corpus, tmp_path / "clean")
    data_dir = tmp_path / "data"
    killed = kill_after(start_ingest(data_dir, corpus), batches, delay)
    assert killed, "the ingest finished before it could be killed: make the corpus larger"
    service = make_service(data_dir=data_dir)
    report = service.ingest([str(corpus)], prune=True)
    assert not report.failed
    assert_clean(service, expected, tmp_path)


@pytest.mark.parametrize(("batches", "delay"), [(1, 0.1), (3, 0.0)])
def test_killed_update_is_repaired(
    tmp_path: Path, make_service: Callable[..., Newsdesk], batches: int, delay: float
) -> None:
    corpus = tmp_path / "corpus"
    make_corpus(corpus, 1)
    data_dir = tmp_path / "data"
    make_service(data_dir=data_dir).ingest([str(corpus)], prune=True)
    make_corpus(corpus, 2)  # half of the articles change
    expected = clean_run(make_service, corpus, tmp_path / "clean")
    assert kill_after(start_ingest(data_dir, corpus), batches, delay)
    # killed twice in a row, then completed
    kill_after(start_ingest(data_dir, corpus), 1, 0.05)
    service = make_service(data_dir=data_dir)
    service.ingest([str(corpus)], prune=True)
    assert_clean(service, expected, tmp_path)


@pytest.mark.parametrize(("gap", "nth"), [("between-writes", 1), ("between-writes", 3), ("before-marker", 1)])
def test_killed_between_chroma_and_the_lexical_file_is_repaired(
    tmp_path: Path, make_service: Callable[..., Newsdesk], gap: str, nth: int
) -> None:
    """kill -9 where Chroma has a change the lexical file has not (a batch written, or the sync committed),
    on an update (new versions written, old ones deleted): the next run ends where a clean run does."""
    corpus = tmp_path / "corpus"
    make_corpus(corpus, 1)
    data_dir = tmp_path / "data"
    make_service(data_dir=data_dir).ingest([str(corpus)], prune=True)
    make_corpus(corpus, 2)
    expected = clean_run(make_service, corpus, tmp_path / "clean")
    line = "chroma-written" if gap == "between-writes" else "chroma-committed"
    assert kill_after(start_ingest(data_dir, corpus, gap), nth, 0.1, lines=(line,))
    service = make_service(data_dir=data_dir)
    assert lexical_file(service).get("pending") is None  # opening brought the file in step with Chroma
    service.ingest([str(corpus)], prune=True)
    assert_clean(service, expected, tmp_path)
