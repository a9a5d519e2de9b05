"""Work a long-running process (serve, bot) does ahead of the questions: the answer sentences of every chunk
embedded and their facts tagged, each by a low-priority filler thread, so an answer finds them ready."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Mapping

from retrieval.answer.extractive import ExtractiveAnswerer
from retrieval.answer.facts import EntityTagger, FactStore
from retrieval.core.config import Settings
from retrieval.embed.embedder import Embedder
from retrieval.embed.sentence_vectors import SentenceFiller, SentenceVectors

log = logging.getLogger(__name__)


def open_sentence_vectors(settings: Settings, embedder: Embedder) -> SentenceVectors | None:
    directory = settings.data_dir / "sentence-vectors" / settings.collection
    try:
        return SentenceVectors(directory, embedder.name, embedder.dim)
    except OSError as exc:  # a cache: answers still work without it, each embedding its own sentences
        log.warning("sentence vectors unavailable (%s: %s); answers will embed their sentences", directory, exc)
        return None


def open_facts(settings: Settings) -> FactStore | None:
    path = settings.data_dir / "sentence-facts" / f"{settings.collection}.sqlite3"
    try:
        return FactStore(path, EntityTagger.name)
    except (OSError, sqlite3.Error) as exc:  # a cache, as the sentence vectors are
        log.warning("sentence facts unavailable (%s: %s); answers will tag their sentences", path, exc)
        return None


class Fillers:
    """The filler threads: none until `start`; woken after a sync that added text; stopped by `stop`."""

    def __init__(self) -> None:
        self._fillers: list[SentenceFiller] = []

    def start(
        self,
        vectors: SentenceVectors,
        facts: FactStore | None,
        chunk_texts: Callable[[], Mapping[str, str]],
        extractive: ExtractiveAnswerer,
        embedder: Embedder,
    ) -> None:
        if self._fillers:
            return
        embed = getattr(embedder, "embed_here", embedder.embed_documents)
        self._fillers = [SentenceFiller(vectors, chunk_texts, extractive.sentence_heads, embed)]
        if facts is not None:
            # its own model: the filler runs at the lowest priority, and answers must never wait on a lock it holds
            tag = EntityTagger(facts).run
            self._fillers.append(SentenceFiller(facts, chunk_texts, extractive.sentences, tag, "tagged"))
        extractive.tagger.load()
        for filler in self._fillers:
            filler.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the work is done (True) or the timeout passes (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        return all(
            filler.wait(None if deadline is None else max(0.0, deadline - time.monotonic())) for filler in self._fillers
        )

    def wake(self) -> None:
        for filler in self._fillers:
            filler.wake()

    def stop(self) -> None:
        for filler in self._fillers:
            filler.stop()
        self._fillers = []

    @property
    def pending(self) -> int:
        """Answer sentences still to embed."""
        return self._fillers[0].pending if self._fillers else 0

    @property
    def filling(self) -> bool:
        return any(filler.filling for filler in self._fillers)
