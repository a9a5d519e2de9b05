"""[n] markers <-> passages. Every answer passes through check() before it leaves the service.

normalise() turns the marker forms real models write (`[1, 2]`, `[1-3]`, `【1】`, `(1)` after a sentence,
`[Passage 1]`, `[Source 1]`, `[^1]`) into plain `[n]`. check() keeps only markers that name a given passage,
renumbers them in order of first use, and builds the citation list from exactly the passages cited, each
with the quotes (verbatim sentences of its passage) that the sentences citing it rest on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from retrieval.core.text import WORD, sentence_spans
from retrieval.core.types import Answer, Citation, Passage

MARKER = re.compile(r"\[\s*(\d+)\s*\]")
_GROUP = re.compile(r"\[(\s*\d+\s*(?:[,;]\s*\d+\s*)+)\]")  # [1, 2] -> [1][2]
_MAX_DIGITS = 6  # int() of a very long digit run is slow (and refused beyond 4300 digits)


def marker_number(match: re.Match[str]) -> int | None:
    digits = match.group(1)
    return int(digits) if len(digits) <= _MAX_DIGITS else None


_LIST = r"\d{1,3}(?:\s*(?:[,;]|and|&)\s*\d{1,3})*"
_LABEL = r"(?:passages?|sources?|articles?|excerpts?|documents?|docs?|refs?|references?)\s*#?\s*"


def _numbers(listed: str) -> list[str]:
    return re.findall(r"\d+", listed)


def _markers(numbers: Sequence[str | int]) -> str:
    return "".join(f"[{n}]" for n in numbers)


def _range(match: re.Match[str]) -> str:
    first, last = int(match.group(1)), int(match.group(2))
    if first > last or last - first > 9:  # not a citation range we can trust: keep only its ends
        return _markers([first, last])
    return _markers(range(first, last + 1))


_FORMS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"[【〔［]\s*(" + _LIST + r")\s*[】〕］]"), lambda m: _markers(_numbers(m.group(1)))),
    (re.compile(r"\[\s*\^?\s*" + _LABEL + "(" + _LIST + r")\s*\]", re.I), lambda m: _markers(_numbers(m.group(1)))),
    (re.compile(r"\(\s*" + _LABEL + "(" + _LIST + r")\s*\)", re.I), lambda m: _markers(_numbers(m.group(1)))),
    (re.compile(r"\[\s*(\d{1,3})\s*[-–—]\s*(\d{1,3})\s*\]"), _range),
    (re.compile(r"\[\^(\d{1,3})\]"), lambda m: f"[{m.group(1)}]"),
    # (1) or (1, 2) closing a sentence or clause; not "(1) first, (2) second" at the start of a clause
    (
        re.compile(r"(?<=[\w.,;:!?\"'”’)\]])\s*\((" + _LIST + r")\)(?=\s*(?:[.,;:!?]|$|\n|\[|\s[A-Z]))", re.M),
        lambda m: " " + _markers(_numbers(m.group(1))),
    ),
]


def normalise(text: str) -> str:
    """The marker forms real models write, as plain [n] markers (whether n names a passage is check()'s job)."""
    for pattern, replacement in _FORMS:
        text = pattern.sub(replacement, text)
    text = re.sub(r"\[\s*(" + _LIST + r")\s*\]", lambda m: _markers(_numbers(m.group(1))), text)
    return re.sub(r"(?<=[^\s\[(\]])(\[\d+\])", r" \1", text)


def strip_markers(text: str) -> str:
    """The text without any [n] marker (for comparing answers with gold answers)."""
    return _tidy(MARKER.sub("", _expand_groups(text)))


def _expand_groups(text: str) -> str:
    return _GROUP.sub(lambda m: "".join(f"[{n.strip()}]" for n in re.split(r"[,;]", m.group(1))), text)


def _drop_invalid(text: str, count: int) -> str:
    """Remove markers naming no passage until none is left (removing one can join brackets into a new one)."""

    def keep(match: re.Match[str]) -> str:
        n = marker_number(match)
        return match.group(0) if n is not None and 1 <= n <= count else ""

    while True:
        cleaned = MARKER.sub(keep, _expand_groups(text))
        if cleaned == text:
            return cleaned
        text = cleaned


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    return text.strip()


def best_sentence(passage_text: str, claim: str) -> str:
    """The passage sentence that shares the most words with the claim: the quote for an LLM's [n]."""
    claim_words = {w.lower() for w in WORD.findall(claim)}
    best, best_score = passage_text.strip(), -1.0
    for start, end in sentence_spans(passage_text):
        sentence = passage_text[start:end]
        words = {w.lower() for w in WORD.findall(sentence)}
        score = len(words & claim_words) / (1 + len(words) ** 0.5)
        if score > best_score:
            best, best_score = sentence, score
    return best


def _claim_before(text: str, position: int) -> str:
    """The sentence (or line) that a marker at `position` closes."""
    head = MARKER.sub("", text[:position]).rstrip()
    start = max(head.rfind(". ", 0, len(head) - 1), head.rfind("\n")) + 1
    return head[start:]


Quotes = Mapping[int, str | Sequence[str]]


def check(text: str, passages: Sequence[Passage], quotes: Quotes | None = None) -> tuple[str, list[Citation]]:
    """(text with valid, renumbered markers; the citations they resolve to, in order of first use).

    `quotes` maps a passage number (1-based, as given) to the sentence(s) the writer's claims rest on; a
    quote that is not verbatim in its passage is left out, and a citation left with none gets the passage
    sentence closest to the claim its first marker closes.
    """
    text = _drop_invalid(text, len(passages))
    renumber: dict[int, int] = {}

    def replace(match: re.Match[str]) -> str:
        old = marker_number(match)
        assert old is not None  # _drop_invalid kept only markers naming a passage
        renumber.setdefault(old, len(renumber) + 1)
        return f"[{renumber[old]}]"

    checked = _tidy(MARKER.sub(replace, text))
    citations: list[Citation] = []
    for old, new in sorted(renumber.items(), key=lambda item: item[1]):
        passage = passages[old - 1]
        given = (quotes or {}).get(old) or []
        listed = [given] if isinstance(given, str) else given
        kept = [q for q in dict.fromkeys(listed) if q.strip() and q in passage.text]
        if not kept:
            kept = [best_sentence(passage.text, _claim_before(checked, checked.find(f"[{new}]")))]
        citations.append(
            Citation(
                n=new,
                article_id=passage.article_id,
                title=passage.title,
                source=passage.source,
                url=passage.url,
                published_at=passage.published_at,
                via=passage.via,
                quote=kept[0],
                quotes=kept,
                also_reported_by=passage.also_reported_by,
            )
        )
    return checked, citations


def problems(answer: Answer, passages: Sequence[Passage]) -> list[str]:
    """Why an answer fails the citation check (empty when it passes)."""
    issues: list[str] = []
    used = [marker_number(m) for m in MARKER.finditer(answer.answer)]
    first_use = list(dict.fromkeys(used))
    if first_use != list(range(1, len(first_use) + 1)):
        issues.append(f"markers not numbered in order of first use: {first_use}")
    if [c.n for c in answer.citations] != first_use:
        issues.append(f"citations {[c.n for c in answer.citations]} do not match markers {first_use}")
    texts_by_article: dict[str, list[str]] = {}
    for p in passages:
        texts_by_article.setdefault(p.article_id, []).append(p.text)
    for c in answer.citations:
        for quote in [c.quote, *c.quotes]:
            if not quote.strip() or not any(quote in t for t in texts_by_article.get(c.article_id, [])):
                issues.append(f"a quote of [{c.n}] is not verbatim in a passage of article {c.article_id}")
        if c.quotes and c.quote != c.quotes[0]:
            issues.append(f"the quote of [{c.n}] is not the first of its quotes")
    if answer.abstained and answer.citations:
        issues.append("an abstention carries citations")
    return issues
