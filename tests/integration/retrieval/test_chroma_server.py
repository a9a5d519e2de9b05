"""Newsdesk on a real Chroma server (`chroma run` on a free loopback port), through NEWSDESK_CHROMA_URL.

The server mode is how several processes share one index (embedded Chroma is not process-safe): the last
test runs two Newsdesk processes at once, one serving answers and one ingesting, and the answering one
sees the new articles without a restart.
"""

from __future__ import annotations

import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from retrieval.core.types import Article, Question
from retrieval.embed.embedder import Embedder
from retrieval.service import Newsdesk
from tests.conftest import CORPUS, SEED_QUESTION, subprocess_env
from tests.support.chroma_server import ChromaServer, NewsdeskServer, newsdesk_executable
from tests.support.inside import (
    chroma_count,
    chroma_location,
    chroma_metadata,
    chunk_texts,
    count_whole_reads,
    lexical_file,
    skip_refresh_wait,
)
from tests.support.lexical_check import contents

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def chroma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    with ChromaServer(tmp_path_factory.mktemp("chroma-server") / "chroma") as server:
        yield server


@pytest.fixture
def collection() -> str:
    """Each test its own collection on the shared server."""
    return f"t{uuid.uuid4().hex[:12]}"


def _assert_seed_answer(payload: dict[str, object]) -> None:
    assert payload["abstained"] is False, payload
    assert "300,000" in str(payload["answer"])
    citations = payload["citations"]
    assert isinstance(citations, list) and citations
    assert "300,000" in citations[0]["quote"]


def test_ingest_search_and_ask_through_the_server(
    chroma: ChromaServer, collection: str, make_service: Callable[..., Newsdesk]
) -> None:
    service = make_service(chroma_url=chroma.url, collection=collection, chroma_timeout=10)
    assert chroma_location(service) == f"the Chroma server at {chroma.url}"
    report = service.ingest([str(CORPUS)], prune=True)
    assert report.added and not report.failed
    assert not (service.settings.data_dir / "chroma").exists(), "server mode must not open an embedded store"

    passages = service.search(SEED_QUESTION)
    assert passages and "300,000" in " ".join(p.text for p in passages[:3])
    _assert_seed_answer(service.ask(Question(question=SEED_QUESTION)).model_dump())

    again = service.ingest([str(CORPUS)], prune=True)  # a sync: nothing new, nothing duplicated
    assert again.added == [] and again.updated == [] and again.chunks_embedded == 0
    assert sorted(again.skipped) == sorted(report.added)
    assert chroma_count(service) == len(chunk_texts(service)) == service.stats().chunks

    article = report.added[0]
    service.delete(article)
    assert article not in {a["id"] for a in service.articles()}
    assert all(meta.get("article_id") != article for meta in chroma_metadata(service).values())


def test_a_second_service_sees_what_the_first_wrote(
    chroma: ChromaServer, collection: str, make_service: Callable[..., Newsdesk]
) -> None:
    reader = make_service(chroma_url=chroma.url, collection=collection)
    assert reader.ask(Question(question=SEED_QUESTION)).abstained  # empty index

    writer = make_service(chroma_url=chroma.url, collection=collection)
    writer.ingest([str(CORPUS)])

    skip_refresh_wait(reader)  # skip the 2 s refresh interval instead of sleeping through it
    _assert_seed_answer(reader.ask(Question(question=SEED_QUESTION)).model_dump())
    assert reader.stats().chunks == writer.stats().chunks


def test_a_replica_with_its_own_files_picks_up_changes_from_the_change_log(
    chroma: ChromaServer, collection: str, make_service: Callable[..., Newsdesk], tmp_path: Path
) -> None:
    """Two machines (two data directories) on one server: the reader applies what the writer changed, read
    from the change log, without comparing the whole collection; deletions and replacements included."""
    writer = make_service(chroma_url=chroma.url, collection=collection, data_dir=tmp_path / "writer")
    writer.ingest([str(CORPUS)])
    reader = make_service(chroma_url=chroma.url, collection=collection, data_dir=tmp_path / "reader")
    _assert_seed_answer(
        reader.ask(Question(question=SEED_QUESTION)).model_dump()
    )  # a new replica: built once from Chroma

    whole_reads = count_whole_reads(reader)
    body = "The Lakeview tram line opened on Thursday with twelve stops and a fare of two dollars."
    extra = Article(id="tram", title="Lakeview tram opens", source="Metro Wire", published_at="2023-11-02", body=body)
    writer.add_articles([extra])
    skip_refresh_wait(reader)  # skip the 2 s refresh interval instead of sleeping through it
    assert reader.search("Lakeview tram fare", 1)[0].article_id == "tram"

    changed = extra.model_copy(update={"body": extra.body.replace("twelve stops", "fourteen stops")})
    writer.add_articles([changed])
    skip_refresh_wait(reader)
    assert "fourteen stops" in reader.search("Lakeview tram fare", 1)[0].text
    seed = next(a["id"] for a in writer.articles() if a["id"] != "tram")
    writer.delete(seed)
    skip_refresh_wait(reader)
    reader.search("Lakeview tram", 1)
    assert seed not in {a["id"] for a in reader.articles()}
    assert whole_reads == [], "the reader compared the whole collection instead of reading the change log"
    assert contents(lexical_file(reader)) == contents(lexical_file(writer))


def test_two_processes_one_ingesting_one_answering(
    chroma: ChromaServer, collection: str, embedder: Embedder, tmp_path: Path
) -> None:
    """`newsdesk serve` and `newsdesk ingest` as separate processes on one server; no 5xx in between."""
    env = subprocess_env(
        tmp_path / "api-data",
        NEWSDESK_CHROMA_URL=chroma.url,
        NEWSDESK_COLLECTION=collection,
        NEWSDESK_RATE_LIMIT_PER_MINUTE="0",  # this test asks as fast as it can
    )
    with NewsdeskServer(env, tmp_path / "serve.log") as api:
        before = httpx.post(f"{api.url}/v1/ask", json={"question": SEED_QUESTION}, timeout=30)
        assert before.status_code == 200 and before.json()["abstained"] is True

        statuses: list[int] = []
        stop = threading.Event()

        def keep_asking() -> None:
            with httpx.Client(timeout=30) as client:
                while not stop.is_set() and len(statuses) < 200:
                    statuses.append(client.post(f"{api.url}/v1/ask", json={"question": SEED_QUESTION}).status_code)

        asker = threading.Thread(target=keep_asking)
        asker.start()
        try:
            ingest_env = subprocess_env(
                tmp_path / "ingest-data", NEWSDESK_CHROMA_URL=chroma.url, NEWSDESK_COLLECTION=collection
            )
            done = subprocess.run(
                [newsdesk_executable(), "ingest", str(CORPUS), "--json"],
                env=ingest_env,
                capture_output=True,
                text=True,
                timeout=300,
            )
        finally:
            stop.set()
            asker.join(timeout=60)
        assert done.returncode == 0, done.stderr[-2000:]
        assert statuses and set(statuses) == {200}, statuses

        answer: dict[str, object] = {}
        for _ in range(40):  # the API re-reads the index at most every 2 s
            answer = httpx.post(f"{api.url}/v1/ask", json={"question": SEED_QUESTION}, timeout=30).json()
            if not answer["abstained"]:
                break
            threading.Event().wait(0.25)
        _assert_seed_answer(answer)
