"""Hybrid retrieval: dense (Chroma) + lexical (BM25), fused by reciprocal rank, with filters and diversity."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from retrieval.embeddings import Embedder
from retrieval.index import Index
from retrieval.types import Passage, SearchFilters

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchOptions:
    candidates: int = 50  # from each retriever, before fusion
    rrf_k: int = 60
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    max_per_article: int = 2


def _day(value: str | None) -> int | None:
    if not value:
        return None
    parsed = date.fromisoformat(value[:10])
    return parsed.year * 10000 + parsed.month * 100 + parsed.day


def chroma_where(filters: SearchFilters | None) -> dict[str, Any] | None:
    if filters is None:
        return None
    clauses: list[dict[str, Any]] = []
    if filters.sources:
        clauses.append({"source": {"$in": list(filters.sources)}})
    since, until = _day(filters.since), _day(filters.until)
    if since is not None:
        clauses.append({"published_day": {"$gte": since}})
    if until is not None:
        clauses.append({"published_day": {"$lte": until}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def metadata_predicate(filters: SearchFilters | None) -> Callable[[dict[str, Any]], bool] | None:
    if filters is None or not (filters.sources or filters.since or filters.until):
        return None
    sources = {s.lower() for s in filters.sources or []}
    since, until = _day(filters.since), _day(filters.until)

    def keep(meta: dict[str, Any]) -> bool:
        if sources and str(meta.get("source", "")).lower() not in sources:
            return False
        day = meta.get("published_day")
        if since is not None and (day is None or int(day) < since):
            return False
        return not (until is not None and (day is None or int(day) > until))

    return keep


class Searcher:
    def __init__(self, index: Index, embedder: Embedder, options: SearchOptions | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.options = options or SearchOptions()

    def search(self, query: str, k: int = 10, filters: SearchFilters | None = None) -> list[Passage]:
        self.index.ensure_fresh()
        opts = self.options
        texts, metadata, bm25 = self.index.snapshot()  # one view for this search, even while a sync writes
        vector = self.embedder.embed_query(query)
        dense = self.index.store.query(vector, opts.candidates, where=chroma_where(filters))
        lexical = bm25.search(query, opts.candidates, mask=self._mask(filters, bm25.ids, metadata))
        fused: dict[str, float] = {}
        for weight, ranked in ((opts.dense_weight, dense), (opts.lexical_weight, lexical)):
            for rank, (cid, _) in enumerate(ranked):
                fused[cid] = fused.get(cid, 0.0) + weight / (opts.rrf_k + rank + 1)
        ordered = sorted(fused, key=lambda cid: -fused[cid])
        return self._diversify(ordered, fused, k, texts, metadata)

    @staticmethod
    def _mask(filters: SearchFilters | None, ids: list[str], metadata: dict[str, Any]) -> np.ndarray | None:
        keep = metadata_predicate(filters)
        if keep is None:
            return None
        # a chunk that a running sync has removed stays in BM25 until the sync commits: leave it out
        return np.array([cid in metadata and keep(metadata[cid]) for cid in ids], dtype=bool)

    def _diversify(
        self, ordered: list[str], scores: dict[str, float], k: int, texts: dict[str, str], metadata: dict[str, Any]
    ) -> list[Passage]:
        """At most a few passages per article, so a multi-article question sees each article."""
        picked: list[str] = []
        per_article: dict[str, int] = {}
        overflow: list[str] = []
        for cid in ordered:
            if cid not in metadata or cid not in texts:  # removed, or not yet in this search's view
                continue
            aid = str(metadata[cid].get("article_id"))
            if per_article.get(aid, 0) >= self.options.max_per_article:
                overflow.append(cid)
                continue
            per_article[aid] = per_article.get(aid, 0) + 1
            picked.append(cid)
            if len(picked) == k:
                break
        picked.extend(overflow[: k - len(picked)])
        return [make_passage(cid, texts[cid], metadata[cid], scores[cid]) for cid in picked]

    def passage(self, chunk_id: str, score: float = 0.0) -> Passage:
        text, meta = self.index.passage_fields(chunk_id)
        return make_passage(chunk_id, text, meta, score)


def make_passage(chunk_id: str, text: str, meta: dict[str, Any], score: float = 0.0) -> Passage:
    return Passage(
        chunk_id=chunk_id,
        article_id=str(meta.get("article_id")),
        title=str(meta.get("title", "")),
        source=meta.get("source"),
        url=meta.get("url"),
        published_at=meta.get("published_at"),
        text=text,
        score=round(score, 6),
    )
