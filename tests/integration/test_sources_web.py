"""Web pages and feeds, served from a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from retrieval.sources import Article, Failure, load_sources

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
