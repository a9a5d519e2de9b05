"""Web pages and feeds, served from a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from retrieval.ingest.sources import Article, Failure, load_sources, load_url

pytestmark = pytest.mark.integration

PAGE = """<html><head><title>Factory news</title><meta property="og:site_name" content="Local Times">
<meta name="date" content="2023-10-05"></head><body><nav>Home | World | Sport</nav><article>
<h1>Factory news</h1>{paragraphs}</article><footer>Copyright and cookie banner</footer></body></html>"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "site"
    root.mkdir()
    paragraphs = "".join(
        f"<p>Paragraph {i}: the new plant will build batteries for electric cars and employ many workers.</p>"
        for i in range(6)
    )
    (root / "story.html").write_text(PAGE.format(paragraphs=paragraphs))
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    base = f"http://127.0.0.1:{server.server_address[1]}"
    (root / "feed.xml").write_text(
        f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Local Times</title>
        <item><title>Factory news</title><link>{base}/story.html</link>
        <pubDate>Thu, 05 Oct 2023 08:00:00 GMT</pubDate><description>Short teaser.</description></item>
        <item><title>Gone page</title><link>{base}/missing.html</link>
        <pubDate>Fri, 06 Oct 2023 08:00:00 GMT</pubDate>
        <description>&lt;p&gt;The feed's own text about a port strike is used instead.&lt;/p&gt;</description></item>
        </channel></rss>"""
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    server.server_close()


def test_a_web_page_is_extracted(site: str) -> None:
    items = list(load_sources([f"{site}/story.html"]))
    assert len(items) == 1 and isinstance(items[0], Article)
    page = items[0]
    assert page.title == "Factory news"
    assert "batteries for electric cars" in page.body
    assert "cookie banner" not in page.body and "Home | World" not in page.body
    assert page.url == f"{site}/story.html"


def test_a_feed_fetches_each_entry_page_or_falls_back_to_its_content(site: str) -> None:
    items = list(load_sources([], feeds=[f"{site}/feed.xml"]))
    assert all(isinstance(i, Article) for i in items), items
    by_title = {i.title: i for i in items if isinstance(i, Article)}
    assert "Paragraph 5" in by_title["Factory news"].body  # the page, not the teaser
    assert "port strike" in by_title["Gone page"].body  # the page 404s: the feed's own content
    assert by_title["Gone page"].published_at == "2023-10-06T08:00:00"
    assert by_title["Factory news"].source == "Local Times"


def test_a_url_given_as_target_that_is_a_feed_is_read_as_one(site: str) -> None:
    items = list(load_sources([f"{site}/feed.xml"]))
    assert len([i for i in items if isinstance(i, Article)]) == 2


def test_an_unreachable_page_is_a_failure_not_a_crash(site: str) -> None:
    items = list(load_sources([f"{site}/missing.html", "http://127.0.0.1:9/nothing"]))
    assert all(isinstance(i, Failure) for i in items)
    first = items[0]
    assert isinstance(first, Failure) and "404" in first.reason


# ------------------------------------------------------------------ hostile servers


class _Hostile:
    """Pages that never end: /huge sends 100 MB (no Content-Length), /declared announces 300 MB, /drip sends
    a line every 0.3 s for 30 s. `sent` counts the body bytes the server managed to write."""

    def __init__(self) -> None:
        self.sent = 0
        hostile = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                if self.path == "/declared":
                    self.send_header("Content-Length", str(300_000_000))
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    if self.path == "/drip":
                        for i in range(100):
                            self._write(f"<p>line {i} of a page that takes its time</p>\n".encode())
                            time.sleep(0.3)
                    else:
                        for _ in range(1_600):
                            self._write(b"<p>" + b"x" * 65_529 + b"</p>")
                except OSError:
                    pass  # the client hung up: what it should do

            def _write(self, data: bytes) -> None:
                self.wfile.write(data)
                self.wfile.flush()
                hostile.sent += len(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hostile() -> Iterator[_Hostile]:
    served = _Hostile()
    yield served
    served.close()


@pytest.mark.parametrize("path", ["/huge", "/declared"])
def test_a_page_over_the_byte_limit_is_not_downloaded_whole(hostile: _Hostile, path: str) -> None:
    items = list(load_url(hostile.base + path, 1_000_000))
    assert len(items) == 1 and isinstance(items[0], Failure)
    assert "over the 1,000,000-byte limit" in items[0].reason and "NEWSDESK_MAX_ARTICLE_BYTES" in items[0].reason
    time.sleep(0.2)
    assert hostile.sent < 20_000_000  # stopped soon after the limit (socket buffers hold a few MB), not at 100 MB


def test_a_page_that_drips_is_cut_at_the_deadline(hostile: _Hostile) -> None:
    start = time.monotonic()
    items = list(load_url(hostile.base + "/drip", 1_000_000, seconds=1.5))
    elapsed = time.monotonic() - start
    assert len(items) == 1 and isinstance(items[0], Failure)
    assert "1.5 s" in items[0].reason and "NEWSDESK_FETCH_TIMEOUT" in items[0].reason
    assert elapsed < 3.0, elapsed
