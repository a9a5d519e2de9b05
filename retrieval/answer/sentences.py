"""A passage's quotable sentences as the extractive answerer reads them, and the features that compare them with
the question (wording, names, agreement across articles)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from retrieval.answer.facts import Facts
from retrieval.core.text import NAME, NOT_NAMES, POSSESSIVE, sentence_spans, tokenize
from retrieval.core.types import Passage


@dataclass(frozen=True)
class Sentence:
    passage: int  # 1-based
    start: int  # offset in the passage
    text: str
    article_id: str
    terms: frozenset[str]  # its BM25 terms
    names: frozenset[str]  # names(text)
    facts: Facts  # the named entities, numbers and dates it holds (retrieval/facts.py)
    follows: frozenset[str] = frozenset()  # the names of the sentence before it, when it refers back to them


@dataclass(frozen=True)
class Analysed:
    """What draft() needs of a passage's quotable sentences, whatever the question: kept per passage text."""

    spans: tuple[tuple[int, int], ...]
    terms: tuple[frozenset[str], ...]
    names: tuple[frozenset[str], ...]
    facts: tuple[Facts, ...]
    words: str  # the passage's text, normalised as facts are (to see which passages name a fact)
    follows: tuple[frozenset[str], ...] = ()  # per sentence: the names before it, when it refers back to them
    title_names: frozenset[str] = frozenset()


def names(text: str) -> set[str]:
    """Lower-cased capitalised words (proper names, mostly), leaving out common words that start a sentence."""
    found = {POSSESSIVE.sub("", m.group().lower().rstrip(".")) for m in NAME.finditer(text)}
    return {name for name in found if name and name not in NOT_NAMES}


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


def names_asked(question: str) -> set[str]:
    """The names a question asks about (lowercased; its first word is not read as one: it is capitalised anyway)."""
    return names(question.split(" ", 1)[1] if " " in question else "")


def name_coverage(question: str, passages: Sequence[Passage]) -> float:
    """Share of the names in the question (after its first word) found in the passages or their titles/outlets."""
    asked = names_asked(question)
    if not asked:
        return 1.0
    seen = " ".join(f"{p.title} {p.source or ''} {p.text}" for p in passages).lower()
    return sum(1 for name in asked if name in seen) / len(asked)


def name_match(sentences: list[Sentence], passages: Sequence[Passage], question: str) -> list[float]:
    """Share of the question's names (those some passage text mentions) that each sentence mentions."""
    texts = [p.text.lower() for p in passages]
    asked = [n for n in names_asked(question) if any(n in t for t in texts)]
    if not asked:
        return [0.0] * len(sentences)
    return [sum(n in s.text.lower() for n in asked) / len(asked) for s in sentences]


def agreement(sentences: list[Sentence], passages: Sequence[Passage], question: str) -> list[float]:
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


def restates(sentence: Sentence, asked: frozenset[str]) -> bool:
    """A question, or a sentence that repeats most of the question and adds next to nothing (no number, under
    a quarter of its terms new): it only echoes what was asked, so it answers nothing however well it matches.
    A fact sentence of a long multi-part question holds mostly question terms too, but only a part of them."""
    if sentence.text.rstrip("\"'”’) ").endswith("?"):
        return True
    terms = sentence.terms
    if not terms or not asked or _DIGIT.search(sentence.text):
        return False
    return len(terms - asked) < 0.25 * len(terms) and len(terms & asked) >= 0.6 * len(asked)


def answer_sentences(text: str) -> list[tuple[int, int]]:
    """The spans of a passage's sentences that may be quoted: 20 characters or more, with a letter."""
    return [(s, e) for s, e in sentence_spans(text) if e - s >= 20 and _LETTER.search(text, s, e)]
