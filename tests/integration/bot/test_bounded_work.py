"""Bounded work (issue 25): write jobs, feeds and downloads have limits that answer 429 with Retry-After, and
every fetch on every face (the CLI and the scheduler too) goes through the one URL guard."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from bot.api import create_app
from retrieval.service import Newsdesk
from tests.conftest import ROOT, subprocess_env
from tests.support.chroma_server import newsdesk_executable
from tests.support.inside import syncs_held
from tests.support.web_site import LoopbackSite, html_page, rss_feed

pytestmark = pytest.mark.integration

KEY = "bounded-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
SLOW_SECONDS = 1.0


def feed_xml(link_base: str, count: int) -> str:
    items = "".join(
        f"<item><title>Harbour note {i}</title><link>{link_base}/{i}</link>"
        f"<pubDate>Mon, 02 Oct 2023 0{i % 10}:00:00 +0000</pubDate>"
        f"<description>Harbour note number {i}: the ferry schedule changes on pier {i} from Monday.</description>"
        "</item>"
        for i in range(count)
    )
    return rss_feed("Harbour Notes", items, declaration=True)


def harbour_site() -> LoopbackSite:
    """/feed-N.xml: a feed of N entries whose links are slow pages; any other path: a slow page."""

    def page(path: str) -> tuple[bytes, str]:
        if path.startswith("/feed-"):
            count = int(path.removeprefix("/feed-").removesuffix(".xml"))
            return feed_xml(f"{served.base}/slow", count).encode(), "application/rss+xml"
        time.sleep(SLOW_SECONDS)
        return html_page(f"A slow page at {path}, about the harbour's ferries and piers, written slowly.")

    served = LoopbackSite(page)
    return served


@pytest.fixture
def site() -> Iterator[LoopbackSite]:
    served = harbour_site()
    yield served
    served.close()


def client_for(service: Newsdesk, **overrides: Any) -> TestClient:
    settings = service.settings.model_copy(
        update={"rate_limit_per_minute": 0, "api_keys": [SecretStr(KEY)], **overrides}
    )
    return TestClient(create_app(settings, service))


def test_write_jobs_are_bounded_in_number_and_bytes(make_service: Callable[..., Newsdesk]) -> None:
    """Item 7: each 202 job was a thread holding its text, without a bound (60 jobs of 1.9 MB: 900 MB)."""
    service = make_service(write_job_bytes=1_000, max_write_jobs=2, max_write_job_queue_bytes=50_000)
    big = [{"title": f"Long {i}", "body": f"Paragraph {i} about the harbour. " * 60} for i in range(4)]
    with client_for(service) as client:
        with syncs_held(service):  # the jobs wait for the index: they stay unfinished while the test posts
            first = client.post("/v1/articles", json=big[0], headers=AUTH)
            second = client.post("/v1/articles", json=big[1], headers=AUTH)
            third = client.post("/v1/articles", json=big[2], headers=AUTH)
        assert first.status_code == second.status_code == 202
        assert third.status_code == 429 and int(third.headers["Retry-After"]) > 0
        assert third.json()["error"] == "too_many_jobs" and "NEWSDESK_MAX_WRITE_JOBS" in third.json()["message"]
        service.jobs.join(timeout=120)
        assert client.post("/v1/articles", json=big[3], headers=AUTH).status_code == 202  # room again
        service.jobs.join(timeout=120)
        huge = [{"title": f"Huge {i}", "body": "Words about the harbour and its ferries. " * 800} for i in range(2)]
        with syncs_held(service):
            assert client.post("/v1/articles", json=huge[0], headers=AUTH).status_code == 202
            over = client.post("/v1/articles", json=huge[1], headers=AUTH)  # past the bytes the queue may hold
        assert over.status_code == 429 and "NEWSDESK_MAX_WRITE_JOB_QUEUE_BYTES" in over.json()["message"]
        service.jobs.join(timeout=120)


def test_a_feed_is_capped_in_entries_and_total_time(make_service: Callable[..., Newsdesk], site: LoopbackSite) -> None:
    """Item 8: one feed of 20 slow entries took 63 s; 40 at once starved every other request."""
    service = make_service(allow_private_urls=True, max_feed_entries=8, feed_timeout=2.5, max_concurrent_fetches=1)
    with client_for(service) as client:
        start = time.monotonic()
        response = client.post("/v1/articles", json={"url": f"{site.base}/feed-20.xml"}, headers=AUTH)
        elapsed = time.monotonic() - start
        assert response.status_code == 200, response.text
        report = response.json()
        assert len(report["added"]) == 8 and "only the first 8" in report["failed"][0]["reason"], report
        assert elapsed < 2.5 + SLOW_SECONDS + 3, f"the feed took {elapsed:.1f}s"
        assert sum(h.startswith("/slow") for h in site.hits) <= 4  # the rest used the feed's own content

        # one download at a time here: a second one is refused at once, other requests go on
        results: list[Any] = []
        slow = threading.Thread(
            target=lambda: results.append(client.post("/v1/articles", json={"url": f"{site.base}/slow/x"},
                                                      headers=AUTH))  # fmt: skip
        )
        slow.start()
        deadline = time.monotonic() + 10
        while "/slow/x" not in site.hits and time.monotonic() < deadline:
            time.sleep(0.02)
        busy = client.post("/v1/articles", json={"url": f"{site.base}/feed-2.xml"}, headers=AUTH)
        assert busy.status_code == 429 and "NEWSDESK_MAX_CONCURRENT_FETCHES" in busy.json()["message"]
        assert int(busy.headers["Retry-After"]) > 0
        assert client.get("/readyz").status_code == 200 and client.get("/v1/stats").status_code == 200
        slow.join(timeout=30)
        assert results and results[0].status_code == 200


def test_feed_entry_links_on_the_cli_pass_the_url_guard(site: LoopbackSite, tmp_path: Path, model_cache: Path) -> None:
    """Item 6: `ingest --feed` (and the scheduler, which runs the same sync) fetched entries linking to 127.0.0.1
    and 2130706433."""
    feed = tmp_path / "feed.xml"
    items = (
        f"<item><title>Loopback one</title><link>{site.base}/secret</link>"
        "<description>The first harbour note from the feed itself, about the ferry timetable.</description></item>"
        f"<item><title>Loopback two</title><link>http://2130706433:{site.port}/secret</link>"
        "<description>The second harbour note from the feed itself, about the pier repairs.</description></item>"
    )
    feed.write_text(f'<?xml version="1.0"?><rss version="2.0"><channel><title>Notes</title>{items}</channel></rss>')
    env = subprocess_env(tmp_path / "data", NEWSDESK_SENTENCE_VECTORS="false")
    done = subprocess.run(
        [newsdesk_executable(), "ingest", "--feed", str(feed), "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert site.hits == [], site.hits
    assert '"added"' in done.stdout
