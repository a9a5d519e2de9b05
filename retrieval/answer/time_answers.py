"""Answers shaped by time: what the chain does with a question's TimeFrame (retrieval/core/dates.py).

- `shape` (before the citation check): a recency question's answer leads with its most recent evidence (the
  search put it first; its best sentence is added when the answer left it out); a "how did X develop"
  question gets its points as a dated, chronological list.
- `finish` (after it): the answer says when its evidence is from (`evidence_dates`), and "As of <date>,"
  when the question is about a current state; an empty window declines and offers the nearest evidence
  from other dates as related passages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date

from retrieval.answer.citations import MARKER, marker_number
from retrieval.answer.extractive import Draft
from retrieval.answer.sentences import names_asked
from retrieval.core import dates, time_words
from retrieval.core.types import Answer, EvidenceDates, Passage

_SENTENCE_END = re.compile(r"(?<=[.!?\]])\s+(?=[A-Z\"“])")
TIMELINE_POINTS = 4  # articles a timeline draws a point from
_LOWER_FIRST = {"the", "a", "an", "it", "its", "this", "that", "these", "those", "there", "in", "on", "at", "after"}


def _points(text: str) -> list[str]:
    """An answer's points: its lines, or its sentences when it is one paragraph (an LLM's)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) == 1:
        lines = [s.strip() for s in _SENTENCE_END.split(lines[0]) if s.strip()]
    return lines


def _day_of(point: str, passages: Sequence[Passage]) -> date | None:
    for m in MARKER.finditer(point):
        n = marker_number(m)
        if n is not None and 1 <= n <= len(passages):
            found = dates.day(passages[n - 1].published_at)
            if found is not None:
                return found
    return None


def about_subject(question: str, passage: Passage) -> bool:
    """Whether a passage names everything the question names: for "the latest on X", the newest passage
    naming X is the answer, however weakly its wording matches the question's."""
    asked = names_asked(question)
    text = f"{passage.title} {passage.text}".lower()
    return bool(asked) and all(name in text for name in asked)


def shape(
    text: str,
    quotes: dict[int, list[str]],
    passages: Sequence[Passage],
    frame: time_words.TimeFrame | None,
    alone: Callable[[int], Draft],
) -> tuple[str, dict[int, list[str]]]:
    """Before the citation check: a recency question's answer leads with passage [1] (the search put the most
    recent relevant passage first; `alone(i)` drafts passage i's best sentence when the answer does not cite
    it); a timeline gets a point from each of the first TIMELINE_POINTS articles; the points are ordered for
    time (see `order`)."""
    if frame is None or not passages or not MARKER.search(text):
        return text, quotes
    verdict, text = _verdict(text)  # a yes/no answer's verdict stays first, whatever leads the evidence
    wanted = [0] if frame.recency else []
    if frame.timeline:
        firsts = list(dict.fromkeys(p.article_id for p in passages))[:TIMELINE_POINTS]
        wanted = [next(i for i, p in enumerate(passages) if p.article_id == a) for a in firsts]
    cited = {marker_number(m) for m in MARKER.finditer(text)}
    for i in wanted:
        if i + 1 in cited:
            continue
        point = alone(i)
        if point.abstained or not point.text.strip():
            continue
        line = MARKER.sub(f"[{i + 1}]", point.text.strip().splitlines()[0])
        text = f"{line}\n{text}"
        quotes = {**quotes, i + 1: [*point.quotes.get(1, []), *quotes.get(i + 1, [])]}
    shaped = order(text, passages, frame)
    return (f"{verdict} {shaped}" if verdict else shaped), quotes


def order(text: str, passages: Sequence[Passage], frame: time_words.TimeFrame | None) -> str:
    """The answer's points newest first (recency) or as a dated chronology (timeline); else unchanged."""
    if frame is None or not (frame.timeline or frame.recency) or not MARKER.search(text):
        return text
    points = _points(text)
    dated = [(_day_of(p, passages), i, p) for i, p in enumerate(points)]
    if frame.timeline:
        dated.sort(key=lambda d: (d[0] is None, d[0] or date.min, d[1]))
        return "\n".join(f"- {d.isoformat()}: {p}" if d else f"- {p}" for d, _, p in dated)
    dated.sort(key=lambda d: (d[0] is None, -(d[0] or date.min).toordinal(), d[1]))
    return "\n".join(p for _, _, p in dated)


def finish(
    answer: Answer, frame: time_words.TimeFrame | None, outside: Sequence[Passage] = (), moved: bool = False
) -> Answer:
    """evidence_dates, as_of and "As of <date>," on a checked answer; an empty window's decline explained, and an
    answer drawn from other dates than the question's window (`moved`) said to be."""
    if frame is None:
        return answer
    update: dict[str, object] = {"as_of": frame.as_of.isoformat()}
    days = sorted(d for d in (dates.day(c.published_at) for c in answer.citations) if d is not None)
    if days:
        update["evidence_dates"] = EvidenceDates(first=days[0].isoformat(), last=days[-1].isoformat())
    if moved and not answer.abstained and frame.window and days:
        span = _spoken(days[0]) if days[0] == days[-1] else f"{_spoken(days[0])} to {_spoken(days[-1])}"
        update["answer"] = (
            f"{answer.answer}\nNo article published {frame.describe()} says this: the answer comes from articles of "
            f"other dates ({span})."
        )
    elif answer.abstained and frame.window and outside:
        update["answer"] = (
            f"Nothing in the archive was published {frame.describe()}. The closest articles from other dates are "
            "listed as related."
        )
        update["related"] = list(outside[:3])
    elif not answer.abstained and frame.current and days and not frame.timeline:
        verdict, rest = _verdict(answer.answer)  # "Yes. As of December 11, 2023, ...": the verdict first
        said = f"As of {_spoken(days[-1])}, {_lead(rest)}" if rest else f"As of {_spoken(days[-1])}."
        update["answer"] = f"{verdict} {said}" if verdict else said
    return answer.model_copy(update=update)


# "Yes", "No.", "Yes [1]." opening an answer: the verdict, with the markers it rests on
_VERDICT = re.compile(r"^\s*(?:yes|no)\b[.,!:;]?(?:\s*\[\d+\])*[.,!]?(?=\s|$)", re.I)


def _verdict(text: str) -> tuple[str, str]:
    """A yes/no answer's opening verdict (as written, "" when there is none) and the rest of the answer."""
    match = _VERDICT.match(text)
    if match is None:
        return "", text
    return match.group().strip(), text[match.end() :].strip()


def _spoken(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def _lead(text: str) -> str:
    first = text.split(" ", 1)[0]
    return text[0].lower() + text[1:] if first.lower() in _LOWER_FIRST and first[:1].isupper() else text
