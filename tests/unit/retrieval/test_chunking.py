from __future__ import annotations

import pytest

from retrieval.core.text import sentence_spans
from retrieval.core.types import Article
from retrieval.embed.embedder import _Tokenizer, packaged_model_path
from retrieval.ingest.chunking import chunk_article


@pytest.fixture(scope="module")
def tokenizer() -> _Tokenizer:
    return _Tokenizer(packaged_model_path())


def _article(body: str, title: str = "A title", **fields: str) -> Article:
    return Article(id="a1", title=title, body=body, **fields)


def test_sentences_respect_abbreviations_and_keep_offsets() -> None:
    text = "Mr. Smith went to Washington. He met Dr. Jones at 5 p.m. on Jan. 3. Then U.S. officials spoke!  Why?"
    spans = sentence_spans(text)
    sentences = [text[s:e] for s, e in spans]
    assert sentences == [
        "Mr. Smith went to Washington.",
        "He met Dr. Jones at 5 p.m. on Jan. 3.",
        "Then U.S. officials spoke!",
        "Why?",
    ]


def test_paragraph_breaks_end_sentences() -> None:
    text = "A headline without a stop\n\nThe body starts here. And goes on."
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "A headline without a stop",
        "The body starts here.",
        "And goes on.",
    ]


def test_chunks_fit_the_model_window_and_are_verbatim(tokenizer: _Tokenizer) -> None:
    sentences = [
        f"Sentence number {i} talks about electric vehicles, batteries and factories in China." for i in range(80)
    ]
    article = _article(" ".join(sentences), source="Outlet", published_at="2023-10-05T10:00:00")
    chunks = chunk_article(article, tokenizer.count, max_tokens=256, overlap_sentences=1)
    assert len(chunks) > 3
    for chunk in chunks:
        assert chunk.text in article.body  # a verbatim slice
        assert chunk.embed_text.startswith("A title | Outlet | 2023-10-05\n")
        assert tokenizer.count([chunk.embed_text])[0] + 2 <= 256
        assert chunk.text.endswith(".") and chunk.text[0].isupper()  # whole sentences only
    # overlap: each chunk starts with the last sentence of the previous one
    for before, after in zip(chunks, chunks[1:], strict=False):
        last_sentence = before.text.rsplit(". ", 1)[-1]
        assert after.text.startswith(last_sentence)
    covered: set[str] = set()
    for chunk in chunks:
        covered.update(s for s in sentences if s in chunk.text)
    assert covered == set(sentences)  # nothing lost


def test_chunk_ids_are_stable_and_change_with_content(tokenizer: _Tokenizer) -> None:
    article = _article("One sentence here. Another one there.")
    first = chunk_article(article, tokenizer.count)
    again = chunk_article(article, tokenizer.count)
    assert [c.id for c in first] == [c.id for c in again]
    changed = chunk_article(_article("One sentence here. Another one changed."), tokenizer.count)
    assert first[0].id != changed[0].id
    assert first[0].id.startswith("a1:0:")


def test_a_sentence_longer_than_the_window_is_split_at_words(tokenizer: _Tokenizer) -> None:
    long_sentence = " ".join(f"word{i}" for i in range(600)) + "."
    article = _article(f"Short start. {long_sentence} Short end.")
    chunks = chunk_article(article, tokenizer.count, max_tokens=128)
    assert len(chunks) >= 4
    for chunk in chunks:
        assert tokenizer.count([chunk.embed_text])[0] + 2 <= 128
        assert chunk.text in article.body
    words = " ".join(c.text for c in chunks)
    assert all(f"word{i}" in words for i in range(600))


def test_a_huge_title_does_not_overflow_the_window(tokenizer: _Tokenizer) -> None:
    article = _article("A normal body sentence. " * 30, title="Enormous title " * 100)
    for chunk in chunk_article(article, tokenizer.count):
        assert tokenizer.count([chunk.embed_text])[0] + 2 <= 256
