"""Damaged index files, each checked with real files on disk: the damage is found when the index is opened,
the part that can be rebuilt is rebuilt, and what cannot says which file is damaged and how to rebuild it.

- the lexical file (`DATA_DIR/lexical/<collection>.sqlite3`): pages SQLite cannot read are found by its page
  check when the file is opened or synced, and the file is rebuilt from Chroma; the files of the earlier bm25s
  index are replaced;
- the Chroma files: a truncated `chroma.sqlite3` or a garbled HNSW file, read by the real CLI in its own
  process, end in a clear message (not a traceback, not a segmentation fault).
"""

from __future__ import annotations

import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from pydantic import SecretStr

from bot.api import create_app
from retrieval.core.types import Article, Chunk
from retrieval.ingest.sync import chunk_metadata
from retrieval.search.hybrid import SearchOptions
from retrieval.service import Newsdesk
from retrieval.storage.chroma_check import vector_folder
from tests.conftest import SEED_QUESTION, subprocess_env
from tests.integration.retrieval.test_faults import write_articles
from tests.support.chroma_server import free_port, newsdesk_executable
from tests.support.inside import lexical_connection, searcher, write_chunks
from tests.support.lexical_check import assert_lexical_matches_chroma
from tests.support.live_server import live_server

pytestmark = pytest.mark.integration

KEY = "test-key-0123456789"


def article(aid: str, title: str, body: str) -> Article:
    return Article(id=aid, title=title, body=body, source="Test Wire", published_at="2023-10-04T10:00:00+00:00")


ARTICLES = [
    article("dam", "Valley dam approved", "The regional council approved the Riverbend dam on Tuesday. "
            "Engineers said the reservoir will hold forty million cubic metres."),
    article("chips", "Chipmaker unveils XR-7731", "Lumen Semiconductors unveiled the XR-7731 processor. "
            "The chip draws four watts and targets drones and cameras."),
    article("football", "Late winner for Rovers", "Rovers beat United two goals to one with a header in "
            "stoppage time. The goalkeeper was sent off after a handball."),
    article("pier", "Pier closed for repairs", "The Brightsea pier is closed until June while divers "
            "inspect its rusting piles. Anglers moved to the harbour wall."),
]  # fmt: skip
QUERIES = {"Riverbend reservoir": "dam", "XR-7731 drones": "chips", "stoppage goalkeeper": "football",
           "Brightsea anglers": "pier"}  # fmt: skip


def lexical_answers(service: Newsdesk) -> dict[str, str]:
    """The article BM25 alone ranks first for each query."""
    lexical = searcher(service, SearchOptions.lexical_only())
    return {query: lexical.search(query, 1)[0].article_id for query in QUERIES}


def lexical_file(service: Newsdesk) -> Path:
    return service.settings.data_dir / "lexical" / f"{service.settings.collection}.sqlite3"


