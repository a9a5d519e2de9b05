"""Which sentences an extractive answer quotes, in what order: the best first and one of each further article the
question asks about (answer-first), or several in passage order (the benchmark's baseline)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from retrieval.answer.sentences import Sentence, names_asked
from retrieval.core.types import Passage

_BOTH = re.compile(r"\b(?:both|each|all|several|multiple|two|three|four)\b", re.I)


def articles_asked(question: str, passages: Sequence[Passage], most: int) -> int:
    """How many articles a question spans: the outlets it names among the passages' ("according to TechCrunch
    and The Verge"); at least two when it says both, each or several; and for a question about several
    subjects ("Xiaomi's plans and Apple's suppliers"), the retrieved articles whose titles each add a name the
    question asks about. One for a plain factual question."""
    lowered = question.lower()
    outlets = {p.source.lower() for p in passages if p.source and p.source.lower() in lowered}
    wanted = max(len(outlets), 2 if _BOTH.search(question) else 1)
    asked, subjects = names_asked(question), 0
    covered: set[str] = set()
    for passage in passages:
        named = {name for name in asked if name in passage.title.lower()} - covered
        if named:
            covered |= named
            subjects += 1
    return max(1, min(most, max(wanted, subjects)))


def answer_first(sentences: list[Sentence], quotable: list[tuple[float, int]], articles: int) -> list[int]:
    """The best sentence first, then the best of each further article, while `articles` are not quoted."""
    chosen: list[int] = []
    seen: set[str] = set()
    for _, i in quotable:
        if len(chosen) >= articles:
            break
        if sentences[i].article_id in seen:
            continue
        chosen.append(i)
        seen.add(sentences[i].article_id)
    return chosen


def lead_with(quotable: list[tuple[float, int]], wanted: Callable[[int], bool]) -> list[tuple[float, int]]:
    """The quotable sentences with the best one that is wanted first (unchanged when none is)."""
    lead = next((item for item in quotable if wanted(item[1])), None)
    return quotable if lead is None else [lead, *(item for item in quotable if item != lead)]


def several(sentences: list[Sentence], quotable: list[tuple[float, int]], most: int) -> list[int]:
    """Up to `most` sentences, preferring articles and passages not quoted yet, in passage order."""
    chosen: list[int] = []
    articles: set[str] = set()
    for prefer_new in (True, False):
        for _, i in quotable:
            s = sentences[i]
            if len(chosen) >= most:
                break
            if i in chosen or (prefer_new and s.article_id in articles):
                continue
            if any(sentences[j].text == s.text or (prefer_new and sentences[j].passage == s.passage) for j in chosen):
                continue
            chosen.append(i)
            articles.add(s.article_id)
    return sorted(chosen, key=lambda i: (sentences[i].passage, sentences[i].start))
