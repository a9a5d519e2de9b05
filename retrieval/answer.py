"""Writing the answer from numbered passages. Offline default: extractive answering.

The extractive answerer quotes the passage sentences that best answer the question, at most a few and
preferring different articles, each followed by its [n]. A sentence's score mixes:

- meaning: cosine similarity of sentence and question (the embedder), for a shortlist of sentences;
- wording: the share of the question's idf-weighted terms the sentence contains;
- its passage: the search's own score for the passage the sentence is in;
- names: the sentence mentions the names the question asks about (those the passages mention at all);
- agreement: the sentence names something the question does not (a candidate answer), and other
  retrieved articles name it too; multi-article questions are answered by what their articles share.

When the best evidence is weak, or the names the question asks about appear nowhere in the passages, it
abstains and the closest passages are offered as related reading. The weights and the threshold are
calibrated on MultiHop-RAG development questions by bench/answer.py (see bench/results/answer.json).
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from retrieval.chunking import sentence_spans
from retrieval.embeddings import Embedder
from retrieval.lexical import tokenize
from retrieval.sentence_vectors import SentenceVectors
from retrieval.types import Passage

NOT_IN_CORPUS = "The articles in the corpus do not answer this question."
ANALYSED_PASSAGES = 4096  # passages whose sentences' terms and names are kept (a few kB each)

_NAME = re.compile(r"\b[A-Z][\w'’&.-]*[\w]|\b[A-Z]\b")
_POSSESSIVE = re.compile(r"['’]s?$")
_COMMON = set(
    "a an and as at but by for from he her his how i if in is it its no not of on or our she so that the their "
    "then there these they this to was we what when where which while who why will with yes you after before "
    "between both does did do has have had are were be been according considering based following given mr ms "
    "mrs dr".split()
)


@dataclass(frozen=True)
class Draft:
    """An answer before the citation check: text with [n] markers (n = 1-based passage number)."""

    text: str
    abstained: bool
    quotes: dict[int, list[str]]  # passage number -> the sentences quoted from it, in answer order
    score: float = 0.0  # confidence: the best sentence's score, lowered when the question's names are missing


@dataclass(frozen=True)
class ExtractiveOptions:
    abstain_below: float = 0.7354
    max_sentences: int = 4
    candidates: int = 8  # sentences shortlisted by the cheap features before embedding
    embed_chars: int = 140
    dense_weight: float = 0.5  # meaning vs wording
    agreement_weight: float = 0.1
    name_weight: float = 0.0
    passage_weight: float = 0.4  # the search's own score of the sentence's passage
    coverage_weight: float = 0.3  # how much missing question names lower the confidence
    keep_ratio: float = 0.7  # further sentences must score this close to the best


@dataclass(frozen=True)
class _Sentence:
    passage: int  # 1-based
    start: int  # offset in the passage
    text: str
    article_id: str
    terms: frozenset[str]  # its BM25 terms
    names: frozenset[str]  # names(text)


@dataclass(frozen=True)
class _Analysed:
    """What draft() needs of a passage's quotable sentences, whatever the question: kept per passage text."""

    spans: tuple[tuple[int, int], ...]
    terms: tuple[frozenset[str], ...]
    names: tuple[frozenset[str], ...]


def names(text: str) -> set[str]:
    """Lower-cased capitalised words (proper names, mostly), leaving out common words that start a sentence."""
    found = {_POSSESSIVE.sub("", m.group().lower().rstrip(".")) for m in _NAME.finditer(text)}
    return {name for name in found if name and name not in _COMMON}


def lexical_scores(question: str, sentences: Sequence[frozenset[str]]) -> list[float]:
    """Share of the question's (idf-weighted) terms that a sentence (its BM25 terms) contains."""
    q_terms = set(tokenize([question])[0])
    if not q_terms:
        return [0.0] * len(sentences)
    df = Counter(term for terms in sentences for term in terms & q_terms)
    n = len(sentences)
    idf = {t: math.log(1 + (n + 1) / (df.get(t, 0) + 0.5)) for t in q_terms}
    total = sum(idf.values())
    return [sum(idf[t] for t in terms & q_terms) / total for terms in sentences]


def _asked_names(question: str) -> set[str]:
    return names(question.split(" ", 1)[1] if " " in question else "")  # the first word is capitalised anyway


