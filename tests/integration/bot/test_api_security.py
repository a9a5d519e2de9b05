"""API keys, read protection, rate limit, body limit, and URL ingestion without server-side request forgery."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from bot.api import create_app
from retrieval.core.errors import Forbidden, InvalidInput, SourceError
from retrieval.core.types import Article, Failure, IngestReport
from retrieval.ingest.sources import load_url
from retrieval.ingest.url_guard import check_url, url_guard
from retrieval.service import Newsdesk
from tests.conftest import CORPUS, SEED_QUESTION

pytestmark = pytest.mark.integration

KEYS = ["first-key-0123456789", "second-key-9876543210"]
ARTICLE = {"title": "Ferry timetable changes", "body": "From June the night ferry leaves at 23:40 instead of 23:10."}


def make_client(service: Newsdesk, **overrides: Any) -> TestClient:
    settings = service.settings.model_copy(update={"rate_limit_per_minute": 0, **overrides})
    return TestClient(create_app(settings, service))


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


# ------------------------------------------------------------------ keys


def test_without_configured_keys_writes_are_refused_not_open(seed_service: Newsdesk) -> None:
    with make_client(seed_service) as client:
        for response in (
            client.post("/v1/articles", json=ARTICLE),
            client.post("/v1/articles", json=ARTICLE, headers=bearer("anything-at-all")),
            client.post("/v1/reindex"),
            client.delete("/v1/articles/whatever"),
        ):
            assert response.status_code == 403
            assert response.json()["error"] == "forbidden" and "NEWSDESK_API_KEYS" in response.json()["message"]
        assert client.post("/v1/ask", json={"question": SEED_QUESTION}).status_code == 200
    assert seed_service.stats().articles == 1


def test_write_routes_need_a_valid_key(seed_service: Newsdesk) -> None:
    with make_client(seed_service, api_keys=[SecretStr(k) for k in KEYS]) as client:
        missing = client.post("/v1/articles", json=ARTICLE)
        assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
        assert missing.json()["error"] == "unauthorized" and "Bearer" in missing.json()["message"]
        assert client.post("/v1/articles", json=ARTICLE, headers={"Authorization": "Basic abc"}).status_code == 401
        wrong = client.post("/v1/articles", json=ARTICLE, headers=bearer(KEYS[0] + "x"))
        assert wrong.status_code == 403 and wrong.json()["error"] == "forbidden"
        assert client.post("/v1/reindex", headers=bearer("nope")).status_code == 403
        assert client.delete("/v1/articles/x", headers=bearer("nope")).status_code == 403
        # either configured key works
        assert client.post("/v1/articles", json=ARTICLE, headers=bearer(KEYS[1])).status_code == 200
        assert client.post("/v1/articles", json=ARTICLE, headers=bearer(KEYS[0])).json()["skipped"]
        # reads stay open by default
        assert client.get("/v1/stats").status_code == 200


def test_reads_can_require_a_key(seed_service: Newsdesk) -> None:
    with make_client(seed_service, api_keys=[SecretStr(KEYS[0])], require_key_for_reads=True) as client:
        assert client.get("/v1/stats").status_code == 401
        assert client.post("/v1/ask", json={"question": SEED_QUESTION}).status_code == 401
        assert client.get("/v1/search", params={"q": "x"}, headers=bearer("bad")).status_code == 403
        assert client.get("/v1/stats", headers=bearer(KEYS[0])).status_code == 200
        assert client.post("/v1/ask", json={"question": SEED_QUESTION}, headers=bearer(KEYS[0])).status_code == 200
        # liveness, readiness and the page itself stay open (the page asks for the key)
        assert client.get("/healthz").status_code == 200 and client.get("/readyz").status_code == 200
        assert client.get("/").status_code == 200
        responses = client.get("/openapi.json").json()["paths"]["/v1/stats"]["get"]["responses"]
        assert "401" in responses and "403" in responses


# ------------------------------------------------------------------ limits


def test_rate_limit_answers_429_with_retry_after(seed_service: Newsdesk) -> None:
    with make_client(seed_service, rate_limit_per_minute=3) as client:
        statuses = [client.get("/v1/stats").status_code for _ in range(3)]
        limited = client.post("/v1/ask", json={"question": SEED_QUESTION})
        assert statuses == [200, 200, 200]
        assert limited.status_code == 429
        assert (
            limited.json()["error"] == "rate_limited" and "NEWSDESK_RATE_LIMIT_PER_MINUTE" in limited.json()["message"]
        )
        assert 1 <= int(limited.headers["retry-after"]) <= 20
        assert client.get("/healthz").status_code == 200  # probes are never limited


def test_request_body_over_the_limit_is_413(seed_service: Newsdesk) -> None:
    big = {"title": "Long read", "body": "word " * 2_000}
    with make_client(seed_service, api_keys=[SecretStr(KEYS[0])], max_body_bytes=1_000) as client:
        declared = client.post("/v1/articles", json=big, headers=bearer(KEYS[0]))
        assert declared.status_code == 413
        assert (
            declared.json()["error"] == "payload_too_large" and "NEWSDESK_MAX_BODY_BYTES" in declared.json()["message"]
        )

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is counted as the body arrives
            yield b'{"question": "'
            for _ in range(50):
                yield b"x" * 100
            yield b'"}'

        streamed = client.post("/v1/ask", content=chunks(), headers={"content-type": "application/json"})
        assert streamed.status_code == 413 and streamed.json()["error"] == "payload_too_large"
        assert client.post("/v1/ask", json={"question": SEED_QUESTION}).status_code == 200
    assert seed_service.stats().articles == 1


# ------------------------------------------------------------------ URLs


class _Site:
    """A tiny web site on 127.0.0.1 that records every path it is asked for."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                site.hits.append(self.path)
                if self.path == "/hop":
                    self.send_response(302)
                    self.send_header("Location", f"{site.base}/secret")
                    self.end_headers()
                    return
                if self.path == "/slow":  # the story, a paragraph every half second
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    for piece in _SLOW_STORY:
                        self.wfile.write(piece.encode())
                        self.wfile.flush()
                        time.sleep(0.5)
                    return
                body, kind = site.pages.get(self.path, (b"not here", "text/plain"))
                self.send_response(200 if self.path in site.pages else 404)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.pages = {
            "/story.html": (_STORY.encode(), "text/html; charset=utf-8"),
            "/secret": (b"<html><body><p>internal admin data</p></body></html>", "text/html"),
            "/feed.xml": (_FEED.replace("BASE", self.base).encode(), "application/rss+xml"),
        }
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


