"""The benchmark's files as they are (../shared/data/multihop-rag): the loader reads every article, and our BM25
tokenizer gives exactly what bm25s.tokenize gives on the whole corpus and its questions."""

from __future__ import annotations

import json

import bm25s
import pytest

from retrieval.core.text import _stemmer, sentence_spans, tokenize
from retrieval.core.types import Article
from retrieval.ingest.sources import load_sources
from tests.conftest import MULTIHOP

pytestmark = pytest.mark.integration


def _reference(texts: list[str]) -> list[list[str]]:
    return bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer, return_ids=False, show_progress=False)


def test_the_benchmark_articles_sentences_and_questions_tokenize_as_bm25s_does() -> None:
    articles = json.loads((MULTIHOP / "corpus.json").read_text())
    questions = json.loads((MULTIHOP / "queries-dev.json").read_text())
    texts = [a["title"] for a in articles] + [a["body"] for a in articles] + [q["query"] for q in questions]
    texts += [a["body"][s:e] for a in articles[:60] for s, e in sentence_spans(a["body"])]
    assert tokenize(texts) == _reference(texts)


def test_multihop_corpus_json_loads_as_it_is() -> None:
    items = list(load_sources([str(MULTIHOP / "corpus.json")]))
    articles = [i for i in items if isinstance(i, Article)]
    assert len(articles) == 609 and len(items) == 609
    assert len({a.id for a in articles}) == 609
    first = articles[0]
    assert first.source and first.url and first.published_at and first.category
