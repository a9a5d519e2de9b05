"""What is indexed: article id -> content hash -> chunk ids, read from the chunks' own metadata in Chroma.

Keeping this inside Chroma (not in a second file) means there is nothing to get out of step: an article is
cleanly indexed exactly when all of its chunks, and only those, carry the same content hash.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from retrieval.core.types import ARTICLE_FIELDS, ChunkMeta
from retrieval.storage.chroma import ChromaStore


@dataclass
class IndexedArticle:
    id: str
    chunks: dict[str, ChunkMeta] = field(default_factory=dict)  # chunk id -> metadata

    @property
    def content_hashes(self) -> set[str]:
        return {str(m.get("content_hash")) for m in self.chunks.values()}

    @property
    def complete(self) -> bool:
        """One version only, and every one of its chunks present."""
        if len(self.content_hashes) != 1:
            return False
        expected = {int(m.get("n_chunks", -1)) for m in self.chunks.values()}
        indices = sorted(int(m.get("index", -1)) for m in self.chunks.values())
        return len(expected) == 1 and indices == list(range(expected.pop()))

    @property
    def content_hash(self) -> str | None:
        return next(iter(self.content_hashes)) if self.complete else None

    @property
    def text_hash(self) -> str | None:
        return str(self.first.get("text_hash")) if self.complete else None

    @property
    def first(self) -> ChunkMeta:
        return min(self.chunks.values(), key=lambda m: int(m.get("index", 0)))

    def fields(self) -> dict[str, Any]:
        meta = self.first
        return {"id": self.id, **{k: meta.get(k) for k in ARTICLE_FIELDS}, "chunks": len(self.chunks)}

    def complete_version(self) -> set[str] | None:
        """For a half-replaced article: the chunk ids of a version that is whole, if one is."""
        by_hash: dict[str, dict[str, ChunkMeta]] = {}
        for cid, meta in self.chunks.items():
            by_hash.setdefault(str(meta.get("content_hash")), {})[cid] = meta
        for chunks in by_hash.values():
            if IndexedArticle(self.id, chunks).complete:
                return set(chunks)
        return None


class Manifest:
    def __init__(self, articles: dict[str, IndexedArticle]) -> None:
        self.articles = articles

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, ChunkMeta]) -> Manifest:
        articles: dict[str, IndexedArticle] = {}
        for cid, meta in metadata.items():
            aid = str(meta.get("article_id", ""))
            articles.setdefault(aid, IndexedArticle(aid)).chunks[cid] = meta
        return cls(articles)

    @classmethod
    def load(cls, store: ChromaStore) -> Manifest:
        return cls.from_metadata(store.all_metadata())

    def get(self, article_id: str) -> IndexedArticle | None:
        return self.articles.get(article_id)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self.articles

    def __len__(self) -> int:
        return len(self.articles)