_STORY = """<html><head><title>Lighthouse restored</title><meta name="author" content="A. Keeper"></head>
<body><article><h1>Lighthouse restored</h1>
<p>The old lighthouse on the north cape was restored over two summers by volunteers from the harbour town.</p>
<p>Its new lamp can be seen from 31 nautical miles away, the longest range on this stretch of coast.</p>
<p>The restoration cost 1.2 million euros and was paid for by a regional heritage fund.</p>
</article></body></html>"""

_SLOW_STORY = [
    "<html><head><title>Harbour dredged</title></head><body><article><h1>Harbour dredged</h1>",
    *[
        f"<p>Dredgers worked for {n} weeks to deepen the harbour channel to eleven metres for ferries.</p>"
        for n in range(2, 12)  # ten paragraphs, half a second apart: a download of about six seconds
    ],
    "<p>The work cost 4 million euros.</p></article></body></html>",
]

_FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Coast News</title>
<item><title>Pier closed</title><link>BASE/secret</link>
<description>The pier is closed for repairs until the end of the month while divers inspect the piles.</description>
</item></channel></rss>"""


@pytest.fixture
def open_service(make_service: Callable[..., Newsdesk]) -> Newsdesk:
    """The seed index, served by a process that may fetch private and loopback URLs (NEWSDESK_ALLOW_PRIVATE_URLS)."""
    service = make_service(allow_private_urls=True)
    assert not service.ingest([str(CORPUS)], prune=True).failed
    return service


@pytest.fixture
def site() -> Iterator[_Site]:
    served = _Site()
    yield served
    served.close()


def test_private_addresses_are_refused_before_any_request(seed_service: Newsdesk, site: _Site) -> None:
    with make_client(seed_service, api_keys=[SecretStr(KEYS[0])]) as client:
        refused = client.post("/v1/articles", json={"url": f"{site.base}/story.html"}, headers=bearer(KEYS[0]))
        assert refused.status_code == 403
        assert "NEWSDESK_ALLOW_PRIVATE_URLS" in refused.json()["message"]
        for url in ("file:///etc/passwd", "ftp://example.com/x", "gopher://127.0.0.1:70/"):
            bad = client.post("/v1/articles", json={"url": url}, headers=bearer(KEYS[0]))
            assert bad.status_code == 422 and bad.json()["error"] == "invalid_input", url
    assert site.hits == []


def test_allowed_private_url_is_ingested_and_answerable(open_service: Newsdesk, site: _Site) -> None:
    with make_client(open_service, api_keys=[SecretStr(KEYS[0])]) as client:
        added = client.post("/v1/articles", json={"url": f"{site.base}/story.html"}, headers=bearer(KEYS[0]))
        assert added.status_code == 200 and len(added.json()["added"]) == 1, added.text
        answer = client.post("/v1/ask", json={"question": "How far away can the lighthouse lamp be seen?"}).json()
        assert "31 nautical miles" in answer["answer"]
        assert answer["citations"][0]["title"] == "Lighthouse restored"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/", "http://localhost:8000/", "http://10.1.2.3/", "http://172.16.0.5/",
        "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/", "http://100.64.0.1/",
        "http://0.0.0.0/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[fe80::1]/",
        "http://2130706433/", "https://224.0.0.1/",
        # IPv6 forms that carry an IPv4 address: the embedded one is what gets reached
        "http://[::127.0.0.1]/", "http://[::10.0.0.1]/", "http://[::ffff:0:127.0.0.1]/",
        "http://[64:ff9b::127.0.0.1]/", "http://[64:ff9b::169.254.169.254]/", "http://[64:ff9b:1::10.0.0.1]/",
        "http://[2002:7f00:1::]/", "http://[2002:a9fe:a9fe::1]/", "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/",
    ],
)  # fmt: skip
def test_check_url_refuses_non_public_addresses(url: str) -> None:
    with pytest.raises(Forbidden):
        check_url(url)
    check_url(url, allow_private=True)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/", "javascript:alert(1)", "http:///path"])
def test_check_url_refuses_other_schemes_and_missing_hosts(url: str) -> None:
    with pytest.raises(InvalidInput):
        check_url(url, allow_private=True)


def test_check_url_lets_public_addresses_through() -> None:
    check_url("http://93.184.216.34/news")  # a literal address: resolving it sends nothing anywhere
    check_url("https://[2606:2800:220:1:248:1893:25c8:1946]/news")
    check_url("http://[64:ff9b::93.184.216.34]/news")  # NAT64 and 6to4 of a public address
    check_url("http://[2002:5db8:d822::1]/news")


def test_redirects_and_feed_links_pass_the_guard_too(site: _Site) -> None:
    def guard(url: str) -> None:
        if url.endswith("/secret"):
            raise SourceError(f"refusing to fetch {url}")

    hop = list(load_url(f"{site.base}/hop", 1_000_000, guard))
    assert len(hop) == 1 and isinstance(hop[0], Failure) and "refusing" in hop[0].reason

    entries = list(load_url(f"{site.base}/feed.xml", 1_000_000, guard))
    assert len(entries) == 1 and isinstance(entries[0], Article)
    assert "divers inspect the piles" in entries[0].body  # the feed's own text, not the refused page
    assert "/secret" not in site.hits and site.hits.count("/hop") == 1


def test_url_guard_turns_refusals_into_source_errors() -> None:
    with pytest.raises(SourceError, match="non-public"):
        url_guard(allow_private=False)("http://127.0.0.1:9/")
    url_guard(allow_private=True)("http://127.0.0.1:9/")


def _other_write_while_fetching(site: _Site, fetching: threading.Thread, write: Callable[[], object]) -> bool:
    """Start `fetching` (a slow URL ingest), then `write` while the page is still arriving: whether the write
    was done before the download (a write that waited behind it would end after it; no clock is compared, so a
    busy machine cannot fail this)."""
    fetching.start()
    for _ in range(100):
        if "/slow" in site.hits:
            break
        time.sleep(0.05)
    assert fetching.is_alive(), "the slow page was already fetched: the test proves nothing"
    write()
    done_first = fetching.is_alive()
    fetching.join(timeout=60)
    return done_first


def test_writes_do_not_wait_behind_a_url_being_fetched(open_service: Newsdesk, site: _Site) -> None:
    with make_client(open_service, api_keys=[SecretStr(KEYS[0])]) as client:
        slow: list[Any] = []
        fetching = threading.Thread(
            target=lambda: slow.append(
                client.post("/v1/articles", json={"url": f"{site.base}/slow"}, headers=bearer(KEYS[0]))
            )
        )
        assert _other_write_while_fetching(
            site, fetching, lambda: client.post("/v1/articles", json=ARTICLE, headers=bearer(KEYS[0]))
        ), "a write waited behind a download"
        assert slow[0].status_code == 200 and len(slow[0].json()["added"]) == 1, slow[0].text

    report: list[IngestReport] = []
    # the CLI's path: the same URL guard as the API's (issue 25), so loopback is allowed here as above
    fetching = threading.Thread(target=lambda: report.append(open_service.ingest([f"{site.base}/slow"])))
    assert _other_write_while_fetching(
        site, fetching, lambda: open_service.delete(open_service.articles()[0]["id"])
    ), "a delete waited behind a download"
    assert report[0].skipped  # the same page again
