"""[n] markers <-> passages. Every answer passes through check() before it leaves the service.

check() keeps only markers that name a given passage, renumbers them in order of first use, and builds the
citation list from exactly the passages cited, each with a quote that appears verbatim in its passage.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from retrieval.chunking import sentence_spans
from retrieval.types import Answer, Citation, Passage

_GROUP = re.compile(r"\[(\s*\d+\s*(?:[,;]\s*\d+\s*)+)\]")  # [1, 2] -> [1][2]
MARKER = re.compile(r"\[(\d{1,6})\]")
_WORD = re.compile(r"\w+")


def _expand_groups(text: str) -> str:
    return _GROUP.sub(lambda m: "".join(f"[{n.strip()}]" for n in re.split(r"[,;]", m.group(1))), text)


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    return text.strip()


def best_sentence(passage_text: str, claim: str) -> str:
    """The passage sentence that shares the most words with the claim: the quote for an LLM's [n]."""
    claim_words = {w.lower() for w in _WORD.findall(claim)}
    best, best_score = passage_text, -1.0
    for start, end in sentence_spans(passage_text):
        sentence = passage_text[start:end]
        words = {w.lower() for w in _WORD.findall(sentence)}
        score = len(words & claim_words) / (1 + len(words) ** 0.5)
        if score > best_score:
            best, best_score = sentence, score
    return best


def _claim_around(text: str, position: int) -> str:
    start = max(text.rfind(".", 0, position - 1), text.rfind("\n", 0, position - 1)) + 1
    return text[start:position]


def check(
    text: str, passages: Sequence[Passage], quotes: Mapping[int, str] | None = None
) -> tuple[str, list[Citation]]:
    """(text with valid, renumbered markers; the citations they resolve to, in order)."""
    text = _expand_groups(text)
    renumber: dict[int, int] = {}
    claims: dict[int, str] = {}

    def replace(match: re.Match[str]) -> str:
        old = int(match.group(1))
        if not 1 <= old <= len(passages):
            return ""
        if old not in renumber:
            renumber[old] = len(renumber) + 1
            claims[old] = _claim_around(match.string, match.start())
        return f"[{renumber[old]}]"

    checked = _tidy(MARKER.sub(replace, text))
    citations: list[Citation] = []
    for old, new in sorted(renumber.items(), key=lambda item: item[1]):
        passage = passages[old - 1]
        quote = (quotes or {}).get(old)
        if not quote or quote not in passage.text:
            quote = best_sentence(passage.text, claims[old])
        citations.append(
            Citation(
                n=new,
                article_id=passage.article_id,
                title=passage.title,
                source=passage.source,
                url=passage.url,
                published_at=passage.published_at,
                quote=quote,
            )
        )
    return checked, citations


def problems(answer: Answer, passages: Sequence[Passage]) -> list[str]:
    """Why an answer fails the citation check (empty when it passes)."""
    issues: list[str] = []
    used = [int(n) for n in MARKER.findall(answer.answer)]
    first_use = list(dict.fromkeys(used))
    if first_use != list(range(1, len(first_use) + 1)):
        issues.append(f"markers not numbered in order of first use: {first_use}")
    if [c.n for c in answer.citations] != first_use:
        issues.append(f"citations {[c.n for c in answer.citations]} do not match markers {first_use}")
    texts_by_article: dict[str, list[str]] = {}
    for p in passages:
        texts_by_article.setdefault(p.article_id, []).append(p.text)
    for c in answer.citations:
        if not any(c.quote and c.quote in t for t in texts_by_article.get(c.article_id, [])):
            issues.append(f"quote of [{c.n}] is not verbatim in a passage of article {c.article_id}")
    return issues
