"""The search's options: each step of the ranking (retrieval.search.hybrid) can be switched off and measured."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class SearchOptions:
    dense: bool = True
    lexical: bool = True
    candidates: int = 100  # nearest chunks asked of Chroma per (sub-)query
    lexical_weight: float = 0.8  # share of BM25 in a query's fused score; the rest is dense
    fusion: str = "scores"  # "scores" (normalised weighted sum) or "rrf" (reciprocal rank, for comparison)
    rrf_k: int = 60
    clause_weight: float = 1.0  # weight of a chunk's best clause score (0: whole question only)
    clause_dense: bool = False  # clauses searched by Chroma too (one more embedding each; measured: no gain)
    sentence_weight: float = 1.0  # weight of best-sentence BM25 inside each clause score
    sentence_pool: int = 300  # chunks (best so far) whose sentences are scored
    outlet_bonus: float = 0.2
    day_bonus: float = 0.2
    month_bonus: float = 0.1
    lead_with_outlets: bool = True  # best chunk of each named outlet first
    max_per_article: int = 4  # 0: no cap
    rerank: bool = True  # learned re-ranking of the best candidates (retrieval.search.rerank)
    rerank_pool: int = 40
    one_per_story: bool = True  # a story's other copies (other outlets' near-duplicates) are left out
    recency_band: float = 0.6  # "latest" naming no name: passages scoring at least this share of the best are relevant
    recency_pool: int = 100  # "latest": candidates searched for the most recent relevant passages

    @classmethod
    def dense_only(cls) -> SearchOptions:
        """Plain cosine top-k over the chunks, as in the MultiHop-RAG paper's baseline."""
        return cls(
            lexical=False, lexical_weight=0.0, clause_weight=0.0, sentence_weight=0.0, outlet_bonus=0.0,
            day_bonus=0.0, month_bonus=0.0, lead_with_outlets=False, max_per_article=0, rerank=False,
        )  # fmt: skip

    @classmethod
    def lexical_only(cls) -> SearchOptions:
        return replace(cls.dense_only(), dense=False, lexical=True, lexical_weight=1.0)

    def describe(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.__dict__.items())
