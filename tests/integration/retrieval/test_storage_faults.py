"""A data directory that cannot be written, against a real `newsdesk serve` process: questions go on, writes
are refused at once with a message that names the directory, and what the server says it saved is what is there.

The server runs inside a private mount namespace (tests/support/namespaced_server.py): the data directory is a
small tmpfs that the test fills, or a read-only bind mount. Nothing is mounted outside the test.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from shlex import quote
from typing import Any

import httpx
import pytest

from retrieval.service import Newsdesk
from retrieval.storage.lexical import SEPARATOR, LexicalStore, Row
from tests.conftest import CORPUS, MULTIHOP, ROOT, SEED_QUESTION, subprocess_env
from tests.integration.retrieval.test_faults import snapshot
from tests.support.chroma_server import newsdesk_executable
from tests.support.namespaced_server import NamespacedServer, can_unshare

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not can_unshare(), reason="needs `unshare -rm` with tmpfs mounts (user and mount namespaces)"),
]

KEY = "test-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
PIER = {"title": "Pier closed", "body": "The Brightsea pier is closed until June while divers inspect its piles.",
        "source": "Coast News", "published_at": "2024-05-02"}  # fmt: skip


def timed(method: str, url: str, **kwargs: Any) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = httpx.request(method, url, timeout=60, **kwargs)
    return response, time.perf_counter() - started


def assert_answers(base: str) -> None:
    answer, _ = timed("POST", f"{base}/v1/ask", json={"question": SEED_QUESTION})
    assert answer.status_code == 200, answer.text
    assert "300,000" in answer.json()["answer"]
    assert timed("GET", f"{base}/v1/search", params={"q": SEED_QUESTION})[0].status_code == 200
    assert timed("GET", f"{base}/healthz")[0].status_code == 200


def test_a_lexical_file_on_a_read_only_mount_opens_after_its_writer_closed(tmp_path: Path) -> None:
    """A writer that closes last removes the -wal and -shm files; SQLite then cannot open a WAL file on a
    read-only mount unless it is opened as immutable (it failed as 'unable to open database file', and the
    index tried to rebuild the file where it cannot write)."""
    folder = tmp_path / "lexical"
    store = LexicalStore(folder / "newsdesk.sqlite3")
    text = "Dock workers struck."
    store.write([Row("c1", text, {"article_id": "a", "index": 0}, "T" + SEPARATOR + text)])
    store.close()
    assert sorted(p.name for p in folder.iterdir()) == ["newsdesk.sqlite3"]
    probe = (
        "from pathlib import Path; from retrieval.storage.lexical import LexicalStore; "
        f"s = LexicalStore(Path({str(folder / 'newsdesk.sqlite3')!r})); print(s.count(), s.text('c1'))"
    )
    read_only = f"mount --bind {folder} {folder} && mount -o remount,bind,ro {folder}"
    script = f"{read_only} && {sys.executable} -c {quote(probe)}"
    done = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "1 Dock workers struck."


def test_a_read_only_data_directory_serves_questions_and_refuses_writes(
    make_service: Callable[..., Newsdesk], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    service = make_service(data_dir=data)
    service.ingest([str(CORPUS)], prune=True)
    before = snapshot(service)
    (article_id,) = [a["id"] for a in service.articles()]
    del service

    env = subprocess_env(data, NEWSDESK_API_KEYS=KEY, NEWSDESK_CORPUS_DIR=str(CORPUS))
    setup = f"mount --bind {data} {data}\nmount -o remount,bind,ro {data}"
    with NamespacedServer(setup, env, tmp_path / "serve.log") as server:
        base = server.url
        assert_answers(base)
        assert timed("GET", f"{base}/readyz")[0].status_code == 200
        writes = [
            ("POST", f"{base}/v1/articles", {"json": PIER}),
            ("DELETE", f"{base}/v1/articles/{article_id}", {}),
            ("POST", f"{base}/v1/reindex", {}),
        ]
        for method, url, extra in writes:
            refused, seconds = timed(method, url, headers=AUTH, **extra)
            assert refused.status_code == 507, (method, url, refused.text)
            body = refused.json()
            assert body["error"] == "storage_error" and str(data) in body["message"], body
            assert "read-only" in body["message"] and "writable" in body["message"], body
            assert seconds < 5
        assert_answers(base)  # still answering after the refusals

        # the CLI reads too, beside it
        asked = server.run(f"{newsdesk_executable()} ask {SEED_QUESTION!r} --json 2>/dev/null")
        assert "300,000" in asked, asked
        assert server.terminate() is not None, server.log_tail()
    assert "Traceback" not in (tmp_path / "serve.log").read_text()

    after = make_service(data_dir=data)
    assert snapshot(after) == before


# ------------------------------------------------------------------ a full disk


def multihop_articles(count: int, start: int = 0) -> list[dict[str, Any]]:
    """Short MultiHop articles (about 1,500 characters, two or three chunks) as POST /v1/articles takes them."""
    articles = sorted(json.loads((MULTIHOP / "corpus.json").read_text()), key=lambda a: len(a["body"]))
    chosen = []
    for article in articles[start : start + count]:
        cut = article["body"].find(". ", 1500)
        chosen.append({"title": article["title"], "body": article["body"][: cut + 1 if cut > 0 else None],
                       "source": article["source"], "published_at": article["published_at"][:10]})  # fmt: skip
    return chosen


def indexed(base: str) -> set[str]:
    page = httpx.get(f"{base}/v1/articles", params={"limit": 200}, timeout=30).json()
    return {item["title"] for item in page["items"]}


def full_disk_server(tmp_path: Path, **env: str) -> NamespacedServer:
    """A server on a 24 MB tmpfs that already holds the shipped corpus."""
    data = tmp_path / "data"
    data.mkdir()
    setup = f"mount -t tmpfs -o size=24m tmpfs {data}\n{newsdesk_executable()} ingest {CORPUS} > /dev/null 2>&1"
    environment = subprocess_env(
        data, NEWSDESK_API_KEYS=KEY, NEWSDESK_CORPUS_DIR=str(CORPUS), NEWSDESK_SENTENCE_VECTORS="false", **env
    )
    return NamespacedServer(setup, environment, tmp_path / "serve.log")


def fill(server: NamespacedServer, data: Path, leave: str = "64K") -> None:
    server.run(f"dd if=/dev/zero of={data}/filler bs=64k 2>/dev/null; truncate -s -{leave} {data}/filler")


def test_a_full_disk_refuses_writes_at_once_and_the_server_keeps_answering_and_stops(
    tmp_path: Path, model_cache: Path
) -> None:
    data = tmp_path / "data"
    with full_disk_server(tmp_path) as server:
        base = server.url
        assert_answers(base)
        before = indexed(base)
        (seed_id,) = [a["id"] for a in httpx.get(f"{base}/v1/articles", timeout=30).json()["items"]]
        fill(server, data)

        batches = [multihop_articles(3, start) for start in range(0, 24, 3)]
        for batch in batches[:6]:  # Chroma's writer hung for good after five failed writes
            refused, seconds = timed("POST", f"{base}/v1/articles", headers=AUTH, json=batch)
            assert refused.status_code == 507, refused.text
            assert "free some space" in refused.json()["message"] and str(data) in refused.json()["message"]
            assert seconds < 5, seconds
            assert_answers(base)
            assert timed("GET", f"{base}/readyz")[0].status_code == 200
        for method, url in (("DELETE", f"{base}/v1/articles/{seed_id}"), ("POST", f"{base}/v1/reindex")):
            refused, seconds = timed(method, url, headers=AUTH)
            assert refused.status_code == 507 and seconds < 5, refused.text
        assert indexed(base) == before  # refused means nothing was saved

        server.run(f"rm {data}/filler")  # room again: writes go through without a restart
        added = httpx.post(f"{base}/v1/articles", headers=AUTH, json=batches[6], timeout=120)
        assert added.status_code == 200 and len(added.json()["added"]) == 3, added.text
        assert indexed(base) == before | {a["title"] for a in batches[6]}
        stopped = server.terminate(timeout=30)
        assert stopped is not None and stopped < 15, server.log_tail()
    assert "Traceback" not in (tmp_path / "serve.log").read_text()


def test_a_write_the_disk_fills_during_says_what_was_saved(tmp_path: Path, model_cache: Path) -> None:
    data = tmp_path / "data"
    with full_disk_server(tmp_path, NEWSDESK_INGEST_BATCH_ARTICLES="1") as server:
        base = server.url
        before = indexed(base)
        # room for the first few articles only (the write check keeps 16 MiB free)
        fill(server, data, leave=f"{16 * 1024 + 400}K")
        articles = multihop_articles(16)
        response = httpx.post(f"{base}/v1/articles", headers=AUTH, json=articles, timeout=300)
        assert response.status_code == 507, response.text
        body = response.json()
        saved = {a["title"] for a in articles} & (indexed(base) - before)
        reported = body["report"]["added"]
        assert 0 < len(reported) < len(articles), body
        assert len(saved) == len(reported), (saved, body)  # what it says it saved is what is there, and no more
        assert f"{len(reported)} of {len(articles)} articles were saved" in body["message"], body["message"]
        assert_answers(base)


def test_after_chroma_itself_failed_on_a_full_disk_writes_are_refused_then_resume(
    tmp_path: Path, model_cache: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    articles = tmp_path / "articles.json"
    articles.write_text(json.dumps(multihop_articles(8)))
    driver = f"cd {ROOT} && {sys.executable} -m tests.support.disk_full_driver {CORPUS} {articles}"
    try:
        done = subprocess.run(
            ["unshare", "-rm", "bash", "-c", f"mount -t tmpfs -o size=24m tmpfs {data} && {driver}"],
            env=subprocess_env(data, NEWSDESK_SENTENCE_VECTORS="false", NEWSDESK_LOG_LEVEL="WARNING"),
            capture_output=True,
            text=True,
            timeout=300,
        )
    except subprocess.TimeoutExpired as hung:
        raise AssertionError(f"a step hung; the steps that ended:\n{hung.stdout!r}") from hung
    lines = done.stdout.splitlines()
    assert done.returncode == 0 and lines[-1] == "done", (done.stdout, done.stderr[-3000:])
    steps = {line.split()[0]: line.split(maxsplit=2)[1:] for line in lines[:-1]}
    for i in range(6):
        seconds, outcome = steps[f"write{i}"]
        assert outcome.startswith("refused") and "free some space" in outcome, outcome
        assert float(seconds.rstrip("s")) < 2
        assert steps[f"read{i}"][1] == "ok True"
    assert steps["after"][1] == "ok 2" and steps["found"][1] == "ok True", steps
