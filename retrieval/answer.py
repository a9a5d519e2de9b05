"""Writing the answer from numbered passages. Offline default: extractive answering.

The extractive answerer quotes the passage sentences that best answer the question (embedding similarity
plus lexical overlap), at most a few and preferring different articles, each followed by its [n]. When the
best evidence is weak it abstains and the closest passages are offered as related reading.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from retrieval.chunking import sentence_spans
from retrieval.embeddings import Embedder
from retrieval.lexical import tokenize
from retrieval.types import Passage

NOT_IN_CORPUS = "The articles in the corpus do not answer this question."


@dataclass(frozen=True)
class Draft:
    """An answer before the citation check: text with [n] markers (n = 1-based passage number)."""

    text: str
    abstained: bool
    quotes: dict[int, str]
    score: float = 0.0


@dataclass(frozen=True)
class ExtractiveOptions:
    abstain_below: float = 0.35
    max_sentences: int = 3
    candidates: int = 16
    dense_weight: float = 0.65
    keep_ratio: float = 0.85  # further sentences must score this close to the best


@dataclass(frozen=True)
class _Sentence:
    passage: int  # 1-based
    text: str
    article_id: str
    lexical: float


def _lexical_scores(question: str, sentences: list[str]) -> list[float]:
    """Share of the question's (idf-weighted) terms that a sentence contains."""
    q_terms = set(tokenize([question])[0])
    if not q_terms:
        return [0.0] * len(sentences)
    tokenized = [set(t) for t in tokenize(sentences)] if sentences else []
    df = Counter(term for terms in tokenized for term in terms & q_terms)
    n = len(sentences)
    idf = {t: math.log(1 + (n + 1) / (df.get(t, 0) + 0.5)) for t in q_terms}
    total = sum(idf.values())
    return [sum(idf[t] for t in terms & q_terms) / total for terms in tokenized]


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, embedder: Embedder, options: ExtractiveOptions | None = None) -> None:
        self.embedder = embedder
        self.options = options or ExtractiveOptions()

    def draft(self, question: str, passages: Sequence[Passage]) -> Draft:
        opts = self.options
        sentences: list[_Sentence] = []
        for number, passage in enumerate(passages, start=1):
            for start, end in sentence_spans(passage.text):
                text = passage.text[start:end]
                if len(text) >= 20 and re.search(r"[A-Za-z]", text):
                    sentences.append(_Sentence(number, text, passage.article_id, 0.0))
        if not sentences:
            return Draft(NOT_IN_CORPUS, True, {})
        lexical = _lexical_scores(question, [s.text for s in sentences])
        # rank prior: earlier passages were judged more relevant by the search
        prior = [0.02 * (1.0 / s.passage) for s in sentences]
        shortlist = sorted(range(len(sentences)), key=lambda i: -(lexical[i] + prior[i]))[: opts.candidates]
        vectors = self.embedder.embed_documents([sentences[i].text for i in shortlist])
        query = self.embedder.embed_query(question)
        dense = vectors @ query
        scored = sorted(
            ((opts.dense_weight * float(d) + (1 - opts.dense_weight) * lexical[i] + prior[i], i)
             for d, i in zip(dense, shortlist, strict=True)),
            reverse=True,
        )  # fmt: skip
        best_score = scored[0][0]
        if best_score < opts.abstain_below:
            return Draft(NOT_IN_CORPUS, True, {}, best_score)
        chosen: list[int] = []
        articles: set[str] = set()
        # first pass prefers sentences from articles not yet quoted; second pass fills up
        for prefer_new in (True, False):
            for score, i in scored:
                if len(chosen) >= opts.max_sentences or score < best_score * opts.keep_ratio:
                    break
                s = sentences[i]
                if i in chosen or (prefer_new and s.article_id in articles):
                    continue
                if any(sentences[j].text == s.text or sentences[j].passage == s.passage for j in chosen):
                    continue
                chosen.append(i)
                articles.add(s.article_id)
        chosen.sort(key=lambda i: (sentences[i].passage, sentences[i].text))
        quotes = {sentences[i].passage: sentences[i].text for i in chosen}
        lines = [f"{sentences[i].text} [{sentences[i].passage}]" for i in chosen]
        return Draft("\n".join(lines), False, quotes, best_score)
