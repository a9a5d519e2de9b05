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

import json
import logging
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import numpy as np
from datasketch import MinHash

from retrieval.core.errors import StorageError
from retrieval.storage import stories
from retrieval.storage.catch_up import CHANGES_KEPT_NS, CatchUp, lexical_text
from retrieval.storage.chroma import ChromaStore, Metadata, clean_metadata
from retrieval.storage.lexical import DamagedIndex, LexicalStore, LexicalView, Row
from retrieval.storage.manifest import Manifest

log = logging.getLogger(__name__)



class Index(CatchUp):
    """The Chroma store and the lexical file over it: read (views, manifests, passages) and written together."""

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

    def remove(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        self._begin_write()
        self.store.delete(ids)
        with self._lock:
            self.file.write([], remove=list(ids))
            self._stale_view = True
        self._record_changes(ids)

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
