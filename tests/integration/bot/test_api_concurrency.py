"""Queries keep working while a re-index runs: every answer during the sync is a 200 and complete."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.api import create_app
from retrieval.core.config import Settings
from retrieval.embed.embedder import Embedder
from retrieval.service import Newsdesk
from tests.conftest import CORPUS, MULTIHOP, SEED_QUESTION
from tests.support.live_server import live_server

pytestmark = pytest.mark.integration

KEY = "test-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}


def _write_corpus(folder: Path, articles: list[dict[str, Any]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "multihop.json").write_text(json.dumps(articles), encoding="utf-8")
    seed = CORPUS / "2022-09-03-xiaomi-apple-ev-plans.md"
    (folder / seed.name).write_text(seed.read_text(encoding="utf-8"), encoding="utf-8")


def test_questions_during_a_reindex_are_all_answered(
    tmp_path: Path, make_settings: Callable[..., Settings], embedder: Embedder
) -> None:
    # real articles, cut to ~2 passages each so the sync takes seconds, not minutes, on 2 shared cores
    source = [
        {**a, "body": a["body"][:1500]} for a in json.loads((MULTIHOP / "corpus.json").read_text(encoding="utf-8"))
    ]
    corpus = tmp_path / "corpus"
    first = source[:60]
    _write_corpus(corpus, first)
    settings = make_settings(corpus_dir=corpus, api_keys=KEY, rate_limit_per_minute=0, ingest_batch_articles=2)
    service = Newsdesk(settings, embedder=embedder)
    assert not service.ingest([str(corpus)], prune=True).failed

    # the second version changes 20 articles, drops 20 and adds 40: writes, deletes and a BM25 swap
    changed = [{**a, "body": a["body"] + "\n\nUpdate: this story was revised."} for a in first[:20]]
    second = changed + first[40:] + source[60:100]
    _write_corpus(corpus, second)

    questions = [SEED_QUESTION, "What did Apple line up for its EV?", "Who won the 2018 FIFA World Cup final?"]
    failures: list[str] = []
    answers = 0
    reads = 0
    stop = threading.Event()

    def ask_loop(base: str) -> None:
        nonlocal answers
        with httpx.Client(base_url=base, timeout=60) as client:
            i = 0
            while not stop.is_set():
                question = questions[i % len(questions)]
                i += 1
                try:
                    response = client.post("/v1/ask", json={"question": question})
                except httpx.HTTPError as exc:
                    failures.append(f"ask: {exc!r}")
                    continue
                if response.status_code != 200:
                    failures.append(f"ask {response.status_code}: {response.text[:300]}")
                    continue
                body = response.json()
                if not body["answer"] or (not body["abstained"] and not body["citations"]):
                    failures.append(f"incomplete answer: {body}")
                if question == SEED_QUESTION and "300,000" not in body["answer"]:
                    failures.append(f"seed answer lost during the sync: {body['answer']}")
                answers += 1

    def read_loop(base: str) -> None:
        nonlocal reads
        reads_to_make: tuple[tuple[str, dict[str, str | int]], ...] = (
            ("/v1/search", {"q": "electric vehicles", "since": "2023-01-01", "k": 5}),
            ("/v1/articles", {"limit": 200}),
            ("/v1/stats", {}),
        )
        with httpx.Client(base_url=base, timeout=60) as client:
            while not stop.is_set():
                try:
                    for path, params in reads_to_make:
                        response = client.get(path, params=params)
                        if response.status_code != 200:
                            failures.append(f"{path} {response.status_code}: {response.text[:300]}")
                        reads += 1
                    stream = client.post("/v1/ask/stream", json={"question": SEED_QUESTION})
                except httpx.HTTPError as exc:
                    failures.append(f"read: {exc!r}")
                    continue
                if stream.status_code != 200 or "event: done" not in stream.text or "event: error" in stream.text:
                    failures.append(f"stream {stream.status_code}: {stream.text[-300:]}")

    app = create_app(settings, service)
    with live_server(app) as base:
        workers = [threading.Thread(target=ask_loop, args=(base,)), threading.Thread(target=read_loop, args=(base,))]
        with httpx.Client(base_url=base, timeout=60) as client:
            for worker in workers:
                worker.start()
            started = client.post("/v1/reindex", headers=AUTH)
            assert started.status_code == 202, started.text
            job_id = started.json()["id"]
            assert started.headers["location"] == f"/v1/jobs/{job_id}"

            again = client.post("/v1/reindex", headers=AUTH)
            assert again.status_code == 409, again.text
            assert again.json()["error"] == "job_running" and again.json()["job_id"] == job_id

            seen_progress = False
            deadline = time.monotonic() + 600
            while True:
                job = client.get(f"/v1/jobs/{job_id}").json()
                seen_progress |= job["state"] == "running" and job["progress"]["done"] > 0
                if job["state"] != "running" or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            answers_during = answers
            stop.set()
            for worker in workers:
                worker.join(timeout=120)

        assert job["state"] == "succeeded", job
        assert seen_progress, "the job never reported progress while it ran"
        report = job["report"]
        assert len(report["updated"]) == 20 and len(report["removed"]) == 20 and len(report["added"]) == 40
        assert failures == []
        assert answers_during >= 5 and reads >= 5, (answers_during, reads)
        assert service.stats().articles == 81
