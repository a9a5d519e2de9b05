"""The Newsdesk facade: the one object every interface (HTTP, Discord, CLI) talks to."""

from __future__ import annotations

import logging
import shutil
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrieval.answer import ExtractiveAnswerer, ExtractiveOptions, RememberedQueries
from retrieval.chain import AnswerChain, LLMOptions, Outcome
from retrieval.chroma_check import StoreCheck
from retrieval.config import Settings
from retrieval.embeddings import Embedder, embedder_for, embedder_name, make_embedder, vectors_of
from retrieval.errors import IndexUnavailable, InvalidInput, NotFound, StorageError
from retrieval.facts import EntityTagger, FactStore
from retrieval.index import Index
from retrieval.ingest import ChunkingOptions, Progress, Syncer
from retrieval.llm import make_chat_model, model_name
from retrieval.rerank import trees_for
from retrieval.search import Searcher, SearchOptions
from retrieval.sentence_vectors import SentenceFiller, SentenceVectors
from retrieval.sources import load_sources
from retrieval.store import ChromaStore, make_client, read_only_client, recorded_vectors
from retrieval.types import (
    Answer,
    Article,
    Failure,
    IngestReport,
    Passage,
    SearchFilters,
    Stats,
    StreamEvent,
    Turn,
)

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from langchain_core.language_models import BaseChatModel

log = logging.getLogger(__name__)


