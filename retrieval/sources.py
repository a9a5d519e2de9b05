"""Sources of articles: a folder of files, a web page, an RSS/Atom feed. Each yields Articles or Failures."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import feedparser
import frontmatter
import httpx
import trafilatura
import yaml

from retrieval import dates
from retrieval.types import Article, Failure

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".md", ".markdown", ".txt", ".html", ".htm", ".json", ".jsonl"}
COLLECTION_FACTOR = 100
USER_AGENT = "Newsdesk/0.1 (+https://github.com/newsdesk)"


class SourceError(Exception):
    """One source could not be read; the message says why and what to do."""


def normalise_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"\W+", " ", text).strip()


def text_hash(text: str) -> str:
    return hashlib.sha1(normalise_text(text).encode()).hexdigest()[:16]


def normalise_url(url: str) -> str:
    url = url.strip()
    url = re.sub(r"#.*$", "", url)
    url = re.sub(r"^https?://(www\.)?", "", url, flags=re.I)
    return url.rstrip("/").lower()


def article_id_for(url: str | None, fallback_key: str) -> str:
    key = "url:" + normalise_url(url) if url else "key:" + fallback_key
    return hashlib.sha1(key.encode()).hexdigest()[:16]


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def make_article(fields: dict[str, Any], origin: str, key: str, root: str | None = None) -> Article:
    """Build an Article from loose fields (front matter, JSON object, extracted page)."""
    body = _clean(fields.get("body") or fields.get("text") or fields.get("content"))
    if not body:
        raise SourceError("the article has no body text")
    url = _clean(fields.get("url") or fields.get("link"))
    title = _clean(fields.get("title")) or body.split("\n", 1)[0][:120]
    return Article(
        id=_clean(fields.get("id")) or article_id_for(url, key),
        title=title,
        body=body,
        source=_clean(fields.get("source")),
        url=url,
        published_at=dates.normalise(fields.get("published_at") or fields.get("date")),
        author=_clean(fields.get("author")),
        category=_clean(fields.get("category")),
        origin=origin,
        origin_root=root,
    )


# ---------------------------------------------------------------- files


def read_text_file(path: Path, max_bytes: int) -> str:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SourceError(f"file is {size:,} bytes, over the {max_bytes:,}-byte limit (NEWSDESK_MAX_ARTICLE_BYTES)")
        raw = path.read_bytes()
    except PermissionError as exc:
        raise SourceError("file is not readable (permission denied)") from exc
    except OSError as exc:
        raise SourceError(f"file could not be read: {exc.strerror or exc}") from exc
    if not raw.strip():
        raise SourceError("file is empty")
    if b"\x00" in raw[:8192] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SourceError("file looks binary (NUL bytes), not text")
    codec, name = "utf-8", "UTF-8"
    for bom, bom_codec, bom_name in _BOMS:
        if raw.startswith(bom):
            codec, name = bom_codec, bom_name
            break
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        offset = exc.start + (len(raw) - len(exc.object))  # utf-8-sig reports offsets past its BOM
        raise SourceError(
            f"file is not valid {name} (byte 0x{raw[offset]:02x} at offset {offset}); re-save it as UTF-8"
        ) from exc


_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig", "UTF-8"), (b"\xff\xfe", "utf-16", "UTF-16"), (b"\xfe\xff", "utf-16", "UTF-16"))


def _articles_from_json(text: str, path: Path, root: str | None, jsonl: bool) -> Iterator[Article | Failure]:
    origin = str(path)
    try:
        items: list[Any] = (
            [json.loads(line) for line in text.splitlines() if line.strip()] if jsonl else [json.loads(text)]
        )
    except json.JSONDecodeError as exc:
        yield Failure(origin=origin, reason=f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")
        return
    except RecursionError:
        yield Failure(origin=origin, reason="the JSON is nested too deeply to read; flatten it into article objects")
        return
    if len(items) == 1 and isinstance(items[0], list):
        items = items[0]
    if len(items) == 1 and isinstance(items[0], dict) and isinstance(items[0].get("articles"), list):
        items = items[0]["articles"]
    for i, item in enumerate(items):
        where = f"{origin}#{i}"
        if not isinstance(item, dict):
            yield Failure(origin=where, reason="expected an article object with title and body")
            continue
        try:
            yield make_article(item, where, key=f"{path.name}#{item.get('title') or i}", root=root)
        except SourceError as exc:
            yield Failure(origin=where, reason=str(exc))


def _article_from_markdown(text: str, path: Path, key: str, root: str | None) -> Article:
    try:
        post = frontmatter.loads(text)
    except (yaml.YAMLError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SourceError(f"broken front matter: {first}") from exc
    if not isinstance(post.metadata, dict):
        raise SourceError("front matter must be a mapping of fields")
    return make_article({**post.metadata, "body": post.content}, str(path), key, root)


def _article_from_html(text: str, path_or_url: str, key: str, root: str | None) -> Article:
    doc = trafilatura.bare_extraction(
        text, url=path_or_url if "://" in path_or_url else None, with_metadata=True, as_dict=True
    )
    if not isinstance(doc, dict) or not doc.get("text"):
        raise SourceError("no article text could be extracted from the HTML")
    categories = doc.get("categories")
    fields = {
        "title": doc.get("title"),
        "body": doc.get("text"),
        "url": doc.get("url"),
        "source": doc.get("sitename") or doc.get("hostname"),
        "published_at": doc.get("date"),
        "author": doc.get("author"),
        "category": ", ".join(categories) if isinstance(categories, list) else categories,
    }
    return make_article(fields, path_or_url, key, root)


def _article_from_txt(text: str, path: Path, key: str, root: str | None) -> Article:
    lines = text.strip().split("\n", 1)
    if len(lines) == 2 and len(lines[0]) <= 200:
        title, body = lines[0].strip(), lines[1]
    else:
        title, body = path.stem.replace("-", " ").replace("_", " "), text
    return make_article({"title": title, "body": body}, str(path), key, root)


def load_file(path: Path, max_bytes: int, root: Path | None = None) -> Iterator[Article | Failure]:
    key = str(path.relative_to(root)) if root else str(path.resolve())
    root_str = str(root.resolve()) if root else None
    suffix = path.suffix.lower()
    collection = suffix in {".json", ".jsonl"}
    try:
        # a JSON file may hold many articles: the per-article limit then applies to each body
        text = read_text_file(path, max_bytes * COLLECTION_FACTOR if collection else max_bytes)
        if suffix in {".json", ".jsonl"}:
            for item in _articles_from_json(text, path, root_str, jsonl=suffix == ".jsonl"):
                if isinstance(item, Article) and len(item.body.encode()) > max_bytes:
                    yield Failure(origin=item.origin, reason=f"article body is over the {max_bytes:,}-byte limit")
                else:
                    yield item
        elif suffix in {".md", ".markdown"}:
            yield _article_from_markdown(text, path, key, root_str)
        elif suffix in {".html", ".htm"}:
            yield _article_from_html(text, str(path), key, root_str)
        elif suffix == ".txt":
            yield _article_from_txt(text, path, key, root_str)
        else:
            yield Failure(origin=str(path), reason=f"unsupported file type {suffix!r}")
    except SourceError as exc:
        yield Failure(origin=str(path), reason=str(exc))
    except RecursionError:
        yield Failure(origin=str(path), reason="its structure is nested too deeply to read; simplify the file")
    except Exception as exc:  # one unreadable file must not stop the rest of a folder
        log.warning("could not read %s", path, exc_info=True)
        yield Failure(origin=str(path), reason=f"the file could not be read ({type(exc).__name__}); check its format")


def load_folder(root: Path, max_bytes: int) -> Iterator[Article | Failure]:
    real_root = root.resolve()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            continue
        if path.suffix.lower() not in TEXT_SUFFIXES:
            log.debug("skipping %s: not an article file", path)
        elif not path.resolve().is_relative_to(real_root):
            # a link to a system file would otherwise become searchable (also through /v1/reindex)
            yield Failure(
                origin=str(path),
                reason="it is a link to a file outside the folder, which is not indexed; copy the file into the folder",
            )
        else:
            yield from load_file(path, max_bytes, root)


# ---------------------------------------------------------------- the web


UrlGuard = Callable[[str], None]  # raises SourceError for a URL that must not be fetched
FETCH_SECONDS = 30.0  # default for NEWSDESK_FETCH_TIMEOUT: one whole download, redirects included
READ_TIMEOUT = 10.0  # the longest wait for any one read from the network


@dataclass(frozen=True)
class Page:
    url: str  # after redirects
    content_type: str
    content: bytes
    encoding: str

    @property
    def text(self) -> str:
        return self.content.decode(self.encoding, errors="replace")


class _Deadline:
    def __init__(self, url: str, seconds: float) -> None:
        self.url, self.seconds = url, seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self._end - time.monotonic()

    def error(self) -> SourceError:
        return SourceError(
            f"{self.url} took longer than {self.seconds:g} s to download (NEWSDESK_FETCH_TIMEOUT); "
            "try again later, or raise the limit for slow sites"
        )

    def check(self) -> None:
        if self.remaining() <= 0:
            raise self.error()


def fetch(url: str, max_bytes: int, guard: UrlGuard | None = None, seconds: float = FETCH_SECONDS) -> Page:
    """GET a page, streamed: stops at `max_bytes` and after `seconds` in all (not per read, so a server that
    drips a line at a time cannot hold it). `guard` sees every URL requested, redirects included."""
    deadline = _Deadline(url, seconds)

    def before_each_request(request: httpx.Request) -> None:
        deadline.check()
        if guard is not None:
            guard(str(request.url))
        # no single wait (connect, a read) may outlast the whole deadline
        request.extensions["timeout"] = httpx.Timeout(max(0.01, min(READ_TIMEOUT, deadline.remaining()))).as_dict()

    hooks = {"request": [before_each_request]}
    try:
        with (
            httpx.Client(follow_redirects=True, headers={"User-Agent": USER_AGENT}, event_hooks=hooks) as client,
            client.stream("GET", url) as response,
        ):
            response.raise_for_status()
            content = _read_capped(response, url, max_bytes, deadline)
            return Page(
                str(response.url), response.headers.get("content-type", ""), content, response.encoding or "utf-8"
            )
    except httpx.HTTPStatusError as exc:
        raise SourceError(f"{url} answered HTTP {exc.response.status_code}") from exc
    except httpx.TimeoutException as exc:
        if deadline.remaining() <= 0:
            raise deadline.error() from exc
        raise SourceError(f"{url} could not be fetched: no answer within {READ_TIMEOUT:g} s") from exc
    except httpx.HTTPError as exc:
        raise SourceError(f"{url} could not be fetched: {exc}") from exc


def _read_capped(response: httpx.Response, url: str, max_bytes: int, deadline: _Deadline) -> bytes:
    too_big = f"{url} is over the {max_bytes:,}-byte limit (NEWSDESK_MAX_ARTICLE_BYTES); it was not downloaded whole"
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise SourceError(too_big)
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > max_bytes:
            raise SourceError(too_big)
        deadline.check()
    return bytes(body)


def _looks_like_feed(page: Page) -> bool:
    head = page.content[:500].decode(page.encoding, errors="replace").lstrip().lower()
    return any(t in page.content_type for t in ("rss", "atom")) or head.startswith(("<rss", "<feed")) or "<rss" in head


def load_url(
    url: str, max_bytes: int, guard: UrlGuard | None = None, seconds: float = FETCH_SECONDS
) -> Iterator[Article | Failure]:
    """A web page (main text extracted with trafilatura) or, when it is one, an RSS/Atom feed."""
    try:
        page = fetch(url, max_bytes, guard, seconds)
        if _looks_like_feed(page):
            yield from load_feed(page.content, url, max_bytes, guard, seconds)
            return
        yield _article_from_html(page.text, page.url, key=url, root=None)
    except SourceError as exc:
        yield Failure(origin=url, reason=str(exc))


def _entry_date(entry: Any) -> str | None:
    for name in ("published_parsed", "updated_parsed"):
        parsed = entry.get(name)
        if parsed:
            return datetime(*parsed[:6]).isoformat()
    return dates.normalise(entry.get("published") or entry.get("updated"))


def _entry_content(entry: Any) -> str | None:
    if entry.get("content"):
        html = entry["content"][0].get("value", "")
    else:
        html = entry.get("summary", "")
    if not html:
        return None
    return trafilatura.extract(f"<html><body><article>{html}</article></body></html>") or re.sub(r"<[^>]+>", " ", html)


def load_feed(
    feed: bytes | str | Path,
    origin: str,
    max_bytes: int,
    guard: UrlGuard | None = None,
    seconds: float = FETCH_SECONDS,
) -> Iterator[Article | Failure]:
    """Each entry's page is fetched (`seconds` each at most) and extracted; its own content is used when the
    page cannot be."""
    data = feed.read_bytes() if isinstance(feed, Path) else feed
    parsed = feedparser.parse(data)
    if parsed.bozo and not parsed.entries:
        yield Failure(origin=origin, reason=f"not a readable RSS/Atom feed: {parsed.get('bozo_exception')}")
        return
    outlet = parsed.feed.get("title")
    for i, entry in enumerate(parsed.entries):
        where = entry.get("link") or f"{origin}#{i}"
        fields: dict[str, Any] = {
            "title": entry.get("title"),
            "url": entry.get("link"),
            "source": outlet,
            "published_at": _entry_date(entry),
            "author": entry.get("author"),
        }
        body: str | None = None
        if entry.get("link", "").startswith(("http://", "https://")):
            try:
                body = trafilatura.extract(fetch(entry["link"], max_bytes, guard, seconds).text)
            except SourceError as exc:
                log.info("feed entry page unavailable, using the feed's own content: %s", exc)
        body = body or _entry_content(entry)
        try:
            yield make_article({**fields, "body": body}, where, key=where)
        except SourceError as exc:
            yield Failure(origin=where, reason=str(exc))


def load_sources(
    targets: Iterable[str], feeds: Iterable[str] = (), max_bytes: int = 5_000_000, seconds: float = FETCH_SECONDS
) -> Iterator[Article | Failure]:
    """Paths (files or folders) and URLs, then feeds (URLs or files); `seconds`: each download's time limit."""
    for target in targets:
        if target.startswith(("http://", "https://")):
            yield from load_url(target, max_bytes, seconds=seconds)
            continue
        path = Path(target)
        if path.is_dir():
            yield from load_folder(path, max_bytes)
        elif path.is_file():
            yield from load_file(path, max_bytes)
        else:
            yield Failure(origin=target, reason="no such file, folder or http(s) URL")
    for feed in feeds:
        if feed.startswith(("http://", "https://")):
            try:
                yield from load_feed(fetch(feed, max_bytes, seconds=seconds).content, feed, max_bytes, seconds=seconds)
            except SourceError as exc:
                yield Failure(origin=feed, reason=str(exc))
        elif Path(feed).is_file():
            yield from load_feed(Path(feed), feed, max_bytes)
        else:
            yield Failure(origin=feed, reason="feed is neither an http(s) URL nor a file")