def name_coverage(question: str, passages: Sequence[Passage]) -> float:
    """Share of the names in the question (after its first word) found in the passages or their titles/outlets."""
    asked = _asked_names(question)
    if not asked:
        return 1.0
    seen = " ".join(f"{p.title} {p.source or ''} {p.text}" for p in passages).lower()
    return sum(1 for name in asked if name in seen) / len(asked)


def _name_match(sentences: list[_Sentence], passages: Sequence[Passage], question: str) -> list[float]:
    """Share of the question's names (those some passage text mentions) that each sentence mentions."""
    texts = [p.text.lower() for p in passages]
    asked = [n for n in _asked_names(question) if any(n in t for t in texts)]
    if not asked:
        return [0.0] * len(sentences)
    return [sum(n in s.text.lower() for n in asked) / len(asked) for s in sentences]


def _agreement(sentences: list[_Sentence], passages: Sequence[Passage], question: str) -> list[float]:
    """For each sentence, the largest share of retrieved articles that mention a name it adds to the question."""
    asked = names(question) | {w.lower() for w in re.findall(r"\w+", question)}
    articles: dict[str, str] = {}
    for p in passages:
        articles[p.article_id] = articles.get(p.article_id, "") + f" {p.title} {p.text}".lower()
    if len(articles) < 2:
        return [0.0] * len(sentences)
    support: dict[str, float] = {}
    scores = []
    for s in sentences:
        best = 0.0
        for name in s.names - asked:
            if name not in support:
                support[name] = sum(name in text for text in articles.values()) / len(articles)
            best = max(best, support[name])
        scores.append(best)
    return scores


_LETTER = re.compile(r"[A-Za-z]")
_DIGIT = re.compile(r"\d")


def restates(sentence: _Sentence, asked: frozenset[str]) -> bool:
    """A question, or a sentence that repeats most of the question and adds next to nothing (no number, under
    a quarter of its terms new): it only echoes what was asked, so it answers nothing however well it matches.
    A fact sentence of a long multi-part question holds mostly question terms too, but only a part of them."""
    if sentence.text.rstrip("\"'”’) ").endswith("?"):
        return True
    terms = sentence.terms
    if not terms or not asked or _DIGIT.search(sentence.text):
        return False
    return len(terms - asked) < 0.25 * len(terms) and len(terms & asked) >= 0.6 * len(asked)


def _answer_sentences(text: str) -> list[tuple[int, int]]:
    """The spans of a passage's sentences that may be quoted: 20 characters or more, with a letter."""
    return [(s, e) for s, e in sentence_spans(text) if e - s >= 20 and _LETTER.search(text, s, e)]


