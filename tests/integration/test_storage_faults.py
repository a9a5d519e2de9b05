"""A data directory that cannot be written, against a real `newsdesk serve` process: questions go on, writes
are refused at once with a message that names the directory, and what the server says it saved is what is there.

The server runs inside a private mount namespace (tests/support/namespaced_server.py): the data directory is a
small tmpfs that the test fills, or a read-only bind mount. Nothing is mounted outside the test.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from retrieval.service import Newsdesk
from tests.conftest import CORPUS, SEED_QUESTION, subprocess_env
from tests.integration.test_faults import snapshot
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
