"""The kind of vectors a collection holds, recorded in its metadata (and, for int8, the class of CPU that
embedded them): a process searches only an index of its own kind of vectors (EmbedderMismatch otherwise)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api import ClientAPI
from chromadb.errors import NotFoundError

from retrieval.core.errors import EmbedderMismatch
from retrieval.embed.embedder import EMBEDDERS, FP32_VECTORS, int8_kernels
from retrieval.storage.chroma_client import where_of
from retrieval.storage.chroma_faults import chroma_errors
from retrieval.storage.chroma_pages import batches

log = logging.getLogger(__name__)

# the collection metadata key naming the kind of vectors the index holds (retrieval.embed.embedder.vectors_of); an
# index made before it was recorded holds fp32 vectors
EMBEDDER_KEY = "embedder"
BUILT_ON_KEY = "int8_kernels"  # int8 indexes: the class of CPU that embedded them (int8_kernels)


class VectorLabel:
    """Mixed into ChromaStore (retrieval.storage.chroma), which sets these."""

    vectors: str
    vectors_note: str | None
    name: str
    where: str
    folder: Path | None
    _call: Callable[..., Any]

    def chunk_vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these chunk ids (those the collection holds), as float32 arrays."""
        out: dict[str, np.ndarray] = {}
        for part in batches(len(ids)):
            page = self._call("read vectors", "get", ids=list(ids[part]), include=["embeddings"])
            for cid, vector in zip(
                page["ids"], page["embeddings"] if page["embeddings"] is not None else [], strict=True
            ):
                out[cid] = np.asarray(vector, dtype=np.float32)
        return out

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


def recorded_vectors(client: ClientAPI, collection: str = "newsdesk") -> str | None:
    """The kind of vectors a collection holds (an unlabelled one, made before the label: fp32's), or None when
    it does not exist or holds nothing yet: what a process without NEWSDESK_EMBEDDER opens it with."""
    settings = client.get_settings()
    folder = Path(settings.persist_directory) if settings.is_persistent else None
    with chroma_errors("read the index's kind of vectors", where_of(client), folder):
        try:
            found = client.get_collection(collection)
        except NotFoundError:
            return None
        if found.count() == 0:
            return None
        return str((found.metadata or {}).get(EMBEDDER_KEY) or FP32_VECTORS)


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
