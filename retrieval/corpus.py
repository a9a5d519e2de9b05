"""What the faces change in the corpus, as methods of the facade: sync folders, files, web pages and feeds
(`ingest`, `add_url`, a schedule with `ingest_every`), add and delete articles, and the background jobs that do
the same (`start_reindex`, `start_adding`). Every URL fetched on every face goes through the one URL guard."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from retrieval.answer.background import Fillers
from retrieval.core.config import Settings
from retrieval.core.errors import Busy, Conflict, NotFound, SourceError, StorageError
from retrieval.core.types import Article, Failure, IngestReport, Job, Progress
from retrieval.ingest.jobs import Jobs
from retrieval.ingest.schedule import LoopSummary, read_sources_file, run_every
from retrieval.ingest.sources import FeedLimits, load_sources, load_url, make_article, text_hash
from retrieval.ingest.sync import Syncer
from retrieval.ingest.url_guard import check_url, url_guard
from retrieval.storage import provenance
from retrieval.storage.chroma import ChromaStore
from retrieval.storage.chroma_check import StoreCheck
from retrieval.storage.index import Index


class CorpusWrites:
    """Mixed into the facade (retrieval.service.Newsdesk), which builds these parts."""

    settings: Settings
    read_only: str | None
    store: ChromaStore
    index: Index
    syncer: Syncer
    jobs: Jobs
    _fillers: Fillers
    _store_check: StoreCheck | None
    _sync_lock: threading.Lock
    _write_lock: threading.Lock
    _fetches: threading.BoundedSemaphore

    def check_writable(self) -> None:
        """Raise StorageError at once when this process cannot change the index: opened read-only, or no room
        on the disk (checked before embedding anything)."""
        trouble = self.store.storage_trouble() if self.read_only is None else None
        if trouble is not None:
            raise StorageError(
                f"the index cannot be changed now: the disk under {self.settings.data_dir} has no room ({trouble}); "
                "free some space or make it writable, then retry (questions are still answered meanwhile)"
            )
        if self.read_only is not None:
            raise StorageError(
                f"the index cannot be changed: this process opened the data directory {self.settings.data_dir} "
                f"read-only because it could not be written ({self.read_only}). It answers questions from a copy "
                "of the index; make the folder writable (free some space, or fix its mount or permissions), "
                "then restart"
            )

    def _synced(self, report: IngestReport) -> IngestReport:
        if self._store_check is not None and (report.added or report.updated or report.removed):
            self._store_check.note_written()
        if report.added or report.updated:
            self._fillers.wake()
        self.after_sync(report)
        return report

    def after_sync(self, report: IngestReport) -> None:
        """What runs after every committed sync (the facade matches the new articles against the follows)."""

    def ingest(
        self,
        targets: Iterable[str] = (),
        feeds: Iterable[str] = (),
        prune: bool = False,
        progress: Progress | None = None,
    ) -> IngestReport:
        self.check_writable()
        targets, feeds = list(targets), list(feeds)
        roots = [str(Path(t).resolve()) for t in targets if Path(t).is_dir()] if prune else []
        # read (and download) everything before taking the lock: a slow web site must not hold up other writes
        items = list(self.sources(targets, feeds))
        with self._sync_lock:
            return self._synced(self.syncer.sync(items, prune_roots=roots, progress=progress))

    @contextmanager
    def fetch_slot(self) -> Iterator[None]:
        """One of NEWSDESK_MAX_CONCURRENT_FETCHES downloads (a URL or a feed written through the API), or Busy
        (429) at once when they are all taken: a download waits on a slow site, and holding a worker thread each,
        forty at once starved every other request."""
        if not self._fetches.acquire(blocking=False):
            raise Busy(
                f"{self.settings.max_concurrent_fetches} URL or feed downloads are running "
                "(NEWSDESK_MAX_CONCURRENT_FETCHES); retry in a minute",
                retry_after=int(min(60.0, self.settings.fetch_timeout)),
            )
        try:
            yield
        finally:
            self._fetches.release()

    def feed_limits(self) -> FeedLimits:
        return FeedLimits(self.settings.max_feed_entries, self.settings.feed_timeout)

    def sources(self, targets: Iterable[str] = (), feeds: Iterable[str] = ()) -> Iterator[Article | Failure]:
        """What the targets and feeds hold, read with the settings' limits and the one URL guard (every URL
        fetched, redirects and feed entries' links included, on every face and the scheduler)."""
        settings = self.settings
        guard = url_guard(settings.allow_private_urls)
        return load_sources(
            targets, feeds, settings.max_article_bytes, settings.fetch_timeout, guard, self.feed_limits()
        )

    def add_articles(self, articles: Iterable[Article | Failure], progress: Progress | None = None) -> IngestReport:
        self.check_writable()
        articles = list(articles)  # a lazy source (a URL being downloaded) is read before the lock
        with self._sync_lock:
            return self._synced(self.syncer.sync(articles, progress=progress))

    def delete(self, article_id: str, outside: bool = False) -> None:
        """Remove an article. `outside` (the API, whose writers are outside the operator's files): Conflict for
        an article read from those files, which only leaves when its file does (retrieval.storage.provenance)."""
        self.check_writable()
        with self._write_lock:
            indexed = self.index.manifest([article_id]).get(article_id)
            if indexed is None:
                raise NotFound(f"no article with id {article_id!r}")
            if outside and not provenance.outside(indexed.first):
                raise Conflict(
                    f"the article {article_id!r} comes from {provenance.describe(indexed.first)}, the source of "
                    "record: remove its file there and re-index (POST /v1/reindex) to take it out"
                )
            self.index.remove(list(indexed.chunks))
            self.index.commit()

    # ------------------------------------------------------------- jobs

    def start_reindex(self, started_by: str | None = None, on_progress: Progress | None = None) -> Job:
        """Sync the corpus folder (pruning what left it) in a background job. StorageError now when the index
        cannot be written; JobRunning when a re-index is running already, whichever face started it."""
        self.check_writable()  # refused now, not by a job that fails later
        corpus = str(self.settings.corpus_dir)
        return self.jobs.start(
            lambda progress: self.ingest([corpus], prune=True, progress=progress),
            started_by=started_by,
            on_progress=on_progress,
        )

    def start_adding(self, articles: Iterable[Article | Failure], started_by: str | None = None) -> Job:
        """Index articles in a background job (runs beside a re-index, waiting its turn for the index). JobsFull
        (429) when the unfinished article jobs are at NEWSDESK_MAX_WRITE_JOBS or their text would pass
        NEWSDESK_MAX_WRITE_JOB_QUEUE_BYTES."""
        self.check_writable()
        items = list(articles)
        size = sum(len(a.body.encode()) + len(a.title.encode()) for a in items if isinstance(a, Article))
        return self.jobs.start(
            lambda progress: self.add_articles(items, progress=progress),
            kind="articles",
            started_by=started_by,
            size=size,
        )

    def add_url(self, url: str) -> IngestReport:
        """Index a web page or an RSS/Atom feed now (the API's {"url": ...}): Forbidden (403) for a URL the guard
        refuses, Busy (429) when NEWSDESK_MAX_CONCURRENT_FETCHES downloads run already."""
        settings = self.settings
        check_url(url, settings.allow_private_urls)  # refused before a download slot is taken
        fetched = load_url(
            url, settings.max_article_bytes, url_guard(settings.allow_private_urls), settings.fetch_timeout,
            self.feed_limits(),
        )  # fmt: skip
        with self.fetch_slot():  # load_url is lazy: the download runs here, inside the slot
            return self.add_articles(fetched)

    @staticmethod
    def api_article(fields: dict[str, Any]) -> Article | Failure:
        """An article sent to the API (its id derived from its text when it names none), or the Failure that
        says why it cannot be indexed."""
        try:
            return make_article(fields, origin="api", key="api:" + text_hash(str(fields.get("body") or "")))
        except SourceError as exc:
            return Failure(origin=f"api:{fields.get('title') or fields.get('id') or 'article'}", reason=str(exc))

    def ingest_every(
        self,
        targets: list[str],
        feeds: list[str],
        prune: bool,
        interval: float,
        stop: threading.Event,
        on_report: Callable[[IngestReport], None] | None = None,
    ) -> LoopSummary:
        """Sync now and every `interval` seconds until `stop` is set; a failed run is logged and the loop goes on."""
        return run_every(lambda: self.ingest(targets, feeds, prune), interval, stop, on_report=on_report)

    @staticmethod
    def feeds_in(path: Path) -> list[str]:
        """The feeds a sources file lists, one URL or path a line (ValueError when it cannot be read or is empty)."""
        return read_sources_file(path)
