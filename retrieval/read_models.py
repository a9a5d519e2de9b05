"""What the faces read about the index and the service (stats, readiness, article listings, cache figures), as
methods of the facade: a face never reaches into the index, the store, the chain or the caches."""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

from retrieval.answer.background import Fillers
from retrieval.answer.chain import AnswerChain
from retrieval.core.errors import IndexUnavailable, NotFound
from retrieval.core.types import Stats
from retrieval.embed.embedder import Embedder, cpu_features, vectors_of
from retrieval.embed.remembered import RememberedQueries
from retrieval.embed.sentence_vectors import SentenceVectors
from retrieval.storage.chroma import ChromaStore
from retrieval.storage.index import Index


class ArticleListing(NamedTuple):
    items: list[dict[str, Any]]  # the page asked for, newest first
    total: int  # the articles that match, on all pages


class ReadModels:
    """Mixed into the facade (retrieval.service.Newsdesk), which builds these parts."""

    index: Index
    store: ChromaStore
    embedder: Embedder
    chain: AnswerChain
    vector_cache: RememberedQueries
    sentence_vectors: SentenceVectors | None
    _fillers: Fillers

    def article(self, article_id: str) -> dict[str, Any]:
        indexed = self.index.manifest([article_id]).get(article_id)
        if indexed is None:
            raise NotFound(f"no article with id {article_id!r}")
        return indexed.fields()

    def articles(self) -> list[dict[str, Any]]:
        return [a.fields() for a in self.index.manifest().articles.values()]

    def list_articles(
        self, source: str | None = None, since: date | None = None, limit: int = 50, offset: int = 0
    ) -> ArticleListing:
        """Indexed articles, newest first, a page at a time; `source` (case-insensitive) and `since` (published
        on or after) narrow them."""
        rows = [row for row in self.articles() if _matches(row, source, since)]
        rows.sort(key=lambda r: (str(r.get("published_at") or ""), str(r.get("title") or "")), reverse=True)
        return ArticleListing(rows[offset : offset + limit], len(rows))

    @property
    def answer_mode(self) -> str:
        """How answers are written: the LLM's name, or extractive."""
        return self.chain.mode

    def index_size(self) -> tuple[int, int]:
        """(articles, chunks) indexed."""
        return self.index.article_count(), len(self.index.texts)

    def vector_cache_stats(self) -> tuple[int, int, int]:
        """(question and sentence vectors found remembered, embedded, remembered now)"""
        return self.vector_cache.stats()

    def sentence_vector_counts(self) -> tuple[int, int] | None:
        """(answer sentences stored, still to embed by the background filler); None when that cache is off."""
        if self.sentence_vectors is None:
            return None
        return len(self.sentence_vectors), self._fillers.pending

    def readiness(self) -> tuple[int, int]:
        """(articles, chunks) when a search can run: Chroma answers and BM25 scores. IndexUnavailable otherwise."""
        chunks = self.store.count()
        trouble = self.index.snapshot()[2].trouble()
        if trouble is not None:
            raise IndexUnavailable(
                f"search does not work: the BM25 index is damaged ({trouble}); "
                "POST /v1/reindex or a restart rebuilds it from the chunks"
            )
        return self.index.article_count(), chunks

    def stats(self) -> Stats:
        stored, pending = self.sentence_vector_counts() or (0, 0)
        articles, chunks = self.index_size()
        return Stats(
            articles=articles,
            chunks=chunks,
            embedder=self.embedder.name,
            vectors=vectors_of(self.embedder),
            cpu=cpu_features(),
            vectors_note=self.store.vectors_note,
            answer_mode=self.answer_mode,
            last_sync=self.index.last_sync,
            sentence_vectors=stored,
            sentence_vectors_pending=pending,
            sentence_vectors_filling=self._fillers.filling,
        )


def _matches(row: dict[str, Any], source: str | None, since: date | None) -> bool:
    if source and str(row.get("source") or "").lower() != source.strip().lower():
        return False
    if since is not None:
        published = str(row.get("published_at") or "")[:10]
        return bool(published) and published >= since.isoformat()
    return True
