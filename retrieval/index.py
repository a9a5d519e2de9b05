"""The index: the Chroma collection plus the BM25 index and an in-memory copy of chunk texts and metadata.

Search reads the in-memory copy (fast filters, passages without a round trip); writes go to Chroma first.
The copy and the BM25 index are rebuilt from Chroma whenever their fingerprint of chunk ids disagrees
with it, which covers crashes and other processes writing to a shared Chroma server, or when their files
fail their checksums (a damaged disk or a hand edit).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from retrieval import dates
from retrieval.errors import StorageError
from retrieval.lexical import SEPARATOR, LexicalIndex, fingerprint
from retrieval.manifest import Manifest
from retrieval.store import ChromaStore, Metadata

log = logging.getLogger(__name__)

_CACHE_HEADER = 192  # the chunk cache opens with a line of this many bytes: JSON with its fingerprint and checksum
_CACHE_FORMAT = 2


class Index:
    def __init__(self, store: ChromaStore, lexical_dir: Path, refresh_seconds: float = 0.0) -> None:
        self.store = store
        self.lexical_dir = lexical_dir
        self.refresh_seconds = refresh_seconds
        self.texts: dict[str, str] = {}
        self.metadata: dict[str, Metadata] = {}
        self.lexical = LexicalIndex([], None)
        self._lock = threading.RLock()
        self._checked_at = 0.0
        self._marker: tuple[int, str] | None = None  # ChromaStore.change_marker() at the last check
        self.last_sync: str | None = None

    # ------------------------------------------------------------- reading

    def load(self) -> None:
        """Read every chunk from Chroma; reuse the saved BM25 index when it matches."""
        with self._lock:
            # taken before the read, so a write landing during it shows up at the next check
            marker = self.store.change_marker() if self.refresh_seconds > 0 else None
            ids = self.store.all_ids()
            stamp = fingerprint(sorted(ids))  # BM25 lists the chunks sorted
            cached = self._read_chunk_cache(stamp)
            if cached is None:
                docs = self.store.documents()
                cached = {cid: doc for cid, (doc, _) in docs.items()}, {cid: meta for cid, (_, meta) in docs.items()}
                stamp = fingerprint(sorted(cached[0]))
                try:
                    self._write_chunk_cache(stamp, *cached)
                except OSError as exc:
                    log.info("no chunk cache written (%s); the next start reads Chroma again", exc)
            self._marker = marker
            self.texts, self.metadata = cached
            loaded = LexicalIndex.load(self.lexical_dir, stamp)
            if loaded is None:
                self._rebuild_lexical()
            else:
                self.lexical = loaded
            self.last_sync = self._read_last_sync()
            self._checked_at = time.monotonic()
            log.info("index loaded: %d chunks, %d articles", len(self.texts), len(self.manifest()))

    def ensure_fresh(self) -> None:
        """With a shared Chroma server, pick up what other processes wrote (checked at most every few s)."""
        if self.refresh_seconds <= 0 or time.monotonic() - self._checked_at < self.refresh_seconds:
            return
        self._checked_at = time.monotonic()
        marker = self.store.change_marker()  # cheap; the full id comparison only when it moved
        if marker == self._marker:
            return
        ids = set(self.store.all_metadata())
        if ids != set(self.texts):
            log.info("index changed in Chroma (%d -> %d chunks): reloading", len(self.texts), len(ids))
            self.load()
        self._marker = marker

    def manifest(self) -> Manifest:
        return Manifest.from_metadata(self.metadata)

    def sync_view(self) -> Manifest:
        """The manifest as Chroma holds it right now (the truth a sync must start from)."""
        metadata = self.store.all_metadata()
        if metadata != self.metadata:  # not just the ids: a title-only edit keeps them
            self.load()
            if metadata != self.metadata:  # a stale chunk cache: read everything from Chroma
                self._chunk_cache_path().unlink(missing_ok=True)
                self.load()
        self.ensure_searchable()  # a sync that changes nothing still repairs BM25, in memory and on disk
        self.ensure_saved()
        return Manifest.from_metadata(metadata)

    def passage_fields(self, chunk_id: str) -> tuple[str, Metadata]:
        return self.texts[chunk_id], self.metadata[chunk_id]

    def snapshot(self) -> tuple[dict[str, str], dict[str, Metadata], LexicalIndex]:
        """Texts, metadata and BM25 for one search. Writers swap in new objects (copy-on-write) and never change
        these, so a search can read them while a sync runs. Until the sync commits, BM25 may still list chunks
        the dicts no longer hold: readers skip those."""
        with self._lock:
            return self.texts, self.metadata, self.lexical

    # ------------------------------------------------------------- the chunk cache
    # A copy of every chunk's text and metadata beside the BM25 index, so a restart reads only the chunk ids
    # from Chroma (fast, even over HTTP) instead of every document. It is used only when its fingerprint of
    # ids matches Chroma's, and a sync compares metadata with Chroma and drops a cache that disagrees.

    def _chunk_cache_path(self) -> Path:
        return self.lexical_dir.with_name(self.lexical_dir.name + ".chunks.json")

    def _read_chunk_cache(self, stamp: str) -> tuple[dict[str, str], dict[str, Metadata]] | None:
        path = self._chunk_cache_path()
        try:
            with path.open("rb") as cache:
                header = json.loads(cache.read(_CACHE_HEADER))
                if header.get("format") != _CACHE_FORMAT or header.get("fingerprint") != stamp:
                    return None
                if hashlib.file_digest(cache, "sha256").hexdigest() != header.get("sha256"):
                    log.warning("the chunk cache %s does not match its checksum; reading the chunks from Chroma", path)
                    return None
                cache.seek(_CACHE_HEADER)
                data = json.load(cache)
            return data["texts"], data["metadata"]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write_chunk_cache(self, stamp: str, texts: dict[str, str], metadata: dict[str, Metadata]) -> None:
        path = self._chunk_cache_path()
        path.parent.mkdir(parents=True, exist_ok=True)  # a new data directory has no lexical/ folder yet
        tmp = path.with_name(path.name + f".{uuid.uuid4().hex}.tmp")
        try:
            with tmp.open("wb") as out:
                out.write(b" " * _CACHE_HEADER)  # the header goes here once the checksum is known
                body = _HashingWriter(out)
                json.dump({"texts": texts, "metadata": metadata}, body)  # streamed: no copy of the corpus as one string
                body.flush()
                header = json.dumps({"format": _CACHE_FORMAT, "fingerprint": stamp, "sha256": body.hexdigest()})
                out.seek(0)
                out.write(header.encode().ljust(_CACHE_HEADER - 1) + b"\n")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    # ------------------------------------------------------------- writing

    def write(
        self, ids: Sequence[str], vectors: np.ndarray, documents: Sequence[str], metadatas: Sequence[Metadata]
    ) -> None:
        try:
            self.store.upsert(ids, vectors, documents, metadatas)
        except StorageError:
            landed = self.store.present(ids)  # a write that fails part-way may have saved some pages: say so
            if landed:
                rows = [(c, d, m) for c, d, m in zip(ids, documents, metadatas, strict=True) if c in landed]
                self._remember([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
            raise
        self._remember(ids, documents, metadatas)

    def _remember(self, ids: Sequence[str], documents: Sequence[str], metadatas: Sequence[Metadata]) -> None:
        with self._lock:
            texts, metadata = dict(self.texts), dict(self.metadata)  # copy-on-write: see snapshot()
            for cid, doc, meta in zip(ids, documents, metadatas, strict=True):
                texts[cid] = doc
                metadata[cid] = {k: v for k, v in meta.items() if v is not None and v != ""}
            self.texts, self.metadata = texts, metadata

    def relabel(self, ids: Sequence[str], metadatas: Sequence[Metadata]) -> None:
        """New metadata for indexed chunks (same texts and vectors)."""
        self.store.update_metadata(ids, metadatas)
        with self._lock:
            metadata = dict(self.metadata)  # copy-on-write: see snapshot()
            for cid, meta in zip(ids, metadatas, strict=True):
                metadata[cid] = {k: v for k, v in meta.items() if v is not None and v != ""}
            self.metadata = metadata

    def remove(self, ids: Sequence[str]) -> None:
        self.store.delete(ids)
        with self._lock:
            texts, metadata = dict(self.texts), dict(self.metadata)  # copy-on-write: see snapshot()
            for cid in ids:
                texts.pop(cid, None)
                metadata.pop(cid, None)
            self.texts, self.metadata = texts, metadata

    def commit(self) -> None:
        """After a sync: bring BM25 in step and note the time. BM25 is built outside the lock, so searches
        go on meanwhile (the one writer is serialised by the service)."""
        with self._lock:
            texts, metadata = self.texts, self.metadata
        lexical = self._build_lexical(texts, metadata)
        when = datetime.now(UTC).isoformat(timespec="seconds")
        with self._lock:
            self.lexical = lexical
            self.last_sync = when
        self._write_last_sync(when)

    def ensure_searchable(self) -> None:
        """Rebuild BM25 from the chunks when a search over it would fail (see LexicalIndex.trouble)."""
        with self._lock:
            trouble = self.lexical.trouble()
            if trouble is not None:
                log.warning("the BM25 index cannot be searched (%s); rebuilding it from the chunks", trouble)
                self._rebuild_lexical()

    def ensure_saved(self) -> None:
        """Rewrite the saved BM25 files when they are not a whole copy of the index in memory (a damaged disk).
        Checksums only: about 0.1 s per 100 MB of files."""
        with self._lock:
            lexical = self.lexical
        trouble = LexicalIndex.verify_saved(self.lexical_dir, lexical.fingerprint)
        if trouble is None:
            return
        log.warning("the saved BM25 index in %s is not usable (%s); saving it again", self.lexical_dir, trouble)
        try:
            lexical.save(self.lexical_dir)
        except OSError as exc:
            log.warning("could not save the BM25 index to %s (%s); it stays in memory", self.lexical_dir, exc)

    def _rebuild_lexical(self) -> None:
        self.lexical = self._build_lexical(self.texts, self.metadata)

    def _build_lexical(self, texts: dict[str, str], metadata: dict[str, Metadata]) -> LexicalIndex:
        start = time.perf_counter()
        lexical = LexicalIndex.build({cid: lexical_text(texts[cid], metadata[cid]) for cid in texts})
        try:
            lexical.save(self.lexical_dir)
            self._write_chunk_cache(lexical.fingerprint, texts, metadata)
        except OSError as exc:
            log.warning("could not save the BM25 index to %s (%s); it stays in memory", self.lexical_dir, exc)
        log.info("BM25 index rebuilt over %d chunks in %.2fs", len(lexical), time.perf_counter() - start)
        return lexical

    def _read_last_sync(self) -> str | None:
        value: Any = (self.store.collection.metadata or {}).get("last_sync")
        return str(value) if value else None

    def _write_last_sync(self, when: str) -> None:
        try:
            # version: a fresh stamp per commit, so other processes notice even two syncs in one second
            self.store.set_metadata({"last_sync": when, "version": uuid.uuid4().hex})
        except Exception as exc:  # noqa: BLE001 - bookkeeping only
            log.warning("could not record the sync time in Chroma: %s", exc)


class _HashingWriter:
    """A text sink for json.dump that writes UTF-8 to a binary file in 1 MB blocks and hashes what it writes."""

    def __init__(self, out: Any) -> None:
        self.out = out
        self.digest = hashlib.sha256()
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        if self.size >= 1 << 20:
            self.flush()

    def flush(self) -> None:
        block = "".join(self.parts).encode()
        self.digest.update(block)
        self.out.write(block)
        self.parts, self.size = [], 0

    def hexdigest(self) -> str:
        return self.digest.hexdigest()


def lexical_text(text: str, meta: Metadata) -> str:
    """What BM25 sees: a header (title, outlet, month and year, so they are searchable too), then the chunk."""
    parts = [str(meta.get("title") or ""), str(meta.get("source") or ""), dates.month_words(meta.get("published_at"))]
    return "\n".join(p for p in parts if p) + SEPARATOR + text



