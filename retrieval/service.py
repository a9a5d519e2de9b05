"""The Newsdesk facade: the one object every interface (HTTP, Discord, CLI) talks to."""

from __future__ import annotations

import logging
import os
import shutil
import threading
import unicodedata
import weakref
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

import aiologic

from retrieval.answer.background import Fillers, open_facts, open_sentence_vectors
from retrieval.answer.chain import AnswerChain, LLMOptions, Outcome
from retrieval.answer.extractive import ExtractiveAnswerer, ExtractiveOptions
from retrieval.answer.facts import EntityTagger
from retrieval.answer.llm import make_chat_model, model_name
from retrieval.briefing import Briefing
from retrieval.core import dates
from retrieval.core.config import Settings
from retrieval.core.errors import InvalidInput, StorageError
from retrieval.core.types import (
    Answer,
    IngestReport,
    Passage,
    Question,
    SearchFilters,
    StreamEvent,
    Turn,
)
from retrieval.corpus import CorpusWrites
from retrieval.embed.embedder import Embedder, embedder_for, embedder_name, make_embedder, vectors_of
from retrieval.embed.remembered import RememberedQueries
from retrieval.following import Following
from retrieval.ingest.jobs import Jobs
from retrieval.ingest.sync import ChunkingOptions, Syncer
from retrieval.news.asked import read_brief
from retrieval.read_models import ReadModels
from retrieval.search.hybrid import Searcher, SearchOptions
from retrieval.search.rerank import trees_for
from retrieval.storage.chroma import ChromaStore
from retrieval.storage.chroma_check import StoreCheck
from retrieval.storage.chroma_client import make_client, read_only_client
from retrieval.storage.index import Index
from retrieval.storage.vector_label import recorded_vectors

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from langchain_core.language_models import BaseChatModel

log = logging.getLogger(__name__)


def answer_slots(settings: Settings) -> int:
    """Answers computed at once by default: one per core offline; an LLM answer mostly waits on the LLM."""
    return settings.max_concurrent_answers or ((os.cpu_count() or 2) if settings.llm is None else 32)


