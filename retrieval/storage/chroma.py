"""Chroma: the embedded PersistentClient by default, an HttpClient when NEWSDESK_CHROMA_URL is set.

Our embedder is always passed to the collection, so Chroma never downloads its default model.

In server mode every request has a deadline (chromadb's own HTTP session has none), a lost connection
becomes IndexUnavailable (HTTP 503) with a message that says what to do, and nothing has to be rebuilt
when the server comes back: the next request simply connects again (and reopens the collection if the
server lost it). A full or read-only disk becomes StorageError (HTTP 507), on either side.
"""

from __future__ import annotations

import errno
import faulthandler
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlparse

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import chromadb  # noqa: E402
import httpx  # noqa: E402
import numpy as np  # noqa: E402
from chromadb.api import ClientAPI  # noqa: E402
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings  # noqa: E402
from chromadb.config import Settings as ChromaSettings  # noqa: E402
from chromadb.errors import NotFoundError  # noqa: E402

from retrieval.core.errors import EmbedderMismatch, IndexDamaged, IndexUnavailable, StorageError  # noqa: E402
from retrieval.core.types import ChunkMeta  # noqa: E402
from retrieval.embed.embedder import EMBEDDERS, FP32_VECTORS, Embedder, int8_kernels, vectors_of  # noqa: E402
from retrieval.storage.chroma_check import damage_in, damaged  # noqa: E402

log = logging.getLogger(__name__)

Metadata = ChunkMeta  # a chunk's
Where = dict[str, Any]  # a Chroma filter, or a collection's own metadata
_PAGE = 5000
CHANGES_SUFFIX = "__changes"  # the change log collection beside each collection
_WRITES = frozenset({"upsert", "update", "delete", "modify"})
_MIN_FREE_BYTES = 16 * 1024 * 1024
DEFAULT_TIMEOUT = 30.0
_BYTES_PER_CHUNK = 32 * 1024  # room kept per chunk written (Chroma used about 13 kB per chunk, 16x its text)
WEDGED_WRITE_SECONDS = 600.0  # one embedded Chroma write longer than this has hung the process: exit
# the collection metadata key naming the kind of vectors the index holds (retrieval.embed.embedder.vectors_of); an
# index made before it was recorded holds fp32 vectors
EMBEDDER_KEY = "embedder"
BUILT_ON_KEY = "int8_kernels"  # int8 indexes: the class of CPU that embedded them (int8_kernels)
# what storage failures look like when they come back as text (sqlite, the Rust backend, the server)
_STORAGE_WORDS = ("disk is full", "no space left", "disk full", "read-only", "readonly", "quota exceeded")