class RememberedQueries:
    """An embedder that remembers its recent vectors: the answerer embeds the question the search just did.

    An LRU over texts (questions and the answer sentences scored for them); only texts not remembered are
    embedded. Questions about the news cluster on the same stories, so the same sentences come back: on the
    MultiHop-RAG dev questions about half of the sentences to score were already remembered after a few
    hundred questions. A vector is 1.5 kB; the default 20,000 entries cap the cache near 40 MB.
    """

    def __init__(self, embedder: Embedder, size: int = 20_000, stored: SentenceVectors | None = None) -> None:
        """`stored`: sentence vectors embedded ahead of time, looked up before anything is embedded."""
        self.embedder = embedder
        self.stored = stored
        self.name, self.dim, self.max_tokens = embedder.name, embedder.dim, embedder.max_tokens
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def stats(self) -> tuple[int, int, int]:
        """(lookups answered from memory, lookups embedded, vectors remembered now)"""
        with self._lock:
            return self.hits, self.misses, len(self._vectors)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.embedder.count_tokens(texts)

    def _recall(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        with self._lock:
            found = {t: self._vectors[t] for t in texts if t in self._vectors}
            for text in found:
                self._vectors.move_to_end(text)
            self.hits += len(found)
        return found

    def _remember(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        with self._lock:
            for text, vector in zip(texts, vectors, strict=True):
                self._vectors[text] = vector
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        found = self._recall(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing and self.stored is not None:
            stored = self.stored.get(missing)
            if stored:
                with self._lock:
                    self.hits += len(stored)
                found.update(stored)
                missing = [t for t in missing if t not in stored]
        if missing:
            with self._lock:
                self.misses += len(missing)
            fresh = self._embed(missing)
            self._remember(missing, fresh)
            found.update(zip(missing, fresh, strict=True))
        return np.stack([found[t] for t in texts]) if texts else np.zeros((0, self.dim), dtype=np.float32)

    def _embed(self, texts: list[str]) -> np.ndarray:
        # the embedder runs a small batch on every core at once when it can (see OnnxEmbedder)
        return np.array(self.embedder.embed_documents(texts), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        found = self._recall([text])
        if text in found:
            return found[text].copy()
        with self._lock:
            self.misses += 1
        vector = np.array(self.embedder.embed_query(text), dtype=np.float32)
        self._remember([text], vector[None, :])
        return vector.copy()


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, embedder: Embedder, options: ExtractiveOptions | None = None) -> None:
        self.embedder = embedder
        self.options = options or ExtractiveOptions()
        self._analyses: OrderedDict[str, _Analysed] = OrderedDict()  # LRU, by passage text
        self._lock = threading.Lock()

    def sentence_heads(self, text: str) -> list[str]:
        """What draft() would embed for each sentence of a passage with this text (for SentenceVectors)."""
        return [text[start:end][: self.options.embed_chars] for start, end in _answer_sentences(text)]

    def _analysed(self, text: str) -> _Analysed:
        """A passage's sentences with their terms and names: the same passages come back for many questions."""
        with self._lock:
            found = self._analyses.get(text)
            if found is not None:
                self._analyses.move_to_end(text)
                return found
        spans = tuple(_answer_sentences(text))
        sentences = [text[start:end] for start, end in spans]
        analysed = _Analysed(
            spans,
            tuple(frozenset(terms) for terms in tokenize(sentences)),
            tuple(frozenset(names(sentence)) for sentence in sentences),
        )
        with self._lock:
            self._analyses[text] = analysed
            while len(self._analyses) > ANALYSED_PASSAGES:
                self._analyses.popitem(last=False)
        return analysed

    def draft(self, question: str, passages: Sequence[Passage]) -> Draft:
        opts = self.options
        sentences = []
        for number, passage in enumerate(passages, start=1):
            analysed = self._analysed(passage.text)
            for (start, end), terms, found in zip(analysed.spans, analysed.terms, analysed.names, strict=True):
                sentences.append(_Sentence(number, start, passage.text[start:end], passage.article_id, terms, found))
        asked = frozenset(tokenize([question])[0])
        sentences = [s for s in sentences if not restates(s, asked)]
        if not sentences:
            return Draft(NOT_IN_CORPUS, True, {})
        lexical = lexical_scores(question, [s.terms for s in sentences])
        agreement = _agreement(sentences, passages, question)
        named = _name_match(sentences, passages, question) if opts.name_weight else [0.0] * len(sentences)
        top = max((p.score for p in passages), default=0.0)
        relevance = [max(passages[s.passage - 1].score, 0.0) / top if top > 0 else 0.0 for s in sentences]
        cheap = [  # everything but meaning, plus a small prior for the search's rank
            (1 - opts.dense_weight) * lexical[i]
            + opts.agreement_weight * agreement[i]
            + opts.name_weight * named[i]
            + opts.passage_weight * relevance[i]
            + 0.02 / s.passage
            for i, s in enumerate(sentences)
        ]
        # Embedding is the expensive part (~7 ms a sentence on one core): only a shortlist gets it.
        shortlist = sorted(range(len(sentences)), key=lambda i: -cheap[i])[: opts.candidates]
        # a sentence's opening is enough to judge its meaning, and caps the cost of very long ones
        heads = [sentences[i].text[: opts.embed_chars] for i in shortlist]
        dense = self.embedder.embed_documents(heads) @ self.embedder.embed_query(question)
        scored = sorted(
            ((opts.dense_weight * float(d) + cheap[i], i) for d, i in zip(dense, shortlist, strict=True)), reverse=True
        )
        best_score = scored[0][0]
        confidence = best_score - opts.coverage_weight * (1 - name_coverage(question, passages))
        if confidence < opts.abstain_below:
            return Draft(NOT_IN_CORPUS, True, {}, confidence)
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
                if any(
                    sentences[j].text == s.text or (prefer_new and sentences[j].passage == s.passage) for j in chosen
                ):
                    continue
                chosen.append(i)
                articles.add(s.article_id)
        chosen.sort(key=lambda i: (sentences[i].passage, sentences[i].start))
        quotes: dict[int, list[str]] = {}
        for i in chosen:
            quotes.setdefault(sentences[i].passage, []).append(sentences[i].text)
        lines = [f"{sentences[i].text} [{sentences[i].passage}]" for i in chosen]
        return Draft("\n".join(lines), False, quotes, confidence)