class Admission:
    """How many answers run at once (a semaphore for threads and event loops alike), counting those waiting too,
    so readiness can say when the queue is past what it can serve in time."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._semaphore = aiologic.Semaphore(slots)
        self._lock = threading.Lock()
        self.inside = 0  # answers running or waiting for a slot

    def _count(self, step: int) -> None:
        with self._lock:
            self.inside += step

    async def __aenter__(self) -> None:
        self._count(1)
        try:
            await self._semaphore.async_acquire()
        except BaseException:
            self._count(-1)
            raise

    async def __aexit__(self, *_: object) -> None:
        self._semaphore.async_release()
        self._count(-1)

    def __enter__(self) -> None:
        self._count(1)
        try:
            self._semaphore.green_acquire()
        except BaseException:
            self._count(-1)
            raise

    def __exit__(self, *_: object) -> None:
        self._semaphore.green_release()
        self._count(-1)


class Newsdesk(ReadModels, Briefing, Following, CorpusWrites):
    """Build once (it loads the model and opens the index), then share. Every face calls only this object:
    answering (ask, answer, ask_stream, search), the corpus (ingest, add_articles, delete, start_reindex,
    start_adding), read models (retrieval.read_models), and two policies the faces share: `admission` (answers
    at once: `async with service.admission:` in an event loop, `with` in a thread) and `jobs` (one re-index at
    a time, whichever face starts it: `jobs.get`, `jobs.wait`, `jobs.running`)."""

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
        self.embedder, self.store, self._store_check = self._open_store(embedder, store, allow_read_only)
        settings = self.settings
        self.index = Index(
            self.store,
            settings.data_dir / "lexical" / settings.collection,
            refresh_seconds=2.0 if settings.chroma_url else 0.0,
        )
        self.index.load()
        self.sentence_vectors = open_sentence_vectors(settings, self.embedder) if settings.sentence_vectors else None
        self.facts = open_facts(settings) if settings.sentence_vectors else None
        self._fillers = Fillers()
        self._sync_lock = threading.Lock()  # one sync at a time
        self._write_lock = threading.Lock()  # one change to the index at a time: a sync takes it per batch
        self._fetches = threading.BoundedSemaphore(settings.max_concurrent_fetches)
        self.syncer = Syncer(
            self.index,
            self.embedder,
            ChunkingOptions(settings.chunk_tokens, settings.chunk_overlap_sentences, settings.ingest_batch_articles),
            write_lock=self._write_lock,
        )
        self._build_answering(llm)
        self.jobs = Jobs(max_article_jobs=settings.max_write_jobs, max_article_bytes=settings.max_write_job_queue_bytes)
        # Answering offline is CPU work: more of it at once than there are cores only makes every answer slower.
        # Answers over the limit wait their turn in arrival order, from any thread or event loop.
        self.admission = Admission(answer_slots(settings))

    def _open_store(
        self, embedder: Embedder | None, store: ChromaStore | None, allow_read_only: bool
    ) -> tuple[Embedder, ChromaStore, StoreCheck | None]:
        """The embedder and the Chroma store, the embedder's kind settled first (self.settings records it)."""
        settings = self.settings
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
        embedder = embedder or make_embedder(name, settings.model_cache_dir, settings.embed_batch_size)
        if store is None:
            if check is not None:
                check.finish()
            store = ChromaStore(client or self._client(allow_read_only), embedder, settings.collection)
        return embedder, store, check

    def overload(self) -> str | None:
        """Why new questions would wait too long now (readiness says 503), or None: more answers waiting for a
        slot than NEWSDESK_MAX_QUEUED_ANSWERS."""
        waiting = self.admission.inside - self.admission.slots
        if waiting > self.settings.max_queued_answers:
            return (
                f"overloaded: {waiting} questions are waiting for one of {self.admission.slots} answer slots "
                f"(more than NEWSDESK_MAX_QUEUED_ANSWERS={self.settings.max_queued_answers})"
            )
        return None

    def _build_answering(self, llm: BaseChatModel | None) -> None:
        settings = self.settings
        queries = RememberedQueries(self.embedder, settings.vector_cache_size, self.sentence_vectors)
        self.vector_cache = queries  # the answerer re-embeds the question the search just did
        trees = trees_for(vectors_of(self.embedder))  # the re-ranking trees for this index's kind of vectors
        self.searcher = Searcher(self.index, queries, SearchOptions(rerank=settings.rerank), model=trees)
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

    # ------------------------------------------------------------- background work

    def start_background(self) -> None:
        """For long-running processes (serve, bot): keep the answer sentences embedded and their facts tagged
        ahead of the questions. Idempotent; a no-op when NEWSDESK_SENTENCE_VECTORS is off."""
        if self.sentence_vectors is None or self.read_only is not None:
            return
        self.after_sync(IngestReport())  # a sync killed before matching its articles against the follows
        chunk_texts = lambda: self.index.snapshot()[0]  # noqa: E731
        self._fillers.start(self.sentence_vectors, self.facts, chunk_texts, self.extractive, self.embedder)

    def wait_for_background(self, timeout: float | None = None) -> bool:
        """Block until the background work is done (True) or the timeout passes (False)."""
        return self._fillers.wait(timeout)

    def close(self) -> None:
        self._fillers.stop()

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
        if not any(c.isalnum() for c in question if unicodedata.category(c) != "Cf"):
            raise InvalidInput(
                "the question has no letters or digits (only punctuation, or invisible characters such as "
                "zero-width spaces and direction marks): ask something about the news articles"
            )
        return question

    @staticmethod
    def validate_filters(filters: SearchFilters | None) -> SearchFilters | None:
        """Filters that can match something: `since` not after `until` (InvalidInput otherwise)."""
        if filters is not None and filters.since and filters.until:
            since, until = dates.day(filters.since), dates.day(filters.until)
            if since is not None and until is not None and since > until:
                raise InvalidInput(
                    f"since ({filters.since}) is after until ({filters.until}): no date is in that range; "
                    "swap them, or leave one out"
                )
        return filters

    def validate_history(self, history: list[Turn] | None) -> list[Turn] | None:
        """A follow-up's history within NEWSDESK_MAX_HISTORY_TURNS turns and NEWSDESK_MAX_HISTORY_CHARS characters
        (what a request may make the answer read); InvalidInput beyond them."""
        if not history:
            return history
        settings = self.settings
        if len(history) > settings.max_history_turns:
            raise InvalidInput(
                f"the history has {len(history):,} turns; the limit is {settings.max_history_turns:,} "
                "(NEWSDESK_MAX_HISTORY_TURNS): send the latest turns only"
            )
        size = sum(len(turn.content) for turn in history)
        if size > settings.max_history_chars:
            raise InvalidInput(
                f"the history is {size:,} characters long; the limit is {settings.max_history_chars:,} "
                "(NEWSDESK_MAX_HISTORY_CHARS): send the latest turns only"
            )
        return history

    def search(
        self,
        query: str,
        k: int | None = None,
        filters: SearchFilters | None = None,
        as_of: datetime | None = None,
    ) -> list[Passage]:
        """Passages for a query; its time words ("last week", "latest") are read against as_of (default now)."""
        query = self.validate_question(query)
        filters = self.validate_filters(filters)
        return self.searcher.search(query, k or self.settings.top_k, filters, self.searcher.time_frame(query, as_of))

    def validate(self, question: Question) -> Question:
        """The question checked and cleaned (InvalidInput otherwise): its text, history and filters."""
        text = self.validate_question(question.question)
        self.validate_history(question.history)
        self.validate_filters(question.filters)
        return question if text == question.question else question.model_copy(update={"question": text})

    def ask(self, question: Question) -> Answer:
        """The checked answer: from the LLM when one is configured and usable, else extractive (see `mode`).
        The question's `as_of` is the time its "last week", "latest" or "in February" are read against
        (default now)."""
        return self.answer(question).answer

    def answer(self, question: Question) -> Outcome:
        """Like ask(), with the passages the answer was written from and the query that found them. A brief
        question ("what happened this week?", "catch me up on X") is answered with a brief (retrieval.briefing)."""
        question = self.validate(question)
        return self.brief_outcome(question) or self.chain.invoke(question)

    def ask_stream(self, question: Question) -> Iterator[StreamEvent]:
        """token events as the answer is written, then the checked citations, then done (the final Answer).
        The question is validated now, before the first event (InvalidInput is raised here, not when the
        events are first read)."""
        question = self.validate(question)
        if read_brief(question.question, question.as_of) is not None:
            return self._brief_stream(question)
        return self.chain.stream(question)

    def _brief_stream(self, question: Question) -> Iterator[StreamEvent]:
        outcome = self.brief_outcome(question)
        yield from self.brief_events(outcome) if outcome is not None else self.chain.stream(question)
