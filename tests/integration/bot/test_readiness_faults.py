"""Readiness tells the truth fast (issue 25): an overloaded answer queue and a locked or damaged lexical file are
503 at once, never a minute's wait or a 500; a lexical file that cannot be written is 507."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bot.api import create_app
from retrieval.core.errors import StorageError
from retrieval.core.types import Article
from retrieval.service import Newsdesk
from tests.conftest import SEED_QUESTION
from tests.support.inside import lexical_connection, lexical_file, lexical_path

pytestmark = pytest.mark.integration


def client_for(service: Newsdesk) -> TestClient:
    settings = service.settings.model_copy(update={"rate_limit_per_minute": 0})
    return TestClient(create_app(settings, service), raise_server_exceptions=False)


@pytest.fixture
def busy_service(seed_service: Newsdesk) -> Iterator[Newsdesk]:
    seed_service.settings = seed_service.settings.model_copy(update={"max_queued_answers": 0})
    yield seed_service


def test_readyz_says_503_when_questions_queue_past_the_limit(busy_service: Newsdesk) -> None:
    """Item 5: while answers queued for minutes, /readyz said ready."""
    service = busy_service
    with client_for(service) as client:
        assert client.get("/readyz").status_code == 200
        slots = service.admission.slots
        release = threading.Event()

        def hold() -> None:
            with service.admission:
                release.wait(30)

        holders = [threading.Thread(target=hold) for _ in range(slots + 1)]  # every slot, and one waiting
        for thread in holders:
            thread.start()
        deadline = time.monotonic() + 10
        while service.admission.inside < slots + 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        response = client.get("/readyz")
        release.set()
        for thread in holders:
            thread.join(timeout=30)
        assert response.status_code == 503 and response.json()["error"] == "overloaded", response.text
        assert "NEWSDESK_MAX_QUEUED_ANSWERS" in response.json()["message"]
        assert client.get("/readyz").status_code == 200


def test_a_lexical_file_damaged_under_a_running_server_is_a_fast_503(seed_service: Newsdesk) -> None:
    """Item 12: with the lexical file damaged under a running server, each /readyz, stats call and ask waited
    60 s, then answered 500. Now a lock is waited for 1 s by the probe and 10 s by a request, and any SQLite
    error on the read path is 503."""
    with client_for(seed_service) as client:
        assert client.post("/v1/ask", json={"question": SEED_QUESTION}).status_code == 200
        file = lexical_file(seed_service)
        file.note_whole()  # the log folded into the file: what follows damages what every read reads
        path = lexical_path(seed_service)
        size = path.stat().st_size
        with path.open("r+b") as raw:  # every page but the first (the header and the schema) zeroed
            raw.seek(4096)
            raw.write(bytes(size - 4096))
        file._local = threading.local()  # each thread's next read opens the file anew, as a new process would
        file._passages.clear()
        for method, route, body in (
            ("GET", "/readyz", None),
            ("GET", "/v1/stats", None),
            ("POST", "/v1/ask", {"question": SEED_QUESTION}),
        ):
            start = time.monotonic()
            response = client.request(method, route, json=body)
            elapsed = time.monotonic() - start
            assert response.status_code in (200, 503), (route, response.status_code, response.text)
            assert elapsed < 15, f"{route} took {elapsed:.1f}s"
            if route == "/readyz":
                assert response.status_code == 503, response.text


def test_a_lexical_file_that_cannot_be_written_is_507(seed_service: Newsdesk) -> None:
    """Item 17: SQLite's refusal to write the lexical file was a 500."""
    article = Article(id="ferry-times", title="Ferry times", body="The night ferry now leaves at 23:40.", origin="t")
    db = lexical_connection(seed_service)  # this thread's connection: the sync below runs on this thread
    db.execute("PRAGMA query_only = 1")  # SQLite refuses every write, as on a file it may not write
    try:
        with pytest.raises(StorageError, match="cannot be written"):
            seed_service.add_articles([article])
    finally:
        db.execute("PRAGMA query_only = 0")
    assert seed_service.add_articles([article]).added == ["ferry-times"]
