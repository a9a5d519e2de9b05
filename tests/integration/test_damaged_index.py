"""Damaged index files, each checked with real files on disk: the damage is found when the index is opened,
the part that can be rebuilt is rebuilt, and what cannot says which file is damaged and how to rebuild it.

- the BM25 files (`DATA_DIR/lexical/`): a value changed behind a valid header, or the chunk ids reordered
  with their stamp kept, are caught by checksums and a fingerprint that binds the order, and rebuilt;
- the Chroma files: a truncated `chroma.sqlite3` or a garbled HNSW file, read by the real CLI in its own
  process, end in a clear message (not a traceback, not a segmentation fault).
"""

from __future__ import annotations

import json
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
from retrieval.ingest import chunk_metadata
from retrieval.lexical import LexicalIndex
from retrieval.search import Searcher, SearchOptions
from retrieval.service import Newsdesk
from retrieval.types import Article, Chunk
from tests.conftest import SEED_QUESTION, subprocess_env
from tests.integration.test_faults import write_articles
from tests.support.chroma_server import free_port, newsdesk_executable
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
    lexical = Searcher(service.index, service.embedder, SearchOptions.lexical_only())
    return {query: lexical.search(query, 1)[0].article_id for query in QUERIES}


def lexical_dir(service: Newsdesk) -> Path:
    return service.settings.data_dir / "lexical" / service.settings.collection


def garble_array(path: Path) -> None:
    """Overwrite an .npy file's values, keeping its header valid (numpy still loads it)."""
    with path.open("rb") as handle:
        if np.lib.format.read_magic(handle) == (1, 0):
            np.lib.format.read_array_header_1_0(handle)
        else:
            np.lib.format.read_array_header_2_0(handle)
        start = handle.tell()
    data = bytearray(path.read_bytes())
    data[start:] = b"\x7f" * (len(data) - start)
    path.write_bytes(bytes(data))
    np.load(path)  # still a loadable array: only the values are wrong


# ------------------------------------------------------------------ the BM25 files


def test_a_reordered_ids_file_with_its_fingerprint_kept_is_rebuilt(
    make_service: Callable[..., Newsdesk], tmp_path: Path
) -> None:
    service = make_service()
    service.add_articles(ARTICLES)
    assert lexical_answers(service) == QUERIES
    stamp_file = lexical_dir(service) / "ids.json"
    stamp = json.loads(stamp_file.read_text())
    stamp["ids"] = stamp["ids"][::-1]  # the same chunks in another order; the fingerprint is kept
    stamp_file.write_text(json.dumps(stamp))

    reopened = make_service()  # a restart reads the files again
    assert lexical_answers(reopened) == QUERIES
    assert reopened.index.lexical.ids == sorted(reopened.index.texts)
    assert json.loads(stamp_file.read_text())["ids"] == sorted(stamp["ids"])  # repaired on disk too


def test_an_index_saved_in_the_old_fingerprint_format_is_rebuilt(
    make_service: Callable[..., Newsdesk], tmp_path: Path
) -> None:
    service = make_service()
    service.add_articles(ARTICLES)
    stamp_file = lexical_dir(service) / "ids.json"
    stamp = json.loads(stamp_file.read_text())
    stamp_file.write_text(json.dumps({"fingerprint": stamp["fingerprint"], "format": 2, "ids": stamp["ids"]}))

    reopened = make_service()
    assert lexical_answers(reopened) == QUERIES
    assert json.loads(stamp_file.read_text())["format"] == stamp["format"]  # saved again in the current format


@pytest.mark.parametrize(
    "damaged", ["bm25/indices.csc.index.npy", "bm25/data.csc.index.npy", "sentences/indptr.csc.index.npy",
                "sentence_starts.npy"],
)  # fmt: skip
def test_a_damaged_bm25_file_with_a_valid_header_is_rebuilt_and_questions_are_answered(
    make_service: Callable[..., Newsdesk], damaged: str
) -> None:
    service = make_service()
    service.ingest([str(service.settings.corpus_dir)], prune=True)
    garble_array(lexical_dir(service) / damaged)

    reopened = make_service()
    with live_server(create_app(reopened.settings, reopened)) as base:
        answer = httpx.post(f"{base}/v1/ask", json={"question": SEED_QUESTION}, timeout=30)
        assert answer.status_code == 200, answer.text
        assert not answer.json()["abstained"] and "300,000" in answer.json()["answer"]
        assert httpx.get(f"{base}/readyz", timeout=30).status_code == 200
    assert LexicalIndex.load(lexical_dir(reopened), reopened.index.lexical.fingerprint) is not None


def test_reindex_repairs_damaged_bm25_files_on_disk(make_service: Callable[..., Newsdesk], tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write_articles(corpus, 3)
    service = make_service(corpus_dir=corpus, api_keys=[SecretStr(KEY)], rate_limit_per_minute=0)
    service.ingest([str(corpus)], prune=True)
    saved = lexical_dir(service) / "bm25" / "indices.csc.index.npy"
    with live_server(create_app(service.settings, service)) as base:
        garble_array(saved)  # damaged on disk while the server runs from its copy in memory
        job = httpx.post(f"{base}/v1/reindex", headers={"Authorization": f"Bearer {KEY}"}, timeout=30).json()
        job = wait_for_job(base, job)
        assert job["state"] == "succeeded", job
    # the files a restart will read are whole again
    assert LexicalIndex.load(lexical_dir(service), service.index.lexical.fingerprint) is not None
    assert np.load(saved).max() < len(np.load(lexical_dir(service) / "bm25" / "indptr.csc.index.npy"))


def test_a_chunk_snapshot_edited_behind_its_stamp_is_read_again_from_chroma(
    make_service: Callable[..., Newsdesk],
) -> None:
    service = make_service()
    service.add_articles(ARTICLES)
    snapshot = service.settings.data_dir / "lexical" / f"{service.settings.collection}.chunks.json"
    text = snapshot.read_bytes()
    assert b"forty million" in text
    snapshot.write_bytes(text.replace(b"forty million", b"ninety million"))  # still valid JSON, same stamp

    reopened = make_service()
    dam = [chunk for chunk, meta in reopened.index.metadata.items() if meta["article_id"] == "dam"]
    assert all("forty million" in reopened.index.texts[chunk] for chunk in dam)
    assert b"forty million" in snapshot.read_bytes()  # written again from Chroma


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
        retriever = service.index.lexical.retriever
        assert retriever is not None
        retriever.scores["indices"][:] = 10**6  # what a damaged file gives once loaded, here in memory
        assert httpx.post(f"{base}/v1/ask", json={"question": SEED_QUESTION}, timeout=30).status_code == 500
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
    service.index.write(ids, vectors / np.linalg.norm(vectors, axis=1, keepdims=True), texts, metas)
    service.index.commit()


def hnsw_folder(data_dir: Path) -> Path:
    (folder,) = [p for p in (data_dir / "chroma").iterdir() if (p / "header.bin").exists()]
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
    del service
    damaged = data / "chroma" / name if name == "chroma.sqlite3" else hnsw_folder(data) / name
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
