"""The index: the Chroma collection plus the lexical index (retrieval.storage.lexical), kept in step on disk.

Chroma is the truth; the lexical file (BM25 terms, chunk texts and metadata, in SQLite) is derived from it and
changed in place, chunk by chunk, right after each Chroma write. No process holds the archive's texts: searches
read the few passages they show from the file.

Crash safety: before its first Chroma write, a writer marks the file `pending`; the mark goes in the same
transaction that records Chroma's marker (chunk count and the stamp of the last committed sync) at the commit.
A file that is pending, damaged, or whose marker is not Chroma's current one (a kill -9 between the two writes,
another process writing to a shared Chroma server, a restored backup) is brought in step with Chroma before it
is trusted: every chunk id and metadata is compared with Chroma's, and only the chunks that differ are read and
re-indexed. So the next run after a kill ends with the index one clean run gives, as before.

Replicas on a shared Chroma server read the marker every few seconds (two small requests); when it moved, they
read what changed since their marker from the change log (retrieval.changes) and apply only that.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import numpy as np
from datasketch import MinHash

from retrieval.core import dates
from retrieval.core.errors import StorageError
from retrieval.storage import stories
from retrieval.storage.chroma import ChromaStore, Metadata, clean_metadata
from retrieval.storage.lexical import SEPARATOR, DamagedIndex, LexicalStore, LexicalView, Row
from retrieval.storage.manifest import Manifest

log = logging.getLogger(__name__)

_RECONCILE_PAGE = 2000  # chunks read from Chroma and written to the file per transaction when catching up
CLOCK_SKEW_NS = 10 * 60 * 10**9  # change-log records are read again this far back: writers' clocks may differ
CHANGES_KEPT_NS = 30 * 86400 * 10**9  # the change log keeps 30 days; a file older than half that is compared whole


class Index:
    def __init__(self, store: ChromaStore, lexical_dir: Path, refresh_seconds: float = 0.0) -> None:
        self.store = store
        self.lexical_dir = lexical_dir  # the old BM25 folder's name; the file sits beside it
        self.path = lexical_dir.with_name(lexical_dir.name + ".sqlite3")
        self.refresh_seconds = refresh_seconds
        self.lexical_store: LexicalStore | None = None
        self._view: LexicalView | None = None
        self._stale_view = True
        self._lock = threading.RLock()
        self._checked_at = 0.0
        self._marker: tuple[int, str] | None = None  # ChromaStore.change_marker() the file is in step with
        self._pending = False
        self._file_checked = False
        self.last_sync: str | None = None

    # ------------------------------------------------------------- the file

    @property
    def file(self) -> LexicalStore:
        if self.lexical_store is None:
            self.lexical_store = self._open_file()
        return self.lexical_store

    def _open_file(self) -> LexicalStore:
        for old in (self.lexical_dir, self.lexical_dir.with_name(self.lexical_dir.name + ".chunks.json")):
            if old.is_dir():  # the bm25s folder and JSON chunk cache of earlier versions
                shutil.rmtree(old, ignore_errors=True)
            elif old.exists():
                old.unlink(missing_ok=True)
        try:
            return LexicalStore(self.path)
        except DamagedIndex as exc:
            log.warning("the lexical index %s is not usable (%s); rebuilding it from Chroma", self.path, exc)
            self._delete_file()
            return LexicalStore(self.path)

    def _check_file(self) -> None:
        """SQLite's check of the file's pages (about 0.1 s per 60 MB): a damaged disk or a hand edit that broke
        them is found here, and the file is rebuilt, instead of failing questions later."""
        trouble = self.file.check()
        if trouble is not None:
            raise DamagedIndex(trouble)

    def _delete_file(self) -> None:
        if self.lexical_store is not None:
            self.lexical_store.close()
        self.lexical_store = None
        for suffix in ("", "-wal", "-shm", ".checked.json"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    # ------------------------------------------------------------- reading

    @property
    def lexical(self) -> LexicalView:
        with self._lock:
            if self._view is None or self._stale_view:
                self._view = self.file.view()
                self._stale_view = False
            return self._view

    @property
    def texts(self) -> _Texts:
        return _Texts(self)

    @property
    def metadata(self) -> _Metadata:
        return _Metadata(self)

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

    def manifest(self, article_ids: Sequence[str] | None = None) -> Manifest:
        """What the file says is indexed: every article, or only those asked for (read by an index)."""
        return Manifest.from_metadata(self.file.all_metadata(article_ids))

    def story_members(self, minhash: MinHash) -> list[stories.Member]:
        """The indexed articles that may be near-duplicates of a signature (LSH candidates, from the file)."""
        found = self.file.story_candidates(stories.band_keys(minhash))
        return [stories.member_from_chunks(str(m.get("article_id")), [m], list) for m in found.values()]

    def article_count(self) -> int:
        return self.file.articles()

    def sync_view(
        self, article_ids: Iterable[str] = (), text_hashes: Iterable[str] = (), roots: Iterable[str] = ()
    ) -> Manifest:
        """What a sync must know, as Chroma holds it right now: the given articles, those holding one of these
        text hashes, those under these folders, and every article that is not one whole version (see
        LexicalStore.sync_metadata). Other articles are not read: a sync costs what it touches."""
        with self._lock:
            try:
                if not self._file_checked:
                    self._check_file()
                just_loaded, self._file_checked = self._file_checked, False
                if not (just_loaded and self.refresh_seconds <= 0):  # embedded: no other process writes
                    self._catch_up()
                self.file.probe()
                if self._view is not None:  # a process that searches: one real search (a sync alone needs none)
                    trouble = self.lexical.trouble()
                    if trouble is not None:
                        raise DamagedIndex(trouble)
            except (DamagedIndex, sqlite3.DatabaseError) as exc:
                log.warning("the lexical index %s cannot be used (%s); rebuilding it from Chroma", self.path, exc)
                self._delete_file()
                self._catch_up()
            return Manifest.from_metadata(self.file.sync_metadata(article_ids, text_hashes, roots))

    def passage_fields(self, chunk_id: str) -> tuple[str, Metadata]:
        found = self.file.rows([chunk_id]).get(chunk_id)
        if found is None:
            raise KeyError(chunk_id)
        return found

    def snapshot(self) -> tuple[_Texts, _Metadata, LexicalView]:
        """Texts, metadata and BM25 for one search. The view is immutable (writers make a new one); texts and
        metadata are read from the file, which may have lost a chunk the view still lists: readers skip those."""
        view = self.lexical
        return self.texts, self.metadata, view

    # ------------------------------------------------------------- writing

    def _begin_write(self) -> None:
        if not self._pending:
            self.file.put({"pending": "sync"})  # before Chroma changes: a kill from here on is caught at the next run
            self._pending = True

    def write(
        self, ids: Sequence[str], vectors: np.ndarray, documents: Sequence[str], metadatas: Sequence[Metadata]
    ) -> None:
        self._begin_write()
        try:
            self.store.upsert(ids, vectors, documents, metadatas)
        except StorageError:
            landed = self.store.present(ids)  # a write that fails part-way may have saved some pages: say so
            if landed:
                self._remember([(c, d, m) for c, d, m in zip(ids, documents, metadatas, strict=True) if c in landed])
            raise
        self._remember(list(zip(ids, documents, metadatas, strict=True)))
        self._record_changes(ids)

    def _remember(self, rows: list[tuple[str, str, Metadata]]) -> None:
        with self._lock:
            self.file.write([Row(cid, doc, clean_metadata(meta), lexical_text(doc, meta)) for cid, doc, meta in rows])
            self._stale_view = True

    def relabel(self, labels: Mapping[str, Metadata]) -> None:
        """Add fields to indexed chunks' metadata (same texts and vectors), written like any other change:
        pending mark first, then Chroma, then the file and the change log."""
        held = self.file.rows(list(labels))
        ids = [cid for cid in labels if cid in held]
        if not ids:
            return
        rows = [(cid, held[cid][0], cast(Metadata, {**held[cid][1], **labels[cid]})) for cid in ids]
        self._begin_write()
        self.store.update_metadata(ids, [meta for _, _, meta in rows])
        self._remember(rows)
        self._record_changes(ids)

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

    def remove(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        self._begin_write()
        self.store.delete(ids)
        with self._lock:
            self.file.write([], remove=list(ids))
            self._stale_view = True
        self._record_changes(ids)

    def _record_changes(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        try:
            record, seq = self.store.record_changes(ids)
            self.file.mark_applied([(record, seq)])  # this process's own change: its file has it already
        except Exception as exc:  # noqa: BLE001 - other processes then notice by the chunk count, or at a restart
            log.warning("could not record a change in Chroma's change log (%s); other processes will compare "
                        "the whole index when they notice", exc)  # fmt: skip

    def commit(self) -> None:
        """After a sync: record the time in Chroma, then Chroma's marker in the file (clearing `pending`)."""
        when = datetime.now(UTC).isoformat(timespec="seconds")
        self._write_last_sync(when)
        # embedded, no other process writes: the file holds what Chroma holds (counting Chroma reads its
        # whole collection; a file that disagrees anyway is compared with Chroma at the next open)
        marker = self.store.change_marker(None if self.refresh_seconds > 0 else self.file.count())
        now = time.time_ns()
        try:
            self.store.prune_changes(now - CHANGES_KEPT_NS)
        except Exception as exc:  # noqa: BLE001 - a longer log costs nothing but space
            log.info("could not prune the change log: %s", exc)
        with self._lock:
            since = self.file.get("changes_since")
            if since is not None:  # what other processes wrote meanwhile: the marker read above covers it too
                self._apply_changes(int(since))
            done: dict[str, str | None] = {"pending": None, "marker": json.dumps(list(marker))}
            self.file.put(done if since is not None else {**done, "changes_since": str(now)})
            self._pending = False
            self._marker = marker
            self.last_sync = when
            self._stale_view = True
            self.file.note_whole()

    def _read_last_sync(self) -> str | None:
        value: Any = (self.store.collection.metadata or {}).get("last_sync")
        return str(value) if value else None

    def _write_last_sync(self, when: str) -> None:
        try:
            # version: a fresh stamp per commit, so other processes notice even two syncs in one second
            self.store.set_metadata({"last_sync": when, "version": uuid.uuid4().hex})
        except Exception as exc:  # noqa: BLE001 - bookkeeping only
            log.warning("could not record the sync time in Chroma: %s", exc)