class Newsdesk:
    """Build once (it loads the model and opens the index), then share."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        store: ChromaStore | None = None,
        llm: BaseChatModel | None = None,
        allow_read_only: bool = True,
    ) -> None:
        """`llm`: a LangChain chat model to write answers; by default built from NEWSDESK_LLM (or none).
        `allow_read_only`: a data directory that cannot be written is read from a copy, and writes are refused
        (StorageError); False refuses to open it at all (for a command that only writes)."""
        self.settings = settings
        self.read_only: str | None = None  # why writes are refused, when they are
        # damaged Chroma files can crash the process: checked first (a child process runs while the model loads)
        check = (
            None
            if store is not None or settings.chroma_url
            else StoreCheck(settings.data_dir, settings.collection, settings.corpus_dir).start()
        )
        client = None
        name: str | None = settings.embedder
        if embedder is not None:
            name = name or embedder_name(embedder)
        elif name is None:
            # unset: the index is opened with the kind of vectors it records (a new one gets the default),
            # which is read before the model loads, after the check
            if check is not None:
                check.finish()
                check = None
            client = store.client if store is not None else self._client(allow_read_only)
            recorded = recorded_vectors(client, settings.collection)
            name = embedder_for(recorded)
            log.info("NEWSDESK_EMBEDDER is not set: %s (%s)", name,
                     f"the index holds {recorded} vectors" if recorded else "the default for a new index")  # fmt: skip
        self.settings = settings = settings.model_copy(update={"embedder": name})  # what this process runs
        self.embedder = embedder or make_embedder(name, settings.model_cache_dir, settings.embed_batch_size)
        if store is None:
            if check is not None:
                check.finish()
            store = ChromaStore(client or self._client(allow_read_only), self.embedder, settings.collection)
        self.store = store
        self._store_check = check
        self.index = Index(
            store,
            settings.data_dir / "lexical" / settings.collection,
            refresh_seconds=2.0 if settings.chroma_url else 0.0,
        )
        self.index.load()
        self.sentence_vectors = self._open_sentence_vectors() if settings.sentence_vectors else None
        self.facts = self._open_facts() if settings.sentence_vectors else None
        self._fillers: list[SentenceFiller] = []
        queries = RememberedQueries(self.embedder, settings.vector_cache_size, self.sentence_vectors)
        self.vector_cache = queries  # the answerer re-embeds the question the search just did
        trees = trees_for(vectors_of(self.embedder))  # the re-ranking trees for this index's kind of vectors
        self.searcher = Searcher(self.index, queries, SearchOptions(rerank=settings.rerank), model=trees)
        self._sync_lock = threading.Lock()  # one sync at a time
        self._write_lock = threading.Lock()  # one change to the index at a time: a sync takes it per batch
        self.syncer = Syncer(
            self.index,
            self.embedder,
            ChunkingOptions(settings.chunk_tokens, settings.chunk_overlap_sentences, settings.ingest_batch_articles),
            write_lock=self._write_lock,
        )
        self.extractive = ExtractiveAnswerer(
            queries, ExtractiveOptions(abstain_below=settings.abstain_threshold), EntityTagger(self.facts)
        )
        if llm is None:
            llm = make_chat_model(settings)
        self.chain = AnswerChain(
            lambda query, k, filters, frame: self.searcher.search(query, k, filters, frame),
            self.extractive,
            llm,
            model_name(llm, settings) if llm is not None else None,
            settings.top_k,
            llm_options=LLMOptions(settings.llm_prompt_tokens, settings.llm_abstain_threshold, settings.llm_timeout),
            read_time=self.searcher.time_frame,
        )

    def _client(self, allow_read_only: bool) -> ClientAPI:
        settings = self.settings
        try:
            return make_client(settings.data_dir, settings.chroma_url, settings.chroma_timeout, settings.corpus_dir)
        except StorageError as exc:
            if settings.chroma_url or not allow_read_only:
                raise
            client, copy = read_only_client(settings.data_dir, exc)
            self.read_only = exc.message
            weakref.finalize(self, shutil.rmtree, copy, True)  # the copy goes when the service does, or at exit
            return client

    def check_writable(self) -> None:
        """Raise StorageError at once when this process cannot change the index: opened read-only, or no room
        on the disk (checked before embedding anything)."""
        trouble = self.store.storage_trouble() if self.read_only is None else None
        if trouble is not None:
            raise StorageError(
                f"the index cannot be changed now: the disk under {self.settings.data_dir} has no room ({trouble}); "
                "free some space or make it writable, then retry (questions are still answered meanwhile)"
            )
        if self.read_only is not None:
            raise StorageError(
                f"the index cannot be changed: this process opened the data directory {self.settings.data_dir} "
                f"read-only because it could not be written ({self.read_only}). It answers questions from a copy "
                "of the index; make the folder writable (free some space, or fix its mount or permissions), "
                "then restart"
            )

    # ------------------------------------------------------------- background work

    def _open_sentence_vectors(self) -> SentenceVectors | None:
        directory = self.settings.data_dir / "sentence-vectors" / self.settings.collection
        try:
            return SentenceVectors(directory, self.embedder.name, self.embedder.dim)
        except OSError as exc:  # a cache: answers still work without it, each embedding its own sentences
            log.warning("sentence vectors unavailable (%s: %s); answers will embed their sentences", directory, exc)
            return None

    def _open_facts(self) -> FactStore | None:
        path = self.settings.data_dir / "sentence-facts" / f"{self.settings.collection}.sqlite3"
        try:
            return FactStore(path, EntityTagger.name)
        except (OSError, sqlite3.Error) as exc:  # a cache, as the sentence vectors are
            log.warning("sentence facts unavailable (%s: %s); answers will tag their sentences", path, exc)
            return None

    def start_background(self) -> None:
        """For long-running processes (serve, bot): keep the answer sentences embedded and their facts tagged
        ahead of the questions. Idempotent; a no-op when NEWSDESK_SENTENCE_VECTORS is off."""
        if self.sentence_vectors is None or self._fillers or self.read_only is not None:
            return
        chunk_texts = lambda: self.index.snapshot()[0]  # noqa: E731
        embed = getattr(self.embedder, "embed_here", self.embedder.embed_documents)
        self._fillers = [SentenceFiller(self.sentence_vectors, chunk_texts, self.extractive.sentence_heads, embed)]
        if self.facts is not None:
            # its own model: the filler runs at the lowest priority, and answers must never wait on a lock it holds
            tag = EntityTagger(self.facts).run
            self._fillers.append(SentenceFiller(self.facts, chunk_texts, self.extractive.sentences, tag, "tagged"))
        self.extractive.tagger.load()
        for filler in self._fillers:
            filler.start()

    def wait_for_background(self, timeout: float | None = None) -> bool:
        """Block until the background work is done (True) or the timeout passes (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        return all(
            filler.wait(None if deadline is None else max(0.0, deadline - time.monotonic())) for filler in self._fillers
        )

    def close(self) -> None:
        for filler in self._fillers:
            filler.stop()
        self._fillers = []

    def _synced(self, report: IngestReport) -> IngestReport:
        if self._store_check is not None and (report.added or report.updated or report.removed):
            self._store_check.note_written()
        if report.added or report.updated:
            for filler in self._fillers:
                filler.wake()
        return report

    # ------------------------------------------------------------- answering

    def validate_question(self, question: str) -> str:
        question = (question or "").strip()
        if not question:
            raise InvalidInput("the question is empty: ask something about the news articles")
        if len(question) > self.settings.max_question_chars:
            raise InvalidInput(
                f"the question is {len(question):,} characters long; the limit is "
                f"{self.settings.max_question_chars:,} (NEWSDESK_MAX_QUESTION_CHARS)"
            )
        return question

    def search(
        self,
        query: str,
        k: int | None = None,
        filters: SearchFilters | None = None,
        as_of: datetime | None = None,
    ) -> list[Passage]:
        """Passages for a query; its time words ("last week", "latest") are read against as_of (default now)."""
        query = self.validate_question(query)
        return self.searcher.search(query, k or self.settings.top_k, filters, self.searcher.time_frame(query, as_of))

    def ask(
        self,
        question: str,
        history: list[Turn] | None = None,
        filters: SearchFilters | None = None,
        k: int | None = None,
        as_of: datetime | None = None,
    ) -> Answer:
        """The checked answer: from the LLM when one is configured and usable, else extractive (see `mode`).
        `as_of`: the time the question's "last week", "latest" or "in February" are read against (default now)."""
        return self.answer(question, history, filters, k, as_of).answer

    def answer(
        self,
        question: str,
        history: list[Turn] | None = None,
        filters: SearchFilters | None = None,
        k: int | None = None,
        as_of: datetime | None = None,
    ) -> Outcome:
        """Like ask(), with the passages the answer was written from and the query that found them."""
        return self.chain.invoke(self.validate_question(question), history, filters, k, as_of)

    def ask_stream(
        self,
        question: str,
        history: list[Turn] | None = None,
        filters: SearchFilters | None = None,
        k: int | None = None,
        as_of: datetime | None = None,
    ) -> Iterator[StreamEvent]:
        """token events as the answer is written, then the checked citations, then done (the final Answer)."""
        yield from self.chain.stream(self.validate_question(question), history, filters, k, as_of)

    # ------------------------------------------------------------- the corpus

    def ingest(
        self,
        targets: Iterable[str] = (),
        feeds: Iterable[str] = (),
        prune: bool = False,
        progress: Progress | None = None,
    ) -> IngestReport:
        self.check_writable()
        targets, feeds = list(targets), list(feeds)
        roots = [str(Path(t).resolve()) for t in targets if Path(t).is_dir()] if prune else []
        # read (and download) everything before taking the lock: a slow web site must not hold up other writes
        items = list(load_sources(targets, feeds, self.settings.max_article_bytes, self.settings.fetch_timeout))
        with self._sync_lock:
            return self._synced(self.syncer.sync(items, prune_roots=roots, progress=progress))

    def add_articles(self, articles: Iterable[Article | Failure], progress: Progress | None = None) -> IngestReport:
        self.check_writable()
        articles = list(articles)  # a lazy source (a URL being downloaded) is read before the lock
        with self._sync_lock:
            return self._synced(self.syncer.sync(articles, progress=progress))

    def delete(self, article_id: str) -> None:
        self.check_writable()
        with self._write_lock:
            indexed = self.index.manifest([article_id]).get(article_id)
            if indexed is None:
                raise NotFound(f"no article with id {article_id!r}")
            self.index.remove(list(indexed.chunks))
            self.index.commit()

    def article(self, article_id: str) -> dict[str, Any]:
        indexed = self.index.manifest([article_id]).get(article_id)
        if indexed is None:
            raise NotFound(f"no article with id {article_id!r}")
        return indexed.fields()

    def articles(self) -> list[dict[str, Any]]:
        return [a.fields() for a in self.index.manifest().articles.values()]

    def sentence_vector_counts(self) -> tuple[int, int]:
        """(answer sentences stored, still to embed by the background filler)"""
        stored = len(self.sentence_vectors) if self.sentence_vectors is not None else 0
        return stored, self._fillers[0].pending if self._fillers else 0

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
        stored, pending = self.sentence_vector_counts()
        return Stats(
            articles=self.index.article_count(),
            chunks=len(self.index.texts),
            embedder=self.embedder.name,
            answer_mode=self.chain.mode,
            last_sync=self.index.last_sync,
            sentence_vectors=stored,
            sentence_vectors_pending=pending,
            sentence_vectors_filling=any(filler.filling for filler in self._fillers),
        )
