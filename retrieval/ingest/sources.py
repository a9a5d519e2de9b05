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

from retrieval.core import dates
from retrieval.core.errors import SourceError
from retrieval.core.types import Article, Failure

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".md", ".markdown", ".txt", ".html", ".htm", ".json", ".jsonl"}
COLLECTION_FACTOR = 100
USER_AGENT = "Newsdesk/0.1 (+https://github.com/newsdesk)"


def normalise_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"\W+", " ", text).strip()


def text_hash(text: str) -> str:
    return hashlib.sha1(normalise_text(text).encode()).hexdigest()[:16]


def normalise_url(url: str) -> str:
    """The key an article's id is made from: without the scheme, a leading `www.`, the fragment and a trailing
    slash, the host lowercased. Path and query keep their case: `/s/Xk3Q` and `/s/xK3q` are two articles."""
    url = re.sub(r"#.*$", "", url.strip())
    url = re.sub(r"^https?://", "", url, flags=re.I)
    host, rest = re.match(r"([^/?]*)(.*)", url, flags=re.S).groups()  # type: ignore[union-attr]
    host = re.sub(r"^www\.", "", host.lower())
    return (host + rest).rstrip("/")


def article_id_for(url: str | None, fallback_key: str) -> str:
    key = "url:" + normalise_url(url) if url else "key:" + fallback_key
    return hashlib.sha1(key.encode()).hexdigest()[:16]


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


# Article text is data. Answers cite passages with [n] markers, and a model's other marker forms ([source 2],
# 【2】, [1-3], [^2], "... drained (3).") are read as markers too, so a passage that carries one could borrow
# another passage's citation. At ingest every such form in a title or body is made inert: the brackets become
# "(#2)" ("(source no. 2)" with a label), which no marker form matches. A markdown link [text](url) becomes
# "text (url)", so no face shows it as a masked link.
_NUMBERS = r"\d{1,6}(?:\s*(?:[,;–—-]|and|&)\s*\d{1,6})*"
_LABEL_WORD = r"passages?|sources?|articles?|excerpts?|documents?|docs?|refs?|references?"
_BRACKETED = re.compile(
    r"[\[【〔［]\s*\^?\s*(?:(" + _LABEL_WORD + r")\s*#?\s*)?(" + _NUMBERS + r")\s*[\]】〕］]", re.I
)
_LABELLED = re.compile(r"\(\s*(" + _LABEL_WORD + r")\s*#?\s*(" + _NUMBERS + r")\s*\)", re.I)
_CLAUSE_NUMBER = re.compile(
    r"(?<=[\w.,;:!?\"'”’)\]])(\s*)\((\d{1,3}(?:\s*(?:[,;]|and|&)\s*\d{1,3})*)\)"
    r"(?=\s*(?:[.,;:!?]|$|\n|\[|\s[A-Z]))",
    re.M,
)
_MARKDOWN_LINK = re.compile(r"!?\[([^\[\]\n]{0,500})\]\(\s*([^()\s]{1,2000})\s*\)")


def _inert(match: re.Match[str]) -> str:
    label, numbers = match.group(1), match.group(2)
    return f"({label} no. {numbers})" if label else f"(#{numbers})"


def inert_markers(text: str) -> str:
    """The text with nothing an answer could read as a citation marker or a masked link (see above)."""
    if not any(c in text for c in "[(【〔［"):
        return text
    text = _MARKDOWN_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})" if m.group(1) else f"({m.group(2)})", text)
    text = _BRACKETED.sub(_inert, text)
    text = _LABELLED.sub(_inert, text)
    return _CLAUSE_NUMBER.sub(lambda m: f"{m.group(1)}(#{m.group(2)})", text)


