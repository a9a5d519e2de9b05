"""Our BM25 tokenizer must give exactly what bm25s.tokenize gives: the saved indexes were built with it.
(tests/integration/test_tokenize_benchmark.py checks the whole benchmark corpus.)"""

from __future__ import annotations

import bm25s

from retrieval.core.text import _stemmer, sentence_spans, tokenize
from tests.conftest import CORPUS, ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "small_corpus"

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


def test_the_shipped_and_fixture_articles_tokenize_as_bm25s_does() -> None:
    bodies = [path.read_text() for path in sorted([*CORPUS.glob("*.md"), *FIXTURES.glob("*.md")])]
    assert bodies
    texts = bodies + [body[s:e] for body in bodies for s, e in sentence_spans(body)]
    assert tokenize(texts) == _reference(texts)
