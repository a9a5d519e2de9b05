"""The change log: a second collection, `<name>__changes`, lists which chunk ids each write touched (one record a
write, its `seq` the writer's clock in ns), so a process sharing the server reads what changed since its last
look instead of the whole collection. Records carry a one-number placeholder vector; nothing searches them."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api import ClientAPI
from chromadb.errors import NotFoundError

from retrieval.embed.embedder import Embedder
from retrieval.storage.chroma_client import NewsdeskEmbeddingFunction
from retrieval.storage.chroma_faults import chroma_errors
from retrieval.storage.chroma_pages import batches, pages

CHANGES_SUFFIX = "__changes"  # the change log collection beside each collection


class ChangeLog:
    """Mixed into ChromaStore (retrieval.storage.chroma), which sets these."""

    client: ClientAPI
    embedder: Embedder
    name: str
    where: str
    folder: Path | None
    _log: tuple[ClientAPI, Any] | None  # (client, change-log collection)

    def _changes(self) -> Any:
        if self._log is None or self._log[0] is not self.client:
            with chroma_errors("open the change log", self.where, self.folder):
                log_collection = self.client.get_or_create_collection(
                    self.name + CHANGES_SUFFIX,
                    embedding_function=NewsdeskEmbeddingFunction(self.embedder),  # type: ignore[arg-type]
                )
            self._log = (self.client, log_collection)
        return self._log[1]

    def _log_call(self, action: str, method: str, **kwargs: Any) -> Any:
        with chroma_errors(action, self.where, self.folder):
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
        for page in pages(self._log_call, "read the change log", where={"seq": {"$gte": seq}}, include=["metadatas"]):
            for rid, meta in zip(page["ids"], page["metadatas"] or [], strict=True):
                out.append((rid, int((meta or {}).get("seq") or 0)))
        return sorted(out, key=lambda entry: entry[1])

    def changed_chunks(self, records: Sequence[str]) -> list[str]:
        """The chunk ids those change-log records list."""
        ids: set[str] = set()
        for part in batches(len(records)):
            page = self._log_call("read the change log", "get", ids=list(records[part]), include=["documents"])
            for doc in page["documents"] or []:
                ids.update(json.loads(doc or "[]"))
        return sorted(ids)

    def prune_changes(self, before: int) -> None:
        """Drop the change log's records older than `before` (ns)."""
        self._log_call("prune the change log", "delete", where={"seq": {"$lt": before}})