def make_article(
    fields: dict[str, Any], origin: str, key: str, root: str | None = None, feed: str | None = None
) -> Article:
    """Build an Article from loose fields (front matter, JSON object, extracted page)."""
    body = _clean(fields.get("body") or fields.get("text") or fields.get("content"))
    if not body:
        raise SourceError("the article has no body text")
    body = inert_markers(body)
    url = _clean(fields.get("url") or fields.get("link"))
    title = inert_markers(_clean(fields.get("title")) or body.split("\n", 1)[0][:120])
    when = fields.get("published_at")
    when = fields.get("date") if when is None or when == "" else when
    return Article(
        id=_clean(fields.get("id")) or article_id_for(url, key),
        title=title,
        body=body,
        source=_clean(fields.get("source")),
        url=url,
        published_at=dates.published(when),
        author=_clean(fields.get("author")),
        category=_clean(fields.get("category")),
        origin=origin,
        origin_root=root,
        feed=feed,
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
class FeedLimits:
    """What one feed may cost (NEWSDESK_MAX_FEED_ENTRIES, NEWSDESK_FEED_TIMEOUT): entries past `entries` are not
    read (one failure says how many), and once `seconds` have passed since the feed was read no entry's page is
    fetched any more (the entry's own content from the feed is used)."""

    entries: int = 100
    seconds: float = 60.0


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
    url: str,
    max_bytes: int,
    guard: UrlGuard | None = None,
    seconds: float = FETCH_SECONDS,
    limits: FeedLimits | None = None,
) -> Iterator[Article | Failure]:
    """A web page (main text extracted with trafilatura) or, when it is one, an RSS/Atom feed."""
    try:
        page = fetch(url, max_bytes, guard, seconds)
        if _looks_like_feed(page):
            yield from load_feed(page.content, url, max_bytes, guard, seconds, limits)
            return
        yield _article_from_html(page.text, page.url, key=url, root=None)
    except SourceError as exc:
        yield Failure(origin=url, reason=str(exc))


def _entry_date(entry: Any) -> str | None:
    """The entry's date (feedparser's parsed ones are UTC), or what it says when unreadable: make_article then
    refuses the entry rather than index it undated."""
    for name in ("published_parsed", "updated_parsed"):
        parsed = entry.get(name)
        if parsed:
            return datetime(*parsed[:6]).isoformat()
    raw = entry.get("published") or entry.get("updated")
    return str(raw) if raw else None


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
    limits: FeedLimits | None = None,
) -> Iterator[Article | Failure]:
    """Each entry's page is fetched (`seconds` each at most, all of them within `limits.seconds`) and extracted;
    its own content is used when the page cannot be. `guard` sees every entry's link."""
    limits = limits or FeedLimits()
    end = time.monotonic() + limits.seconds
    data = feed.read_bytes() if isinstance(feed, Path) else feed
    parsed = feedparser.parse(data)
    if parsed.bozo and not parsed.entries:
        yield Failure(origin=origin, reason=f"not a readable RSS/Atom feed: {parsed.get('bozo_exception')}")
        return
    outlet = parsed.feed.get("title")
    entries = parsed.entries
    if len(entries) > limits.entries:
        yield Failure(
            origin=origin,
            reason=f"the feed has {len(entries)} entries; only the first {limits.entries} were read "
            "(NEWSDESK_MAX_FEED_ENTRIES)",
        )
        entries = entries[: limits.entries]
    for i, entry in enumerate(entries):
        where = entry.get("link") or f"{origin}#{i}"
        fields: dict[str, Any] = {
            "title": entry.get("title"),
            "url": entry.get("link"),
            "source": outlet,
            "published_at": _entry_date(entry),
            "author": entry.get("author"),
        }
        body: str | None = None
        left = end - time.monotonic()
        if entry.get("link", "").startswith(("http://", "https://")) and left > 0:
            try:
                body = trafilatura.extract(fetch(entry["link"], max_bytes, guard, min(seconds, left)).text)
            except SourceError as exc:
                log.info("feed entry page unavailable, using the feed's own content: %s", exc)
        elif left <= 0:
            log.info("feed %s: over NEWSDESK_FEED_TIMEOUT, entry %s uses the feed's own content", origin, where)
        body = body or _entry_content(entry)
        try:
            yield make_article({**fields, "body": body}, where, key=where, feed=origin)
        except SourceError as exc:
            yield Failure(origin=where, reason=str(exc))


def load_sources(
    targets: Iterable[str],
    feeds: Iterable[str] = (),
    max_bytes: int = 5_000_000,
    seconds: float = FETCH_SECONDS,
    guard: UrlGuard | None = None,
    limits: FeedLimits | None = None,
) -> Iterator[Article | Failure]:
    """Paths (files or folders) and URLs, then feeds (URLs or files); `seconds`: each download's time limit;
    `guard` (retrieval.ingest.url_guard) sees every URL fetched, feed entries' included."""
    for target in targets:
        if target.startswith(("http://", "https://")):
            yield from load_url(target, max_bytes, guard, seconds, limits)
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
                page = fetch(feed, max_bytes, guard, seconds)
                yield from load_feed(page.content, feed, max_bytes, guard, seconds, limits)
            except SourceError as exc:
                yield Failure(origin=feed, reason=str(exc))
        elif Path(feed).is_file():
            yield from load_feed(Path(feed), feed, max_bytes, guard, seconds, limits)
        else:
            yield Failure(origin=feed, reason="feed is neither an http(s) URL nor a file")
