"""What tests and benchmarks read, check and break inside a service, in one place.

The faces reach the engine only through the facade (retrieval.service.Newsdesk); tests need more: what the
index holds, its files to damage, a search with other options, a sync held mid-way. Every reach past the facade
is one of these helpers, so an internal move changes this module, not dozens of tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from retrieval.answer.extractive import ExtractiveAnswerer
from retrieval.core.types import ChunkMeta
from retrieval.embed.sentence_vectors import SentenceVectors
from retrieval.search.hybrid import Searcher, SearchOptions
from retrieval.search.rerank import TreeModel
from retrieval.service import Newsdesk
from retrieval.storage.chroma import ChromaStore
from retrieval.storage.lexical import LexicalStore
from retrieval.storage.manifest import Manifest

# ------------------------------------------------------------------ what the index holds


def chunk_texts(service: Newsdesk) -> Mapping[str, str]:
    """Chunk id -> text, as the lexical file holds them (read lazily)."""
    return service.index.texts


def chunk_metadata(service: Newsdesk) -> Mapping[str, ChunkMeta]:
    """Chunk id -> metadata, as the lexical file holds them (read lazily)."""
    return service.index.metadata


def manifest(service: Newsdesk, article_ids: Sequence[str] | None = None) -> Manifest:
    """What is indexed, article by article (of those articles, or of all)."""
    return service.index.manifest(article_ids)


def searchable_ids(service: Newsdesk) -> set[str]:
    """The chunk ids a search sees now (the lexical view's rows)."""
    return set(service.index.lexical.position)


def searchable_count(service: Newsdesk) -> int:
    return len(service.index.lexical)


def chroma_documents(service: Newsdesk, ids: Sequence[str] | None = None) -> dict[str, tuple[str, ChunkMeta]]:
    """Chunk id -> (text, metadata), as Chroma holds them."""
    return service.store.documents(ids)


def chroma_texts(service: Newsdesk) -> dict[str, str]:
    return {cid: doc for cid, (doc, _) in chroma_documents(service).items()}


def chroma_metadata(service: Newsdesk) -> dict[str, ChunkMeta]:
    return service.store.all_metadata()


def chroma_ids(service: Newsdesk) -> list[str]:
    return service.store.all_ids()


def chroma_count(service: Newsdesk) -> int:
    return service.store.count()


def chroma_location(service: Newsdesk) -> str:
    """Where the service's Chroma is ("the Chroma server at ...", "the Chroma index in ...")."""
    return service.store.where


def collection_metadata(service: Newsdesk) -> dict[str, Any]:
    """The collection's own metadata (the kind of vectors, the last sync)."""
    return dict(service.store.collection.metadata or {})


def shared_store(service: Newsdesk) -> ChromaStore:
    """The service's Chroma store, for a second service on the same index (`Newsdesk(..., store=...)`)."""
    return service.store


# ------------------------------------------------------------------ changing what the index holds behind its back


def set_collection_metadata(service: Newsdesk, metadata: dict[str, Any]) -> None:
    service.store.collection.modify(metadata=metadata)


def strip_story_labels(service: Newsdesk, chunk_ids: Sequence[str]) -> None:
    """Chunks as an index from before stories holds them: no story id, no signature."""
    service.store.collection.update(
        ids=list(chunk_ids), metadatas=[{"story_id": None, "minhash": None} for _ in chunk_ids]
    )


def write_chunks(
    service: Newsdesk, ids: Sequence[str], vectors: np.ndarray, texts: Sequence[str], metas: Sequence[ChunkMeta]
) -> None:
    """Chunks written straight into the index (Chroma and the lexical file) and committed, as a sync would."""
    service.index.write(ids, vectors, texts, metas)
    service.index.commit()


def lexical_file(service: Newsdesk) -> LexicalStore:
    """The lexical SQLite file (to read its state or check it)."""
    return service.index.file


def lexical_path(service: Newsdesk) -> Path:
    return service.index.path


def lexical_connection(service: Newsdesk) -> Any:
    """This thread's SQLite connection to the lexical file."""
    return service.index.file._db()


def forget_cached_passages(service: Newsdesk) -> None:
    """Drop the passages the lexical file remembers, so the next read is what a new process would read."""
    service.index.file._passages.clear()


def reopen_index(service: Newsdesk) -> None:
    """Open the index again (what a new process does): checks the file and brings it in step with Chroma."""
    service.index.load()


def skip_refresh_wait(service: Newsdesk) -> None:
    """A replica on a shared server checks Chroma every 2 s: let the next read check now."""
    service.index._checked_at = 0.0


def count_whole_reads(service: Newsdesk) -> list[int]:
    """From now on, every read of the whole collection's metadata appends 1 to the returned list."""
    reads: list[int] = []
    read_everything = service.store.all_metadata

    def counted() -> dict[str, ChunkMeta]:
        reads.append(1)
        return read_everything()

    service.store.all_metadata = counted  # type: ignore[method-assign]
    return reads


@contextmanager
def removals_killed(service: Newsdesk) -> Iterator[None]:
    """Inside: removing chunks from the index raises KeyboardInterrupt, as a kill between two writes would."""
    remove = service.index.remove

    def killed(ids: Sequence[str]) -> None:
        raise KeyboardInterrupt("killed before the earlier version was removed")

    service.index.remove = killed  # type: ignore[method-assign]
    try:
        yield
    finally:
        service.index.remove = remove  # type: ignore[method-assign]


@contextmanager
def syncs_held(service: Newsdesk) -> Iterator[None]:
    """Hold the service's sync lock: a re-index or an article job started meanwhile waits for the index."""
    with service._sync_lock:
        yield


# ------------------------------------------------------------------ searching and answering with other parts


def searcher(service: Newsdesk, options: SearchOptions | None = None, model: TreeModel | None = None) -> Searcher:
    """A search over the service's index with other options (dense only, lexical only, no re-ranking) or other
    re-ranking trees."""
    return Searcher(service.index, service.embedder, options, model=model)


def rerank_rows(service: Newsdesk, query: str) -> tuple[list[str], np.ndarray]:
    """The candidates the service's search re-ranks for a query, with their feature rows."""
    return service.searcher.rerank_rows(query)


def rerank_model(service: Newsdesk) -> TreeModel | None:
    return service.searcher.model


def break_search(monkeypatch: pytest.MonkeyPatch, service: Newsdesk, search: Callable[..., Any]) -> None:
    """Replace the service's search (a failing index, an unreachable server) for the rest of the test."""
    monkeypatch.setattr(service.searcher, "search", search)


def extractive(service: Newsdesk) -> ExtractiveAnswerer:
    return service.extractive


def sentence_vectors(service: Newsdesk) -> SentenceVectors | None:
    """The answer sentences' vectors stored ahead of the questions (None when NEWSDESK_SENTENCE_VECTORS is off)."""
    return service.sentence_vectors


def vector_cache_stats(service: Newsdesk) -> tuple[int, int, int]:
    """(lookups answered from memory, lookups embedded, vectors remembered) of the question and sentence cache."""
    return service.vector_cache.stats()


# ------------------------------------------------------------------ follows


def die_before_matching_follows() -> None:
    """Every later sync of this process is killed (os._exit, as kill -9) right after it committed, before its new
    articles are matched against the follows: what a crash between a sync and its posts leaves."""
    import os

    from retrieval.following import Following

    def killed(self: Following, report: object) -> None:
        print("synced", flush=True)
        os._exit(9)

    Following.after_sync = killed  # type: ignore[method-assign]


def news_matcher(service: Newsdesk) -> Any:
    """The follows' and briefs' matcher (retrieval.news.matcher.Matcher) of a service."""
    return service._matcher


def article_rows(service: Newsdesk, article_ids: Sequence[str]) -> dict[str, list[int]]:
    """Each article's chunk rows in the lexical view (what the matcher scores)."""
    wanted = set(article_ids)
    lexical = service.index.lexical
    rows: dict[str, list[int]] = {}
    for row, aid in enumerate(lexical.article_id):
        if aid in wanted and lexical.ids[row] is not None:
            rows.setdefault(aid, []).append(row)
    return rows


def article_text(service: Newsdesk, article_id: str) -> str:
    """An indexed article's chunk texts, in order."""
    indexed = service.index.manifest([article_id]).articles[article_id]
    ordered = sorted(indexed.chunks, key=lambda cid: int(indexed.chunks[cid].get("index", 0)))
    texts = service.index.texts
    return " ".join(texts[cid] for cid in ordered)
