"""Our BM25 tokenizer must give exactly what bm25s.tokenize gives: the saved indexes were built with it."""

from __future__ import annotations

import json

import bm25s

from retrieval.chunking import sentence_spans
from retrieval.lexical import _stemmer, tokenize
from tests.conftest import MULTIHOP

ODD = [
    "",
    "a",
    "I",
    "Ünïcode café — naïve façade 2023's",
    "U.S. e-mail co-op 3.5% $10bn, ‘quoted’ “words” and the THE The",
    "snake_case and CamelCase, ÉCOLE, straße, 東京 2024年",
    "Running runners ran; connection connected connecting",
]


def _reference(texts: list[str]) -> list[list[str]]:
    return bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer, return_ids=False, show_progress=False)


def test_odd_texts_tokenize_as_bm25s_does() -> None:
    assert tokenize(ODD) == _reference(ODD)
    assert tokenize([]) == []


def test_the_benchmark_articles_sentences_and_questions_tokenize_as_bm25s_does() -> None:
    articles = json.loads((MULTIHOP / "corpus.json").read_text())
    questions = json.loads((MULTIHOP / "queries-dev.json").read_text())
    texts = [a["title"] for a in articles] + [a["body"] for a in articles] + [q["query"] for q in questions]
    texts += [a["body"][s:e] for a in articles[:60] for s, e in sentence_spans(a["body"])]
    assert tokenize(texts) == _reference(texts)
