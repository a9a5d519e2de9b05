"""Keeping the lexical file in step with Chroma: at open (a file that is pending, damaged, or marked with another
Chroma marker is compared with Chroma and only what differs is re-read), while other processes write to a shared
server (their change-log records are applied), and after drift (a text that no longer hashes to its id).
The log of what each write changed is kept here too, with the time of the last sync in Chroma's metadata."""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from retrieval.core import dates
from retrieval.storage.bm25 import SEPARATOR, DamagedIndex
from retrieval.storage.chroma import ChromaStore, Metadata, clean_metadata
from retrieval.storage.lexical import LexicalStore, Row

log = logging.getLogger(__name__)

_RECONCILE_PAGE = 2000  # chunks read from Chroma and written to the file per transaction when catching up
CLOCK_SKEW_NS = 10 * 60 * 10**9  # change-log records are read again this far back: writers' clocks may differ
CHANGES_KEPT_NS = 30 * 86400 * 10**9  # the change log keeps 30 days; a file older than half that is compared whole


class CatchUp:
    """Mixed into the Index (retrieval.storage.index), which sets these."""

    store: ChromaStore
    refresh_seconds: float
    path: Any
    last_sync: str | None
    _lock: threading.RLock
    _checked_at: float
    _marker: tuple[int, str] | None
    _pending: bool
    _stale_view: bool
    _file_checked: bool

    if TYPE_CHECKING:

        @property
        def file(self) -> LexicalStore: ...

        def _check_file(self) -> None: ...

        def _delete_file(self) -> None: ...

        def _begin_write(self) -> None: ...

        def remove(self, ids: Sequence[str]) -> None: ...

    def load(self) -> None:
        """Open the file and bring it in step with Chroma (a no-op when its marker is Chroma's)."""
        with self._lock:
            try:
                if not self.file.noted_whole():
                    self._check_file()
                self._catch_up()
            except (DamagedIndex, sqlite3.DatabaseError) as exc:
                log.warning("the lexical index %s is damaged (%s); rebuilding it from Chroma", self.path, exc)
                self._delete_file()
                self._catch_up()
            self._file_checked = True  # the first sync after opening need not check it again
            self.file.note_whole()
            self.last_sync = self._read_last_sync()
            self._checked_at = time.monotonic()
            log.info("index loaded: %d chunks", self.file.count())

    def _catch_up(self, marker: tuple[int, str] | None = None) -> None:
        file = self.file
        marker = marker or self.store.change_marker()
        recorded = file.get("marker")
        if file.get("pending") is None and recorded is not None and tuple(json.loads(recorded)) == marker:
            self._marker = marker
            self._stale_view = True
            return
        since = file.get("changes_since")
        if file.get("pending") is None and since is not None and int(since) > time.time_ns() - CHANGES_KEPT_NS // 2:
            self._apply_changes(int(since))
            if self.store.count() == file.count():
                file.put({"marker": json.dumps(list(marker))})
                self._marker = marker
                self._stale_view = True
                return
            log.warning("the change log does not account for every chunk; comparing the whole index with Chroma")
        self._reconcile(marker)

    def _apply_changes(self, since: int) -> None:
        """Re-read from Chroma the chunks the change log lists since `since` (minus the clock skew allowed
        between writers): each one Chroma holds is written to the file, each one it does not is dropped."""
        started = time.perf_counter()
        records = self.store.changes_since(since - CLOCK_SKEW_NS)
        newest = max([since, *(seq for _, seq in records)])
        done = self.file.applied([rid for rid, _ in records])
        entries = [(rid, seq) for rid, seq in records if rid not in done]
        if not entries:
            if newest > since:
                self.file.put({"changes_since": str(newest)})
            return
        ids = self.store.changed_chunks([rid for rid, _ in entries])
        held: dict[str, tuple[str, Metadata]] = {}
        for start in range(0, len(ids), _RECONCILE_PAGE):
            held.update(self.store.documents(ids[start : start + _RECONCILE_PAGE]))
        local = self.file.rows(ids)
        changed = [cid for cid, (doc, meta) in held.items() if local.get(cid) != (doc, clean_metadata(meta))]
        gone = [cid for cid in ids if cid not in held and cid in local]
        self.file.write(
            [Row(cid, held[cid][0], clean_metadata(held[cid][1]), lexical_text(*held[cid])) for cid in changed],
            remove=gone,
            state={"changes_since": str(newest)},
        )
        self.file.mark_applied(entries, forget_before=newest - 2 * CLOCK_SKEW_NS)
        self._stale_view = True
        log.info("picked up %d changed and %d removed chunks from the change log in %.2fs",
                 len(changed), len(gone), time.perf_counter() - started)  # fmt: skip

    def _reconcile(self, marker: tuple[int, str]) -> None:
        """Make the file hold exactly Chroma's chunks: compare ids and metadata, re-read only what differs."""
        started = time.perf_counter()
        began = time.time_ns()
        file = self.file
        file.put({"pending": "reconcile"})
        chroma = self.store.all_metadata()
        local = file.all_metadata()
        stale = [cid for cid, meta in local.items() if chroma.get(cid) != meta]
        missing = [cid for cid, meta in chroma.items() if local.get(cid) != meta]
        for start in range(0, max(len(stale), 1), _RECONCILE_PAGE):
            part = stale[start : start + _RECONCILE_PAGE]
            if part:
                file.write([], remove=part)
        for start in range(0, len(missing), _RECONCILE_PAGE):
            docs = self.store.documents(missing[start : start + _RECONCILE_PAGE])
            rows = [Row(cid, doc, clean_metadata(meta), lexical_text(doc, meta)) for cid, (doc, meta) in docs.items()]
            file.write(rows)
        if stale or missing:  # what a writer killed before logging its change did: other processes catch up too
            self._record_changes([*stale, *missing])
        try:  # what the log lists from before this comparison began is in the file now
            self.file.mark_applied([r for r in self.store.changes_since(began - CLOCK_SKEW_NS) if r[1] <= began])
        except Exception as exc:  # noqa: BLE001 - they are then only read again once
            log.info("could not read the change log: %s", exc)
        file.put({"pending": None, "marker": json.dumps(list(marker)), "changes_since": str(began)})
        self._marker = marker
        self._stale_view = True
        if stale or missing:
            log.info("lexical index brought in step with Chroma: %d chunks re-read, %d dropped, in %.1fs",
                     len(missing), len(stale), time.perf_counter() - started)  # fmt: skip

    def ensure_fresh(self) -> None:
        """With a shared Chroma server, pick up what other processes wrote (checked at most every few s)."""
        if self.refresh_seconds <= 0 or time.monotonic() - self._checked_at < self.refresh_seconds:
            return
        self._checked_at = time.monotonic()
        if self._pending:  # this process is writing: the file has its changes; the marker moves at its commit
            return
        marker = self.store.change_marker()  # cheap: two small requests
        if marker == self._marker:
            return
        with self._lock:
            log.info("index changed in Chroma (%s -> %s): catching up", self._marker, marker)
            self._catch_up(marker)
            self.last_sync = self._read_last_sync()

    def repair_drift(self) -> tuple[int, int]:
        """Find chunks whose stored text no longer hashes to the digest in their id (chunking.chunk_article), or
        whose lexical metadata differs from Chroma's (a same-length edit passes SQLite's page check), and repair
        them: (rewritten from Chroma, removed). A lexical row is rewritten from Chroma when Chroma's text is
        intact; a chunk whose text is wrong in Chroma too is removed, which leaves its article incomplete, so the
        sync re-indexes it from its source. Reads every chunk's text and metadata: run by full syncs only."""
        started = time.perf_counter()
        with self._lock:
            try:
                suspect = {cid for cid, text in self.file.iter_texts() if not _intact(cid, text)}
                local = self.file.all_metadata()
            except (DamagedIndex, sqlite3.DatabaseError) as exc:  # a damaged file: the sync rebuilds it whole
                log.warning("the lexical index could not be read for drift (%s); the sync checks it next", exc)
                return 0, 0
            chroma = self.store.all_metadata()
            suspect.update(cid for cid, meta in local.items() if cid in chroma and chroma[cid] != meta)
        if not suspect:
            return 0, 0
        held = self.store.documents(sorted(suspect))
        rewrite = [cid for cid, (doc, _) in held.items() if _intact(cid, doc)]
        broken = sorted(cid for cid in held if cid not in rewrite)
        self._begin_write()
        with self._lock:
            rows = [Row(cid, held[cid][0], clean_metadata(held[cid][1]), lexical_text(*held[cid])) for cid in rewrite]
            self.file.write(rows)
            self._stale_view = True
        self._record_changes(rewrite)
        self.remove(broken)
        log.warning("%d chunks had drifted from what was indexed: %d rewritten from Chroma, %d removed (in %.1fs)",
                    len(suspect), len(rewrite), len(broken), time.perf_counter() - started)  # fmt: skip
        return len(rewrite), len(broken)

    def _record_changes(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        try:
            record, seq = self.store.record_changes(ids)
            self.file.mark_applied([(record, seq)])  # this process's own change: its file has it already
        except Exception as exc:  # noqa: BLE001 - other processes then notice by the chunk count, or at a restart
            log.warning("could not record a change in Chroma's change log (%s); other processes will compare "
                        "the whole index when they notice", exc)  # fmt: skip

    def _read_last_sync(self) -> str | None:
        value: Any = (self.store.collection.metadata or {}).get("last_sync")
        return str(value) if value else None

    def _write_last_sync(self, when: str) -> None:
        try:
            # version: a fresh stamp per commit, so other processes notice even two syncs in one second
            self.store.set_metadata({"last_sync": when, "version": uuid.uuid4().hex})
        except Exception as exc:  # noqa: BLE001 - bookkeeping only
            log.warning("could not record the sync time in Chroma: %s", exc)


def _intact(chunk_id: str, text: str) -> bool:
    """Whether a chunk's text still hashes to the digest its id ends with (ids made by chunking.chunk_article)."""
    digest = chunk_id.rsplit(":", 1)[-1]
    return len(digest) != 10 or hashlib.sha1(text.encode()).hexdigest()[:10] == digest


def lexical_text(text: str, meta: Metadata) -> str:
    """What BM25 sees: a header (title, outlet, month and year, so they are searchable too), then the chunk."""
    parts = [str(meta.get("title") or ""), str(meta.get("source") or ""), dates.month_words(meta.get("published_at"))]
    return "\n".join(p for p in parts if p) + SEPARATOR + text