class NewsdeskEmbeddingFunction(EmbeddingFunction[Documents]):
    """Hands Chroma our embedder, so it never falls back to (and downloads) its own."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def __call__(self, input: Documents) -> Embeddings:
        return list(self.embedder.embed_documents(list(input)))

    @staticmethod
    def name() -> str:
        return "newsdesk"

    def get_config(self) -> dict[str, Any]:
        return {"model": self.embedder.name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> NewsdeskEmbeddingFunction:
        raise NotImplementedError("open the collection through retrieval.storage.chroma.ChromaStore")


def make_client(
    data_dir: Path, chroma_url: str | None = None, timeout: float = DEFAULT_TIMEOUT, corpus_dir: Path | None = None
) -> ClientAPI:
    """The embedded client on data_dir, or an HttpClient whose every request gives up after `timeout` s.
    `corpus_dir` is named in the advice to rebuild a damaged index."""
    settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        return _http_client(chroma_url, timeout, settings)
    try:
        (data_dir / "chroma").mkdir(parents=True, exist_ok=True)
        probe = data_dir / "chroma" / ".write-test"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        remedy = "free some space" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else "make it writable"
        raise StorageError(
            f"the data directory {data_dir} is not writable ({exc.strerror or exc}); "
            f"{remedy} or set NEWSDESK_DATA_DIR to a writable folder"
        ) from exc
    try:
        return chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=settings)
    except Exception as exc:
        damaged_file = damage_in(str(exc), data_dir / "chroma", None)
        if damaged_file is not None:
            raise damaged(damaged_file, _describe(exc), data_dir, corpus_dir) from exc
        if _is_storage_failure(exc):
            raise StorageError(
                f"Chroma cannot open its files in {data_dir / 'chroma'} ({exc}); "
                "free some space or set NEWSDESK_DATA_DIR to a writable folder"
            ) from exc
        raise


def read_only_client(data_dir: Path, cause: StorageError) -> tuple[ClientAPI, Path]:
    """A client on a private copy of a data directory that cannot be written (read-only, or full), for a process
    that only reads: Chroma writes to its database when it opens it, so it cannot open the original. Returns the
    client and the copy's folder (the caller deletes it). Raises `cause` when there is no index to read or no
    room for the copy."""
    source = data_dir / "chroma"
    if not (source / "chroma.sqlite3").is_file():
        raise cause
    size = sum(f.stat().st_size for f in source.rglob("*") if f.is_file())
    copy = Path(tempfile.mkdtemp(prefix="newsdesk-read-only-"))
    try:
        if shutil.disk_usage(copy).free < size + _MIN_FREE_BYTES:
            raise StorageError(
                f"{cause.message}; a read-only copy of the index needs {size // 2**20:,} MiB in {copy.parent}"
            )
        shutil.copytree(source, copy / "chroma", ignore=shutil.ignore_patterns(".write-test", ".space-probe*"))
        client = chromadb.PersistentClient(
            path=str(copy / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
        )
    except (OSError, StorageError) as exc:
        shutil.rmtree(copy, ignore_errors=True)
        raise (exc if isinstance(exc, StorageError) else cause) from exc
    except Exception:
        shutil.rmtree(copy, ignore_errors=True)
        raise
    log.warning(
        "%s; serving reads from a copy of the index in %s (%d MiB), writes are refused", cause.message, copy, size >> 20
    )
    return client, copy


def _http_client(chroma_url: str, timeout: float, settings: ChromaSettings) -> ClientAPI:
    url = urlparse(chroma_url)
    if url.scheme not in {"http", "https"} or not url.hostname:
        raise ValueError(f"NEWSDESK_CHROMA_URL must look like http://host:8000 (got {chroma_url!r})")
    port = url.port or (443 if url.scheme == "https" else 8000)
    deadline = _timeout(timeout)
    # chromadb's client talks to the server while it is built, with no deadline: ask once ourselves first
    try:
        httpx.get(f"{url.scheme}://{url.hostname}:{port}/api/v2/heartbeat", timeout=deadline).raise_for_status()
        client = chromadb.HttpClient(host=url.hostname, port=port, ssl=url.scheme == "https", settings=settings)
    except Exception as exc:
        raise IndexUnavailable(
            f"the Chroma server at {chroma_url} is not reachable ({_describe(exc)}); start it with "
            "`chroma run --path DIR --host HOST --port PORT`, or unset NEWSDESK_CHROMA_URL to use the embedded index"
        ) from exc
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = deadline
    else:  # pragma: no cover - a chromadb upgrade moved its HTTP session
        log.warning("could not set a request timeout on the Chroma client; requests may wait indefinitely")
    return client


def _timeout(seconds: float) -> httpx.Timeout:
    return httpx.Timeout(seconds, connect=min(seconds, 5.0))


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _is_storage_failure(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, OSError) or any(word in text for word in _STORAGE_WORDS)


def storage_trouble(folder: Path, need_bytes: int = _MIN_FREE_BYTES) -> str | None:
    """Why `folder` cannot take more writes (full, read-only), or None when it can.

    Embedded Chroma reports a full disk as a vague "Error in compaction"; this is how we tell."""
    try:
        free = shutil.disk_usage(folder).free
        if free < need_bytes:
            return f"only {free // 1024:,} KiB free where {need_bytes // 1024:,} KiB are kept for a write"
        probe = folder / f".space-probe-{uuid.uuid4().hex[:8]}"  # one per call: writers may check at once
        try:
            with probe.open("wb") as handle:
                handle.write(b"\0" * 65536)
                handle.flush()
                os.fsync(handle.fileno())
        finally:
            probe.unlink(missing_ok=True)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


@contextmanager
def _chroma_errors(action: str, where: str = "the Chroma index", folder: Path | None = None) -> Iterator[None]:
    """Turn whatever chromadb raises into the engine's errors, each saying what to do next.

    `folder` is the embedded store's directory: a failure there is checked against the disk."""
    try:
        yield
    except (IndexUnavailable, IndexDamaged, StorageError, EmbedderMismatch):
        raise
    except httpx.TimeoutException as exc:
        raise IndexUnavailable(
            f"{where} did not answer in time while trying to {action} ({_describe(exc)}); "
            "check that the Chroma server is running and not overloaded, then retry"
        ) from exc
    except httpx.TransportError as exc:
        raise IndexUnavailable(
            f"{where} is unreachable while trying to {action} ({_describe(exc)}); start the Chroma server "
            "again (Newsdesk reconnects by itself) and retry"
        ) from exc
    except Exception as exc:  # chromadb raises many types (InternalError, plain Exception for HTTP 5xx, ...)
        damaged_file = damage_in(str(exc), folder, None) if folder is not None else None
        if damaged_file is not None and folder is not None:
            raise damaged(damaged_file, _describe(exc), folder.parent, None) from exc
        trouble = storage_trouble(folder) if folder is not None else None
        if trouble or _is_storage_failure(exc):
            raise StorageError(
                f"Chroma could not {action}: the disk under {where} is full or read-only "
                f"({trouble or _describe(exc)}); free some space or make the data directory writable, "
                "then run the ingest again (it completes what this run left half-done)"
            ) from exc
        name = type(exc).__name__
        if "Connect" in name or "Timeout" in name:
            raise IndexUnavailable(f"{where} is unreachable while trying to {action}: {_describe(exc)}") from exc
        raise


