"""Answer sentences embedded ahead of the questions: the background filler keeps the store in step with the
index, answers then embed only their question, and an answer is the same with or without the store."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from retrieval.core.types import Article, Question
from retrieval.embed.embedder import Embedder
from retrieval.service import Newsdesk
from tests.conftest import CORPUS, SEED_QUESTION
from tests.support.inside import chunk_metadata, chunk_texts, extractive, sentence_vectors, vector_cache_stats

pytestmark = pytest.mark.integration


class CountingEmbedder:
    """The real embedder, counting the texts each call embeds."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name, self.dim, self.max_tokens = inner.name, inner.dim, inner.max_tokens
        self.documents: list[int] = []

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.inner.count_tokens(texts)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.documents.append(len(texts))
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)


def _all_heads(service: Newsdesk) -> list[str]:
    return [h for text in chunk_texts(service).values() for h in extractive(service).sentence_heads(text)]


def test_the_filler_stores_every_sentence_and_answers_then_embed_only_the_question(
    make_settings: Callable[..., object], embedder: Embedder, tmp_path: Path
) -> None:
    settings = make_settings()
    before = Newsdesk(settings, embedder=embedder)  # type: ignore[arg-type]
    before.ingest([str(CORPUS)])
    expected = before.ask(Question(question=SEED_QUESTION))
    before.start_background()
    assert before.wait_for_background(60)
    heads = _all_heads(before)
    assert heads and len(sentence_vectors(before) or ()) == len(set(heads))
    stored = (sentence_vectors(before) or pytest.fail()).get(heads)
    for head in heads[:20]:  # the same vectors the model gives for the text on its own
        np.testing.assert_allclose(stored[head], embedder.embed_documents([head])[0], atol=1e-5)
    stats = before.stats()
    assert stats.sentence_vectors == len(set(heads)) and not stats.sentence_vectors_filling
    before.close()

    counting = CountingEmbedder(embedder)
    after = Newsdesk(settings, embedder=counting)  # type: ignore[arg-type]  # a restart: vectors read from disk
    answer = after.ask(Question(question=SEED_QUESTION))
    assert counting.documents == []  # no sentence embedded: all came from the store
    assert answer.answer == expected.answer and answer.citations == expected.citations
    hits, misses, _ = vector_cache_stats(after)
    assert misses == 1 and hits >= 1  # the question alone was embedded


def test_a_new_article_gets_its_sentences_embedded_after_the_sync(make_service: Callable[..., Newsdesk]) -> None:
    service = make_service()
    service.ingest([str(CORPUS)])
    service.start_background()
    assert service.wait_for_background(60)
    count = service.stats().sentence_vectors
    body = (
        "The city council of Lakeview approved a new tram line on Tuesday. The line will link the harbour with "
        "the university campus by 2027. Construction is expected to cost 410 million euros, the council said."
    )
    report = service.add_articles(
        [Article(id="lakeview-tram", title="Lakeview approves tram line", body=body, source="Lakeview Post")]
    )
    assert report.added
    assert service.wait_for_background(60)
    new_heads = {
        h
        for chunk_id, text in chunk_texts(service).items()
        if chunk_metadata(service)[chunk_id].get("article_id") == "lakeview-tram"
        for h in extractive(service).sentence_heads(text)
    }
    assert len(new_heads) >= 3 and service.stats().sentence_vectors == count + len(new_heads)
    assert (sentence_vectors(service) or pytest.fail()).missing(_all_heads(service)) == []
    service.close()


def test_the_store_can_be_turned_off(make_service: Callable[..., Newsdesk], tmp_path: Path) -> None:
    service = make_service(sentence_vectors=False)
    service.ingest([str(CORPUS)])
    service.start_background()  # a no-op
    assert service.wait_for_background(1)
    assert sentence_vectors(service) is None and service.stats().sentence_vectors == 0
    assert not service.ask(Question(question=SEED_QUESTION)).abstained
    assert not (tmp_path / "data" / "sentence-vectors").exists()


def test_an_unwritable_store_is_skipped_and_answers_still_work(
    make_service: Callable[..., Newsdesk], tmp_path: Path
) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "sentence-vectors").write_text("a file where the store's folder should be")
    service = make_service()
    assert sentence_vectors(service) is None
    service.ingest([str(CORPUS)])
    service.start_background()
    assert not service.ask(Question(question=SEED_QUESTION)).abstained and service.stats().sentence_vectors == 0
