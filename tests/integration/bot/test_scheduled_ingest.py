"""`newsdesk ingest --sources-file FILE --every 1s`: a feed served on loopback grows between runs; the index
follows it without duplicates, and Ctrl-C stops the loop cleanly."""

from __future__ import annotations

import functools
import http.server
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from retrieval.core.config import Settings
from retrieval.core.types import Question
from retrieval.embed.embedder import Embedder
from retrieval.service import Newsdesk
from tests.conftest import subprocess_env
from tests.support.chroma_server import newsdesk_executable
from tests.support.inside import chroma_metadata, chunk_texts

pytestmark = pytest.mark.integration

STORIES = [
    ("Harbour bridge reopens after repairs", "The harbour bridge reopened on Monday after nine months of repairs. "
     "Engineers replaced 42 steel cables and repainted the main span."),
    ("Library extends opening hours", "The city library will stay open until 10 pm on weekdays from March. "
     "The council approved a budget of 1.2 million euros for extra staff."),
    ("Tram line 7 gets new trains", "Tram line 7 will run 14 new low-floor trains from June. "
     "The trains carry 220 passengers each and cut travel time by six minutes."),
]  # fmt: skip


def _feed(base: str, count: int) -> str:
    items = "".join(
        f"<item><title>{title}</title><link>{base}/story{i}.html</link>"
        f"<pubDate>Mon, 0{i + 1} Jan 2024 10:00:00 GMT</pubDate><description>{body}</description></item>"
        for i, (title, body) in enumerate(STORIES[:count])
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Local Wire</title>{items}</channel></rss>'


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A loopback web server for the feed and its story pages."""
    root = tmp_path / "site"
    root.mkdir()
    for i, (title, body) in enumerate(STORIES):
        (root / f"story{i}.html").write_text(
            f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1><p>{body}</p>"
            "<p>Officials said further updates would follow in the coming weeks.</p></article></body></html>"
        )
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


def test_scheduled_ingest_follows_a_growing_feed_without_duplicates(
    site: tuple[str, Path], embedder: Embedder, model_cache: Path, tmp_path: Path
) -> None:
    base, root = site
    (root / "feed.xml").write_text(_feed(base, 2))
    sources = tmp_path / "feeds.txt"
    sources.write_text(f"# the wire\n{base}/feed.xml\n")
    data = tmp_path / "data"
    process = subprocess.Popen(
        [newsdesk_executable(), "ingest", "--sources-file", str(sources), "--every", "1s"],
        env=subprocess_env(data, NEWSDESK_ALLOW_PRIVATE_URLS="true"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout or []), daemon=True)
    reader.start()

    def runs_done() -> int:
        return sum("chunks embedded" in line for line in list(lines))

    def wait_for_runs(n: int) -> None:
        deadline = time.monotonic() + 120
        while runs_done() < n:
            assert process.poll() is None, (process.stderr.read() if process.stderr else "")[-2000:]
            assert time.monotonic() < deadline, "".join(lines)[-2000:]
            time.sleep(0.1)

    try:
        wait_for_runs(2)  # the same two entries twice: the second run skips them
        (root / "feed.xml").write_text(_feed(base, 3))
        wait_for_runs(runs_done() + 2)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    reader.join(timeout=10)
    stderr = process.stderr.read() if process.stderr else ""
    assert "stopped" in stderr, stderr[-2000:]

    service = Newsdesk(Settings(data_dir=data, model_cache_dir=model_cache), embedder=embedder)
    articles = service.articles()
    assert sorted(a["title"] for a in articles) == sorted(title for title, _ in STORIES)
    urls = [a["url"] for a in articles]
    assert len(urls) == len(set(urls)) == 3
    metadata = chroma_metadata(service)
    assert len(metadata) == len(chunk_texts(service))
    per_article: dict[str, set[int]] = {}
    for meta in metadata.values():
        per_article.setdefault(meta["article_id"], set()).add(int(meta["index"]))
    assert all(indexes == set(range(len(indexes))) for indexes in per_article.values())  # one version each
    answer = service.ask(Question(question="How many steel cables were replaced on the harbour bridge?"))
    assert not answer.abstained and "42" in answer.answer
