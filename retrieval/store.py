"""Chroma: the embedded PersistentClient by default, an HttpClient when NEWSDESK_CHROMA_URL is set.

Our embedder is always passed to the collection, so Chroma never downloads its default model.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import chromadb  # noqa: E402
import numpy as np  # noqa: E402
from chromadb.api import ClientAPI  # noqa: E402
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings  # noqa: E402
from chromadb.config import Settings as ChromaSettings  # noqa: E402

from retrieval.embeddings import Embedder  # noqa: E402
from retrieval.errors import IndexUnavailable, StorageError  # noqa: E402

log = logging.getLogger(__name__)

Metadata = dict[str, Any]
_PAGE = 5000


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
        raise NotImplementedError("open the collection through retrieval.store.ChromaStore")


def make_client(data_dir: Path, chroma_url: str | None = None) -> ClientAPI:
    settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        url = urlparse(chroma_url)
        if url.scheme not in {"http", "https"} or not url.hostname:
            raise ValueError(f"NEWSDESK_CHROMA_URL must look like http://host:8000 (got {chroma_url!r})")
        try:
            return chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=settings,
            )
        except Exception as exc:
            raise IndexUnavailable(
                f"the Chroma server at {chroma_url} is not reachable ({exc}); start it "
                "with `chroma run` or unset NEWSDESK_CHROMA_URL"
            ) from exc
    try:
        (data_dir / "chroma").mkdir(parents=True, exist_ok=True)
        probe = data_dir / "chroma" / ".write-test"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        raise StorageError(
            f"the data directory {data_dir} is not writable ({exc.strerror or exc}); "
            "free some space or set NEWSDESK_DATA_DIR to a writable folder"
        ) from exc
    return chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=settings)


@contextmanager
def _chroma_errors(action: str) -> Iterator[None]:
    try:
        yield
    except (IndexUnavailable, StorageError):
        raise
    except OSError as exc:
        raise StorageError(f"Chroma could not {action}: {exc}") from exc
    except Exception as exc:  # chromadb raises many types, incl. httpx errors when the server is down
        name = type(exc).__name__
        if "Connect" in name or "Timeout" in name or "connect" in str(exc).lower():
            raise IndexUnavailable(f"the Chroma index is unreachable while trying to {action}: {exc}") from exc
        raise


class ChromaStore:
    def __init__(self, client: ClientAPI, embedder: Embedder, collection: str = "newsdesk") -> None:
        self.client = client
        self.embedder = embedder
        self.name = collection
        with _chroma_errors("open the collection"):
            self.collection = client.get_or_create_collection(
                collection,
                embedding_function=NewsdeskEmbeddingFunction(embedder),  # type: ignore[arg-type]
                configuration={"hnsw": {"space": "cosine", "ef_search": 100}},
            )

    def upsert(
        self, ids: Sequence[str], vectors: np.ndarray, documents: Sequence[str], metadatas: Sequence[Metadata]
    ) -> None:
        if not ids:
            return
        with _chroma_errors("write chunks"):
            for start in range(0, len(ids), _PAGE):
                end = start + _PAGE
                self.collection.upsert(
                    ids=list(ids[start:end]),
                    embeddings=vectors[start:end],
                    documents=list(documents[start:end]),
                    metadatas=[_clean_meta(m) for m in metadatas[start:end]],
                )

    def delete(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        with _chroma_errors("delete chunks"):
            for start in range(0, len(ids), _PAGE):
                self.collection.delete(ids=list(ids[start : start + _PAGE]))

    def all_metadata(self) -> dict[str, Metadata]:
        """Every chunk id with its metadata (no documents, no vectors)."""
        out: dict[str, Metadata] = {}
        with _chroma_errors("read the index"):
            offset = 0
            while True:
                page = self.collection.get(include=["metadatas"], limit=_PAGE, offset=offset)
                for cid, meta in zip(page["ids"], page["metadatas"] or [], strict=True):
                    out[cid] = dict(meta or {})
                if len(page["ids"]) < _PAGE:
                    return out
                offset += _PAGE

    def documents(
        self, ids: Sequence[str] | None = None, where: Metadata | None = None
    ) -> dict[str, tuple[str, Metadata]]:
        out: dict[str, tuple[str, Metadata]] = {}
        with _chroma_errors("read chunks"):
            if ids is not None:
                for start in range(0, len(ids), _PAGE):
                    page = self.collection.get(ids=list(ids[start : start + _PAGE]), include=["documents", "metadatas"])
                    for cid, doc, meta in zip(
                        page["ids"], page["documents"] or [], page["metadatas"] or [], strict=True
                    ):
                        out[cid] = (doc or "", dict(meta or {}))
                return out
            offset = 0
            while True:
                page = self.collection.get(where=where, include=["documents", "metadatas"], limit=_PAGE, offset=offset)
                for cid, doc, meta in zip(page["ids"], page["documents"] or [], page["metadatas"] or [], strict=True):
                    out[cid] = (doc or "", dict(meta or {}))
                if len(page["ids"]) < _PAGE:
                    return out
                offset += _PAGE

    def query(self, vector: np.ndarray, k: int, where: Metadata | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity), best first."""
        with _chroma_errors("search"):
            n = min(k, self.count())
            if n == 0:
                return []
            result = self.collection.query(query_embeddings=[vector], n_results=n, where=where, include=["distances"])
        distances = (result["distances"] or [[]])[0]
        return [(cid, 1.0 - float(d)) for cid, d in zip(result["ids"][0], distances, strict=True)]

    def count(self) -> int:
        with _chroma_errors("count chunks"):
            return self.collection.count()

    def heartbeat(self) -> bool:
        try:
            self.client.heartbeat()
            return True
        except Exception:
            return False


def _clean_meta(meta: Metadata) -> Metadata:
    return {k: v for k, v in meta.items() if v is not None and v != ""}