def garble_pages(service: Newsdesk) -> None:
    """Overwrite the second half of the lexical file's pages with bytes SQLite cannot read as a b-tree."""
    lexical_connection(service).execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the main file
    path = lexical_file(service)
    data = bytearray(path.read_bytes())
    half = (len(data) // 2 // 4096) * 4096
    data[half:] = b"\x7f" * (len(data) - half)
    path.write_bytes(bytes(data))


def file_is_whole(path: Path) -> bool:
    try:
        with sqlite3.connect(path) as db:
            return bool(db.execute("PRAGMA quick_check").fetchone()[0] == "ok")
    except sqlite3.DatabaseError:
        return False


# ------------------------------------------------------------------ the lexical file


def test_a_damaged_lexical_file_is_rebuilt_and_questions_are_answered(
    make_service: Callable[..., Newsdesk], tmp_path: Path
) -> None:
    service = make_service()
    service.ingest([str(service.settings.corpus_dir)], prune=True)
    service.add_articles(ARTICLES)
    garble_pages(service)
    assert not file_is_whole(lexical_file(service))

    reopened = make_service()
    with live_server(create_app(reopened.settings, reopened)) as base:
        answer = httpx.post(f"{base}/v1/ask", json={"question": SEED_QUESTION}, timeout=30)
        assert answer.status_code == 200, answer.text
        assert not answer.json()["abstained"] and "300,000" in answer.json()["answer"]
        assert httpx.get(f"{base}/readyz", timeout=30).status_code == 200
    assert lexical_answers(reopened) == QUERIES
    assert_lexical_matches_chroma(reopened, tmp_path)  # rebuilt on disk from Chroma


def test_the_files_of_the_earlier_bm25_index_are_replaced(
    make_service: Callable[..., Newsdesk], tmp_path: Path
) -> None:
    service = make_service()
    service.add_articles(ARTICLES)
    folder = service.settings.data_dir / "lexical"
    (folder / service.settings.collection / "bm25").mkdir(parents=True)
    (folder / f"{service.settings.collection}.chunks.json").write_text("{}")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{lexical_file(service)}{suffix}").unlink(missing_ok=True)  # as a data directory of before

    reopened = make_service()
    assert lexical_answers(reopened) == QUERIES
    assert sorted(p.name for p in folder.iterdir() if not p.name.endswith(("-wal", "-shm", ".checked.json"))) == [
        f"{service.settings.collection}.sqlite3"
    ]
    assert_lexical_matches_chroma(reopened, tmp_path)


def test_reindex_repairs_a_lexical_file_damaged_on_disk(
    make_service: Callable[..., Newsdesk], tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    write_articles(corpus, 3)
    service = make_service(corpus_dir=corpus, api_keys=[SecretStr(KEY)], rate_limit_per_minute=0)
    service.ingest([str(corpus)], prune=True)
    service.add_articles(ARTICLES)
    with live_server(create_app(service.settings, service)) as base:
        garble_pages(service)  # damaged on disk while the server runs
        job = httpx.post(f"{base}/v1/reindex", headers={"Authorization": f"Bearer {KEY}"}, timeout=30).json()
        job = wait_for_job(base, job)
        assert job["state"] == "succeeded", job
        assert httpx.post(f"{base}/v1/ask", json={"question": SEED_QUESTION}, timeout=30).status_code == 200
    assert file_is_whole(lexical_file(service))  # what a restart reads is whole again
    assert_lexical_matches_chroma(service, tmp_path)


def wait_for_job(base: str, job: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while job["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
        job = httpx.get(f"{base}/v1/jobs/{job['id']}", timeout=30).json()
    return job


def test_readiness_fails_while_search_fails_and_a_reindex_repairs_it(make_service: Callable[..., Newsdesk]) -> None:
    service = make_service(api_keys=[SecretStr(KEY)], rate_limit_per_minute=0)
    service.ingest([str(service.settings.corpus_dir)], prune=True)
    service.add_articles(ARTICLES)
    with live_server(create_app(service.settings, service)) as base:
        assert httpx.get(f"{base}/readyz", timeout=30).status_code == 200
        with sqlite3.connect(lexical_file(service)) as other:  # a table lost behind the server's back
            other.execute("DROP TABLE vocabulary")
        failed = httpx.post(f"{base}/v1/ask", json={"question": SEED_QUESTION}, timeout=30)
        assert failed.status_code == 503 and failed.json()["error"] == "index_unavailable"  # issue 25: not a 500
        ready = httpx.get(f"{base}/readyz", timeout=30)
        assert ready.status_code == 503, ready.text
        assert "BM25" in ready.json()["message"] and "reindex" in ready.json()["message"]

        job = httpx.post(f"{base}/v1/reindex", headers={"Authorization": f"Bearer {KEY}"}, timeout=30).json()
        assert wait_for_job(base, job)["state"] == "succeeded"
        assert httpx.get(f"{base}/readyz", timeout=30).status_code == 200
        assert httpx.post(f"{base}/v1/ask", json={"question": SEED_QUESTION}, timeout=30).status_code == 200


# ------------------------------------------------------------------ the Chroma files


def fill_vectors(service: Newsdesk, articles: int = 560) -> None:
    """Enough chunks (two per article) for Chroma to write its HNSW files (it does from 1,000 on), with random
    unit vectors instead of embeddings: what is tested is reading the files, not what they mean."""
    rng = np.random.default_rng(7)
    ids, texts, metas = [], [], []
    for a in range(articles):
        body = f"Filler report {a} gives the figure {a * 7}. It was confirmed later."
        item = Article(id=f"filler-{a:04d}", title=f"Filler report {a}", body=body, source="Filler Wire")
        for i, text in enumerate(body.split(". ")):
            chunk = Chunk(id=f"filler-{a:04d}:{i}:0", article_id=item.id, index=i, text=text, embed_text=text)
            ids.append(chunk.id)
            texts.append(text)
            metas.append(chunk_metadata(item, chunk, 2, f"h{a}", f"t{a}"))
    vectors = rng.normal(size=(len(ids), service.embedder.dim)).astype(np.float32)
    write_chunks(service, ids, vectors / np.linalg.norm(vectors, axis=1, keepdims=True), texts, metas)


def hnsw_folder(data_dir: Path, collection: str) -> Path:
    """The collection's own HNSW folder (its change log, `<collection>__changes`, has another)."""
    folder = vector_folder(data_dir / "chroma", collection)
    assert folder is not None and (folder / "header.bin").exists()
    return folder


def garble(path: Path) -> None:
    path.write_bytes(np.random.default_rng(11).bytes(path.stat().st_size))


def truncate(path: Path) -> None:
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size // 3)


@pytest.mark.parametrize(
    ("damage", "name"),
    [(garble, "data_level0.bin"), (garble, "link_lists.bin"), (garble, "length.bin"), (truncate, "chroma.sqlite3"),
     (garble, "header.bin"), (garble, "index_metadata.pickle")],
)  # fmt: skip
def test_damaged_chroma_files_are_named_with_how_to_rebuild_not_a_crash(
    make_service: Callable[..., Newsdesk], tmp_path: Path, damage: Callable[[Path], None], name: str
) -> None:
    data = tmp_path / "data"
    service = make_service(data_dir=data)
    service.ingest([str(service.settings.corpus_dir)])
    fill_vectors(service)
    collection = service.settings.collection
    del service
    damaged = data / "chroma" / name if name == "chroma.sqlite3" else hnsw_folder(data, collection) / name
    damage(damaged)

    env = subprocess_env(data, NEWSDESK_CORPUS_DIR=str(tmp_path / "corpus"))
    for command in (["search", "Filler report figure", "--json"], ["stats"], ["serve", "--port", str(free_port())]):
        done = subprocess.run([newsdesk_executable(), *command], env=env, capture_output=True, text=True, timeout=300)
        message = " ".join(done.stderr.split())  # rich wraps long lines
        assert done.returncode == 1, (done.returncode, message[-2000:])  # not -11: no segmentation fault
        assert "Traceback" not in message, message[-2000:]
        # the file itself when the check can tell, else the folder of the vector index it belongs to
        named = damaged.parent if name in ("header.bin", "index_metadata.pickle") else damaged
        assert f"{named} is damaged" in message or f"{named} are damaged" in message, message[-2000:]
        assert f"newsdesk ingest {tmp_path / 'corpus'} --prune" in message and str(data) in message, message
