"""Chroma clients: the embedded PersistentClient by default, an HttpClient when NEWSDESK_CHROMA_URL is set (every
request with a deadline), a client on a private copy for a process that cannot write its data directory, and
our embedder handed to every collection, so Chroma never downloads its default model."""

from __future__ import annotations

import errno
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
import httpx
from chromadb.api import ClientAPI
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.config import Settings as ChromaSettings

from retrieval.core.errors import IndexUnavailable, StorageError
from retrieval.embed.embedder import Embedder
from retrieval.storage.chroma_check import damage_in, damaged
from retrieval.storage.chroma_faults import MIN_FREE_BYTES, describe, is_storage_failure

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0


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
            raise damaged(damaged_file, describe(exc), data_dir, corpus_dir) from exc
        if is_storage_failure(exc):
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
        if shutil.disk_usage(copy).free < size + MIN_FREE_BYTES:
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
            f"the Chroma server at {chroma_url} is not reachable ({describe(exc)}); start it with "
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


def where_of(client: ClientAPI) -> str:
    settings = client.get_settings()
    if settings.chroma_api_impl.endswith("FastAPI"):
        scheme = "https" if settings.chroma_server_ssl_enabled else "http"
        return f"the Chroma server at {scheme}://{settings.chroma_server_host}:{settings.chroma_server_http_port}"
    return f"the Chroma index in {settings.persist_directory}"


def reopened_client(folder: Path) -> ClientAPI:
    """A new embedded client on `folder`, after a failed write left the old one's writer broken: chromadb keeps one
    system per path in a private registry, which is dropped (and the old system stopped) first."""
    from chromadb.api.shared_system_client import SharedSystemClient

    path = str(folder)
    system = SharedSystemClient._identifier_to_system.pop(path, None)
    SharedSystemClient._identifier_to_refcount.pop(path, None)
    if system is not None:
        try:
            system.stop()
        except Exception as exc:  # noqa: BLE001 - the old client is dropped either way
            log.info("stopping the old Chroma client: %s", exc)
    return chromadb.PersistentClient(path=path, settings=ChromaSettings(anonymized_telemetry=False))