class _FileView:
    """A read-through view of the lexical file, keyed by chunk id (no copy of the archive in memory)."""

    def __init__(self, index: Index) -> None:
        self.file = index.file

    def __iter__(self) -> Iterator[str]:
        return iter(self.file.ids())

    def __len__(self) -> int:
        return self.file.count()


class _Texts(_FileView, Mapping[str, str]):
    """Chunk id -> text."""

    def __getitem__(self, chunk_id: str) -> str:
        text = self.file.text(chunk_id)
        if text is None:
            raise KeyError(chunk_id)
        return text

    def __contains__(self, chunk_id: object) -> bool:
        return isinstance(chunk_id, str) and self.file.text(chunk_id) is not None

    def items(self) -> Iterator[tuple[str, str]]:  # type: ignore[override]
        return self.file.iter_texts()

    def values(self) -> Iterator[str]:  # type: ignore[override]
        return (text for _, text in self.file.iter_texts())


class _Metadata(_FileView, Mapping[str, Metadata]):
    """Chunk id -> metadata."""

    def __getitem__(self, chunk_id: str) -> Metadata:
        meta = self.file.meta(chunk_id)
        if meta is None:
            raise KeyError(chunk_id)
        return meta

    def items(self) -> Iterator[tuple[str, Metadata]]:  # type: ignore[override]
        return iter(self.file.all_metadata().items())


def _intact(chunk_id: str, text: str) -> bool:
    """Whether a chunk's text still hashes to the digest its id ends with (ids made by chunking.chunk_article)."""
    digest = chunk_id.rsplit(":", 1)[-1]
    return len(digest) != 10 or hashlib.sha1(text.encode()).hexdigest()[:10] == digest


def lexical_text(text: str, meta: Metadata) -> str:
    """What BM25 sees: a header (title, outlet, month and year, so they are searchable too), then the chunk."""
    parts = [str(meta.get("title") or ""), str(meta.get("source") or ""), dates.month_words(meta.get("published_at"))]
    return "\n".join(p for p in parts if p) + SEPARATOR + text
