"""Chroma: the chunks' vectors, texts and metadata in one collection (ChromaStore), read and written a page at
a time, with the change log beside it (retrieval/storage/change_log.py) and the kind of vectors it holds
(retrieval/storage/vector_label.py); clients are built by retrieval/storage/chroma_client.py.

In server mode every request has a deadline (chromadb's own HTTP session has none), a lost connection
becomes IndexUnavailable (HTTP 503) with a message that says what to do, and nothing has to be rebuilt
when the server comes back: the next request simply connects again (and reopens the collection if the
server lost it). A full or read-only disk becomes StorageError (HTTP 507), on either side
(retrieval/storage/chroma_faults.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import httpx
import numpy as np
from chromadb.api import ClientAPI
from chromadb.errors import NotFoundError

from retrieval.core.errors import StorageError
from retrieval.core.types import ChunkMeta
from retrieval.embed.embedder import Embedder, vectors_of
from retrieval.storage.change_log import ChangeLog
from retrieval.storage.chroma_client import NewsdeskEmbeddingFunction, reopened_client, where_of
from retrieval.storage.chroma_faults import (
    BYTES_PER_CHUNK,
    MIN_FREE_BYTES,
    chroma_errors,
    hang_watchdog,
    storage_trouble,
)
from retrieval.storage.chroma_pages import batches, pages
from retrieval.storage.vector_label import BUILT_ON_KEY, EMBEDDER_KEY, VectorLabel

log = logging.getLogger(__name__)

Metadata = ChunkMeta  # a chunk's
Where = dict[str, Any]  # a Chroma filter, or a collection's own metadata
_WRITES = frozenset({"upsert", "update", "delete", "modify"})


class ChromaStore(ChangeLog, VectorLabel):
    def __init__(self, client: ClientAPI, embedder: Embedder, collection: str = "newsdesk") -> None:
        self.client = client
        self.embedder = embedder
        self.vectors = vectors_of(embedder)  # what the collection must hold (recorded in its metadata)
        self.name = collection
        self.where = where_of(client)
        chroma_settings = client.get_settings()
        self.folder = Path(chroma_settings.persist_directory) if chroma_settings.is_persistent else None
        # set when this int8 index was embedded on another class of CPU than this one (see int8_kernels)
        self.vectors_note: str | None = None
        # why the last embedded write failed for lack of room; the client is replaced before the next one
        self.write_failure: str | None = None
        self._log: tuple[ClientAPI, Any] | None = None  # (client, change-log collection)
        with chroma_errors("open the collection", self.where, self.folder):
            self.collection = self._open()

    def _open(self) -> Any:
        collection = self.client.get_or_create_collection(
            self.name,
            embedding_function=NewsdeskEmbeddingFunction(self.embedder),  # type: ignore[arg-type]
            configuration={"hnsw": {"space": "cosine", "ef_search": 100}},
            metadata=self._label(),  # a new collection only: an existing one keeps its own
        )
        return self._same_vectors(collection)

    def _call(self, action: str, method: str, **kwargs: Any) -> Any:
        """One request to the collection: errors translated; one quiet retry when a pooled connection went
        stale (the server restarted between two requests) or the server lost the collection (it was reset).
        Every request we send is idempotent (reads, upserts and deletes by id), so a retry is safe."""
        if method in _WRITES and self.folder is not None:
            try:
                with hang_watchdog():
                    return self._send(action, method, **kwargs)
            except StorageError as exc:
                self.write_failure = exc.message
                raise
        return self._send(action, method, **kwargs)

    def _send(self, action: str, method: str, **kwargs: Any) -> Any:
        with chroma_errors(action, self.where, self.folder):
            try:
                return getattr(self.collection, method)(**kwargs)
            except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
                log.info("Chroma connection dropped while trying to %s (%s); retrying once", action, exc)
                time.sleep(0.05)
                return getattr(self.collection, method)(**kwargs)
            except NotFoundError:
                log.warning("the collection %r is gone from %s; opening it again", self.name, self.where)
                self.collection = self._open()
                return getattr(self.collection, method)(**kwargs)

    # ------------------------------------------------------------- writes, and the room they need

    def storage_trouble(self, need_bytes: int = MIN_FREE_BYTES) -> str | None:
        """Why the embedded store's disk cannot take `need_bytes` more (full, read-only), or None (server: None)."""
        return storage_trouble(self.folder, need_bytes) if self.folder is not None else None

    def before_write(self, action: str, need_bytes: int = MIN_FREE_BYTES) -> None:
        """Refuse a write the disk has no room for before Chroma sees it: a write that fails inside embedded
        Chroma for lack of space leaves its writer broken (after a few, the next write waits for ever, holding
        the GIL). After such a failure, the client is replaced once there is room again."""
        trouble = self.storage_trouble(need_bytes)
        if trouble is not None:
            raise StorageError(
                f"Newsdesk did not {action}: the disk under {self.where} has no room ({trouble}); free some space "
                "or make the data directory writable, then retry (questions are still answered meanwhile)"
            )
        if self.write_failure is not None:
            self._reopen()

    def _reopen(self) -> None:
        assert self.folder is not None
        log.warning("reopening the Chroma index in %s after a failed write (%s)", self.folder, self.write_failure)
        with chroma_errors("open the index again", self.where, self.folder):
            self.client = reopened_client(self.folder)
            self.collection = self._open()
        self.write_failure = None

    def upsert(
        self, ids: Sequence[str], vectors: np.ndarray, documents: Sequence[str], metadatas: Sequence[Metadata]
    ) -> None:
        text_bytes = sum(len(d) for d in documents)
        self.before_write("write chunks", MIN_FREE_BYTES + BYTES_PER_CHUNK * len(ids) + 16 * text_bytes)
        for part in batches(len(ids)):
            self._call(
                "write chunks",
                "upsert",
                ids=list(ids[part]),
                embeddings=vectors[part],
                documents=list(documents[part]),
                metadatas=[clean_metadata(m) for m in metadatas[part]],
            )

    def update_metadata(self, ids: Sequence[str], metadatas: Sequence[Metadata]) -> None:
        """Replace chunks' metadata, keeping their text and vectors (labels added to an existing index)."""
        if not ids:
            return
        self.before_write("label chunks")
        for part in batches(len(ids)):
            metas = [clean_metadata(m) for m in metadatas[part]]
            self._call("label chunks", "update", ids=list(ids[part]), metadatas=metas)

    def delete(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        self.before_write("delete chunks")
        for part in batches(len(ids)):
            self._call("delete chunks", "delete", ids=list(ids[part]))

    def set_metadata(self, metadata: Where) -> None:
        """Replace the collection's own metadata (the last sync's time and version); the vectors' kind stays."""
        self.before_write("record the sync time")
        kept = {k: v for k, v in (self.collection.metadata or {}).items() if k in (EMBEDDER_KEY, BUILT_ON_KEY)}
        self._call("record the sync time", "modify", metadata={**metadata, **kept, EMBEDDER_KEY: self.vectors})

    def present(self, ids: Sequence[str]) -> set[str]:
        """Which of these chunk ids the collection holds (after a failed write: what landed)."""
        found: set[str] = set()
        for part in batches(len(ids)):
            found.update(self._call("read chunks", "get", ids=list(ids[part]), include=[])["ids"])
        return found

    def all_metadata(self) -> dict[str, Metadata]:
        """Every chunk id with its metadata (no documents, no vectors)."""
        out: dict[str, Metadata] = {}
        for page in pages(self._call, "read the index", include=["metadatas"]):
            for cid, meta in zip(page["ids"], page["metadatas"] or [], strict=True):
                out[cid] = _as_chunk_meta(meta)
        return out

    def all_ids(self) -> list[str]:
        return [cid for page in pages(self._call, "read the index", include=[]) for cid in page["ids"]]

    def documents(
        self, ids: Sequence[str] | None = None, where: Where | None = None
    ) -> dict[str, tuple[str, Metadata]]:
        out: dict[str, tuple[str, Metadata]] = {}
        read: Iterator[Any]
        if ids is not None:
            read = (
                self._call("read chunks", "get", ids=list(ids[part]), include=["documents", "metadatas"])
                for part in batches(len(ids))
            )
        else:
            read = pages(self._call, "read chunks", where=where, include=["documents", "metadatas"])
        for page in read:
            for cid, doc, meta in zip(page["ids"], page["documents"] or [], page["metadatas"] or [], strict=True):
                out[cid] = (doc or "", _as_chunk_meta(meta))
        return out

    def query(self, vector: np.ndarray, k: int, where: Where | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity), best first."""
        n = min(k, self.count())
        if n == 0:
            return []
        result = self._call(
            "search", "query", query_embeddings=[vector], n_results=n, where=where, include=["distances"]
        )
        distances = (result["distances"] or [[]])[0]
        return [(cid, 1.0 - float(d)) for cid, d in zip(result["ids"][0], distances, strict=True)]

    def query_many(
        self, vectors: Sequence[np.ndarray], k: int, where: Where | None = None
    ) -> list[tuple[list[str], list[float]]]:
        """For each query vector: (chunk ids, cosine distances), nearest first."""
        if k <= 0 or not vectors:
            return [([], []) for _ in vectors]
        result = self._call(
            "search",
            "query",
            query_embeddings=[np.asarray(v) for v in vectors],
            n_results=k,
            where=where,
            include=["distances"],
        )
        distances = result["distances"] or [[] for _ in vectors]
        return [(list(ids), [float(d) for d in dist]) for ids, dist in zip(result["ids"], distances, strict=True)]

    def count(self) -> int:
        return int(self._call("count chunks", "count"))

    def change_marker(self, count: int | None = None) -> tuple[int, str]:
        """A cheap fingerprint of what the collection holds: (chunk count, stamp of the last committed sync);
        `count`: the chunk count when the caller knows it.

        Two small requests whatever the size of the index, so every replica can poll it every few seconds;
        reading all chunk ids instead costs about a second per 8,000 chunks over HTTP."""
        with chroma_errors("read the index version", self.where, self.folder):
            fetched = self._same_vectors(
                self.client.get_collection(
                    self.name,
                    embedding_function=NewsdeskEmbeddingFunction(self.embedder),  # type: ignore[arg-type]
                )
            )
        self.collection = fetched  # its metadata (last_sync, version) is now current
        meta = fetched.metadata or {}
        return self.count() if count is None else count, str(meta.get("version") or meta.get("last_sync") or "")

    def heartbeat(self) -> bool:
        try:
            self.client.heartbeat()
            return True
        except Exception:
            return False


def clean_metadata(meta: Metadata) -> Metadata:
    """As Chroma keeps metadata: no empty values."""
    return _as_chunk_meta({k: v for k, v in meta.items() if v is not None and v != ""})


def _as_chunk_meta(meta: Mapping[str, Any] | None) -> ChunkMeta:
    """A copy of metadata as read from Chroma (or cleaned for it), typed: Chroma checks no keys of ours."""
    return cast(ChunkMeta, dict(meta or {}))
