"""Long writes do not hold anyone up: a big article is indexed as a background job (202 and a job id), and a
delete does not wait for a whole re-index (the re-index takes the write lock one batch at a time)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.api import create_app
from retrieval.service import Newsdesk
from tests.integration.retrieval.test_faults import write_articles
from tests.support.inside import chroma_ids, chunk_texts, searchable_ids
from tests.support.live_server import live_server

pytestmark = pytest.mark.integration

KEY = "test-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
PIER = {"title": "Pier closed", "body": "The Brightsea pier is closed until June while divers inspect its piles.",
        "source": "Coast News", "published_at": "2024-05-02"}  # fmt: skip


def job_state(base: str, job_id: str) -> dict[str, Any]:
    return httpx.get(f"{base}/v1/jobs/{job_id}", timeout=30).json()


def wait_for_job(base: str, job: dict[str, Any], timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while job["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
        job = job_state(base, job["id"])
    return job


def test_a_delete_during_a_reindex_does_not_wait_for_it(make_service: Callable[..., Newsdesk], tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write_articles(corpus, 16)
    service = make_service(
        corpus_dir=corpus, api_keys=[SecretStr(KEY)], rate_limit_per_minute=0, ingest_batch_articles=1
    )
    (pier,) = service.add_articles([service_article(PIER)]).added  # not in the corpus: the re-index leaves it
    with live_server(create_app(service.settings, service)) as base:
        job = httpx.post(f"{base}/v1/reindex", headers=AUTH, timeout=30).json()
        deadline = time.monotonic() + 120
        while job["progress"]["done"] < 2:  # two of sixteen batches written
            assert job["state"] == "running" and time.monotonic() < deadline, job
            time.sleep(0.02)
            job = job_state(base, job["id"])

        started = time.perf_counter()
        deleted = httpx.delete(f"{base}/v1/articles/{pier}", headers=AUTH, timeout=300)
        seconds = time.perf_counter() - started
        during = job_state(base, job["id"])
        assert deleted.status_code == 204, deleted.text
        assert during["state"] == "running", f"the delete waited for the whole re-index ({seconds:.1f}s)"
        assert httpx.get(f"{base}/v1/articles/{pier}", timeout=30).status_code == 404

        done = wait_for_job(base, job)
        assert done["state"] == "succeeded" and len(done["report"]["added"]) == 16, done
    # the index is in step everywhere: Chroma, the copy in memory, BM25
    assert pier not in {a["id"] for a in service.articles()} and len(service.articles()) == 16
    assert set(chroma_ids(service)) == set(chunk_texts(service))
    assert searchable_ids(service) == set(chunk_texts(service))


def service_article(fields: dict[str, Any]) -> Any:
    from retrieval.ingest.sources import make_article

    return make_article(fields, origin="api", key=f"api:{fields['title']}")


def long_article() -> dict[str, Any]:
    sentences = [f"Harbour report {i}: the Brightsea tide gauge read {i * 3} centimetres." for i in range(240)]
    return {"title": "Brightsea harbour log", "body": " ".join(sentences), "source": "Coast News",
            "published_at": "2024-05-03"}  # fmt: skip


def test_an_article_over_the_size_setting_is_indexed_as_a_job(make_service: Callable[..., Newsdesk]) -> None:
    service = make_service(api_keys=[SecretStr(KEY)], rate_limit_per_minute=0, write_job_bytes=4_000)
    with live_server(create_app(service.settings, service)) as base:
        small = httpx.post(f"{base}/v1/articles", headers=AUTH, json=PIER, timeout=60)
        assert small.status_code == 200 and len(small.json()["added"]) == 1, small.text

        big = long_article()
        assert len(big["body"]) > 4_000
        started = time.perf_counter()
        accepted = httpx.post(f"{base}/v1/articles", headers=AUTH, json=[big], timeout=60)
        assert accepted.status_code == 202, accepted.text
        assert time.perf_counter() - started < 2  # answered before the embedding, not after
        job = accepted.json()
        assert job["kind"] == "articles" and accepted.headers["Location"] == f"/v1/jobs/{job['id']}"

        # a re-index can start beside it (the article job does not block the one re-index slot)
        reindex = httpx.post(f"{base}/v1/reindex", headers=AUTH, timeout=30)
        assert reindex.status_code == 202, reindex.text

        done = wait_for_job(base, job)
        assert done["state"] == "succeeded" and len(done["report"]["added"]) == 1, done
        assert wait_for_job(base, reindex.json())["state"] == "succeeded"
        found = httpx.get(f"{base}/v1/search", params={"q": "Brightsea tide gauge centimetres"}, timeout=30)
        assert found.json()["passages"][0]["title"] == "Brightsea harbour log"