_watch_lock = threading.Lock()
_watching = 0


@contextmanager
def _hang_watchdog() -> Iterator[None]:
    """Embedded Chroma keeps the GIL while it waits inside a write. When that wait never ends (after storage
    failures its writer can be left waiting for ever), nothing else in the process runs again: no request, no
    health check, not even the SIGTERM handler. faulthandler's timer is a C thread that needs no GIL: past
    WEDGED_WRITE_SECONDS in writes it prints every thread's stack and exits with status 1, so a supervisor can
    restart the process; the next sync completes what was half-written, as after any crash."""
    global _watching
    stderr = _real_stderr()
    if stderr is None:  # no file to write the stacks to (an embedding host without one): no watchdog
        yield
        return
    with _watch_lock:
        _watching += 1
        if _watching == 1:
            faulthandler.dump_traceback_later(WEDGED_WRITE_SECONDS, exit=True, file=stderr)
    try:
        yield
    finally:
        with _watch_lock:
            _watching -= 1
            if _watching == 0:
                faulthandler.cancel_dump_traceback_later()


def _real_stderr() -> Any:
    """The process's own stderr (sys.stderr may be a test runner's buffer without a file descriptor)."""
    try:
        sys.__stderr__.fileno()  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return None
    return sys.__stderr__


class ChromaStore:
    def __init__(self, client: ClientAPI, embedder: Embedder, collection: str = "newsdesk") -> None:
        self.client = client
        self.embedder = embedder
        self.vectors = vectors_of(embedder)  # what the collection must hold (recorded in its metadata)
        self.name = collection
        self.where = _where(client)
        chroma_settings = client.get_settings()
        self.folder = Path(chroma_settings.persist_directory) if chroma_settings.is_persistent else None
        # set when this int8 index was embedded on another class of CPU than this one (see int8_kernels)
        self.vectors_note: str | None = None
        # why the last embedded write failed for lack of room; the client is replaced before the next one
        self.write_failure: str | None = None
        self._log: tuple[ClientAPI, Any] | None = None  # (client, change-log collection)
        with _chroma_errors("open the collection", self.where, self.folder):
            self.collection = self._open()

    def _open(self) -> Any:
        collection = self.client.get_or_create_collection(
            self.name,
            embedding_function=NewsdeskEmbeddingFunction(self.embedder),  # type: ignore[arg-type]
            configuration={"hnsw": {"space": "cosine", "ef_search": 100}},
            metadata=self._label(),  # a new collection only: an existing one keeps its own
        )
        return self._same_vectors(collection)

    def _label(self) -> dict[str, str]:
        if self.vectors == FP32_VECTORS:
            return {EMBEDDER_KEY: self.vectors}
        return {EMBEDDER_KEY: self.vectors, BUILT_ON_KEY: int8_kernels()}

    def _check_built_on(self, meta: dict[str, Any]) -> None:
        built_on, here = meta.get(BUILT_ON_KEY), int8_kernels()
        if self.vectors == FP32_VECTORS or built_on in (None, here) or self.vectors_note is not None:
            return
        self.vectors_note = (
            f"this int8 index was embedded on a CPU of class {built_on} and is searched from one of class {here}, "
            "whose int8 kernels give slightly other question vectors; re-index here, or use NEWSDESK_EMBEDDER=onnx "
            "(fp32: the same vectors on every CPU), for exact ones"
        )
        log.warning("%s", self.vectors_note)

    def _same_vectors(self, collection: Any) -> Any:
        """The collection, when it holds this process's kind of vectors (or none yet: then it is labelled
        with ours before anything is written); EmbedderMismatch otherwise."""
        meta = dict(collection.metadata or {})
        recorded = str(meta.get(EMBEDDER_KEY) or FP32_VECTORS)
        if recorded == self.vectors:
            self._check_built_on(meta)
            return collection
        if collection.count() == 0:
            log.info("the empty collection %r was labelled %s; labelling it %s", self.name, recorded,
                     self.vectors)  # fmt: skip
            meta.pop(BUILT_ON_KEY, None)
            collection.modify(metadata={**meta, **self._label()})
            return collection
        raise EmbedderMismatch(mismatch_message(recorded, self.vectors, self.where, self.name, self.folder))

    def _call(self, action: str, method: str, **kwargs: Any) -> Any:
        """One request to the collection: errors translated; one quiet retry when a pooled connection went
        stale (the server restarted between two requests) or the server lost the collection (it was reset).
        Every request we send is idempotent (reads, upserts and deletes by id), so a retry is safe."""
        if method in _WRITES and self.folder is not None:
            try:
                with _hang_watchdog():
                    return self._send(action, method, **kwargs)
            except StorageError as exc:
                self.write_failure = exc.message
                raise
        return self._send(action, method, **kwargs)

    def _send(self, action: str, method: str, **kwargs: Any) -> Any:
        with _chroma_errors(action, self.where, self.folder):
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

    def storage_trouble(self, need_bytes: int = _MIN_FREE_BYTES) -> str | None:
        """Why the embedded store's disk cannot take `need_bytes` more (full, read-only), or None (server: None)."""
        return storage_trouble(self.folder, need_bytes) if self.folder is not None else None

    def before_write(self, action: str, need_bytes: int = _MIN_FREE_BYTES) -> None:
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
        from chromadb.api.shared_system_client import SharedSystemClient

        assert self.folder is not None
        log.warning("reopening the Chroma index in %s after a failed write (%s)", self.folder, self.write_failure)
        path = str(self.folder)
        system = SharedSystemClient._identifier_to_system.pop(path, None)
        SharedSystemClient._identifier_to_refcount.pop(path, None)
        if system is not None:
            try:
                system.stop()
            except Exception as exc:  # noqa: BLE001 - the old client is dropped either way
                log.info("stopping the old Chroma client: %s", exc)
        with _chroma_errors("open the index again", self.where, self.folder):
            self.client = chromadb.PersistentClient(path=path, settings=ChromaSettings(anonymized_telemetry=False))
            self.collection = self._open()
        self.write_failure = None

    def upsert(
        self, ids: Sequence[str], vectors: np.ndarray, documents: Sequence[str], metadatas: Sequence[Metadata]
    ) -> None:
        text_bytes = sum(len(d) for d in documents)
        self.before_write("write chunks", _MIN_FREE_BYTES + _BYTES_PER_CHUNK * len(ids) + 16 * text_bytes)
        for part in _batches(len(ids)):
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
        for part in _batches(len(ids)):
            metas = [clean_metadata(m) for m in metadatas[part]]
            self._call("label chunks", "update", ids=list(ids[part]), metadatas=metas)

    def delete(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        self.before_write("delete chunks")
        for part in _batches(len(ids)):
            self._call("delete chunks", "delete", ids=list(ids[part]))

    def set_metadata(self, metadata: Where) -> None:
        """Replace the collection's own metadata (the last sync's time and version); the vectors' kind stays."""
        self.before_write("record the sync time")
        kept = {k: v for k, v in (self.collection.metadata or {}).items() if k in (EMBEDDER_KEY, BUILT_ON_KEY)}
        self._call("record the sync time", "modify", metadata={**metadata, **kept, EMBEDDER_KEY: self.vectors})

    def present(self, ids: Sequence[str]) -> set[str]:
        """Which of these chunk ids the collection holds (after a failed write: what landed)."""
        found: set[str] = set()
        for part in _batches(len(ids)):
            found.update(self._call("read chunks", "get", ids=list(ids[part]), include=[])["ids"])
        return found

    def all_metadata(self) -> dict[str, Metadata]:
        """Every chunk id with its metadata (no documents, no vectors)."""
        out: dict[str, Metadata] = {}
        for page in _pages(self._call, "read the index", include=["metadatas"]):
            for cid, meta in zip(page["ids"], page["metadatas"] or [], strict=True):
                out[cid] = _as_chunk_meta(meta)
        return out

    def all_ids(self) -> list[str]:
        return [cid for page in _pages(self._call, "read the index", include=[]) for cid in page["ids"]]

    def documents(
        self, ids: Sequence[str] | None = None, where: Where | None = None
    ) -> dict[str, tuple[str, Metadata]]:
        out: dict[str, tuple[str, Metadata]] = {}
        pages: Iterator[Any]
        if ids is not None:
            pages = (
                self._call("read chunks", "get", ids=list(ids[part]), include=["documents", "metadatas"])
                for part in _batches(len(ids))
            )
        else:
            pages = _pages(self._call, "read chunks", where=where, include=["documents", "metadatas"])
        for page in pages:
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

    # ------------------------------------------------------------- the change log
    # A second collection, `<name>__changes`, lists which chunk ids each write touched (one record a write, its
    # `seq` the writer's clock in ns), so a process sharing the server reads what changed since its last look
    # instead of the whole collection. Records carry a one-number placeholder vector; nothing searches them.

    def _changes(self) -> Any:
        if self._log is None or self._log[0] is not self.client:
            with _chroma_errors("open the change log", self.where, self.folder):
                log_collection = self.client.get_or_create_collection(
                    self.name + CHANGES_SUFFIX,
                    embedding_function=NewsdeskEmbeddingFunction(self.embedder),  # type: ignore[arg-type]
                )
            self._log = (self.client, log_collection)
        return self._log[1]

    def _log_call(self, action: str, method: str, **kwargs: Any) -> Any:
        with _chroma_errors(action, self.where, self.folder):
            try:
                return getattr(self._changes(), method)(**kwargs)
            except NotFoundError:  # the server lost it (reset): open it again
                self._log = None
                return getattr(self._changes(), method)(**kwargs)

    def record_changes(self, ids: Sequence[str]) -> tuple[str, int]:
        """Note in the change log that these chunks changed (written or deleted): (record id, seq)."""
        record, seq = uuid.uuid4().hex, time.time_ns()
        self._log_call(
            "record a change",
            "add",
            ids=[record],
            embeddings=np.zeros((1, 1), dtype=np.float32),
            documents=[json.dumps(sorted(set(ids)))],
            metadatas=[{"seq": seq, "chunks": len(ids)}],
        )
        return record, seq

    def changes_since(self, seq: int) -> list[tuple[str, int]]:
        """(record id, seq) of the change log's records from `seq` on, oldest first (not what they list)."""
        out: list[tuple[str, int]] = []
        for page in _pages(self._log_call, "read the change log", where={"seq": {"$gte": seq}}, include=["metadatas"]):
            for rid, meta in zip(page["ids"], page["metadatas"] or [], strict=True):
                out.append((rid, int((meta or {}).get("seq") or 0)))
        return sorted(out, key=lambda entry: entry[1])

    def changed_chunks(self, records: Sequence[str]) -> list[str]:
        """The chunk ids those change-log records list."""
        ids: set[str] = set()
        for part in _batches(len(records)):
            page = self._log_call("read the change log", "get", ids=list(records[part]), include=["documents"])
            for doc in page["documents"] or []:
                ids.update(json.loads(doc or "[]"))
        return sorted(ids)

    def prune_changes(self, before: int) -> None:
        """Drop the change log's records older than `before` (ns)."""
        self._log_call("prune the change log", "delete", where={"seq": {"$lt": before}})

    def change_marker(self, count: int | None = None) -> tuple[int, str]:
        """A cheap fingerprint of what the collection holds: (chunk count, stamp of the last committed sync);
        `count`: the chunk count when the caller knows it.

        Two small requests whatever the size of the index, so every replica can poll it every few seconds;
        reading all chunk ids instead costs about a second per 8,000 chunks over HTTP."""
        with _chroma_errors("read the index version", self.where, self.folder):
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


def recorded_vectors(client: ClientAPI, collection: str = "newsdesk") -> str | None:
    """The kind of vectors a collection holds (an unlabelled one, made before the label: fp32's), or None when
    it does not exist or holds nothing yet: what a process without NEWSDESK_EMBEDDER opens it with."""
    settings = client.get_settings()
    folder = Path(settings.persist_directory) if settings.is_persistent else None
    with _chroma_errors("read the index's kind of vectors", _where(client), folder):
        try:
            found = client.get_collection(collection)
        except NotFoundError:
            return None
        if found.count() == 0:
            return None
        return str((found.metadata or {}).get(EMBEDDER_KEY) or FP32_VECTORS)


def _batches(n: int) -> Iterator[slice]:
    """Slices of at most _PAGE items covering n: Chroma takes a bounded number of rows a request."""
    for start in range(0, n, _PAGE):
        yield slice(start, start + _PAGE)


def _pages(call: Callable[..., Any], action: str, **get: Any) -> Iterator[Any]:
    """Every page of a `get` through `call` (a store's _call or _log_call), _PAGE rows at a time, in order."""
    offset = 0
    while True:
        page = call(action, "get", **get, limit=_PAGE, offset=offset)
        yield page
        if len(page["ids"]) < _PAGE:
            return
        offset += _PAGE


def mismatch_message(recorded: str, wanted: str, where: str, collection: str, folder: Path | None) -> str:
    """Why an index cannot be searched by this process's embedder, and the two ways out."""
    fits = [name for name, kind in EMBEDDERS.items() if kind == recorded]
    ours = next((name for name, kind in EMBEDDERS.items() if kind == wanted), "...")
    fresh = (
        f"delete {folder.parent} (or point NEWSDESK_DATA_DIR at an empty folder)"
        if folder is not None
        else "set NEWSDESK_COLLECTION to a new name (or delete the collection on the server)"
    )
    keep = f"set NEWSDESK_EMBEDDER={fits[0]} to use this index as it is, or " if fits else ""
    return (
        f"{where} (collection {collection!r}) holds {recorded} vectors, but this process embeds with "
        f"NEWSDESK_EMBEDDER={ours} ({wanted}): searching it would compare unlike vectors. Either {keep}"
        f"re-index the corpus with this embedder: {fresh}, then run "
        f"`NEWSDESK_EMBEDDER={ours} newsdesk ingest corpus/ --prune`"
    )


def _where(client: ClientAPI) -> str:
    settings = client.get_settings()
    if settings.chroma_api_impl.endswith("FastAPI"):
        scheme = "https" if settings.chroma_server_ssl_enabled else "http"
        return f"the Chroma server at {scheme}://{settings.chroma_server_host}:{settings.chroma_server_http_port}"
    return f"the Chroma index in {settings.persist_directory}"


def clean_metadata(meta: Metadata) -> Metadata:
    """As Chroma keeps metadata: no empty values."""
    return _as_chunk_meta({k: v for k, v in meta.items() if v is not None and v != ""})


def _as_chunk_meta(meta: Mapping[str, Any] | None) -> ChunkMeta:
    """A copy of metadata as read from Chroma (or cleaned for it), typed: Chroma checks no keys of ours."""
    return cast(ChunkMeta, dict(meta or {}))
