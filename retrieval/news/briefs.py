"""Briefs: the main stories of a time window, each with one cited sentence, its outlets and its latest day.

A brief reads the window's articles from the search's own columns (the lexical view: article, outlet, day and story
id of every chunk, in memory), groups them by story (near-duplicates share a story id at ingest,
retrieval/storage/stories.py) and ranks the stories by how many outlets carry them in the window, then how many
articles, then how recent they are (newest first among equals). Outlets are counted by publisher, so one writer
posting near-copies under several names counts once (retrieval/storage/provenance.py). Each story is cited by its
newest article in the window (the operator's own before outside copies): its lead sentence, or with a topic the
sentence holding most of the topic's words, quoted verbatim and passed through the citation check every answer
passes. A topic keeps the stories whose articles the standing-query matcher (retrieval/news/matcher.py) says are
about it. Deleted articles leave the view, so they leave every later brief.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np

from retrieval.answer import citations
from retrieval.core import dates
from retrieval.core.types import Answer, Brief, BriefStory, EvidenceDates, Passage, SearchFilters
from retrieval.news.matcher import Matcher, Topic, rows_of
from retrieval.search.hybrid import Searcher, passage_from
from retrieval.storage import provenance

MAX_STORIES = 20
TOPIC_LOOKBACK = 30  # passages searched for the latest news on a topic before an empty window


@dataclass
class _Story:
    code: int
    rows: list[int] = field(default_factory=list)  # the first chunk of each of its articles in the window
    best: dict[int, int] = field(default_factory=dict)  # first row -> the row of its best chunk for the topic


@dataclass(frozen=True)
class BriefRequest:
    since: date | None
    until: date
    as_of: datetime
    topic: str | None = None
    limit: int = 5
    phrase: str | None = None  # the window as the asker put it ("this week")


class Briefer:
    def __init__(self, searcher: Searcher, matcher: Matcher, clock: Callable[[], float] = time.perf_counter) -> None:
        self.searcher = searcher
        self.matcher = matcher
        self._clock = clock

    def brief(self, request: BriefRequest) -> tuple[Brief, list[Passage]]:
        """The brief, and the passages its citations quote (one per story, in rank order)."""
        started = self._clock()
        cols = self.searcher.columns()
        lexical = cols.lexical
        first = (cols.chunk_index == 0) & (cols.day > 0)
        window = first & (cols.day <= request.until.toordinal())
        if request.since is not None:
            window &= cols.day >= request.since.toordinal()
        topic = self.matcher.topic(request.topic) if request.topic else None
        stories = self._stories(np.nonzero(window)[0], cols.article, cols.story, topic)
        ranked = sorted(stories.values(), key=lambda s: self._rank_key(s, cols))[: max(1, request.limit)]
        picked, passages = [], []
        for n, story in enumerate(ranked, start=1):
            passage, sentence = self._cited(story, cols, topic)
            passages.append(passage)
            picked.append((n, story, sentence))
        text = "\n".join(f"{n}. {sentence} [{n}]" for n, _, sentence in picked)
        _, cited = citations.check(text, passages, {n: sentence for n, _, sentence in picked})
        brief_stories = [
            BriefStory(
                rank=n,
                story_id=lexical.story_id[story.rows[0]],
                title=passages[n - 1].title,
                sentence=sentence,
                citation=cited[n - 1],
                outlets=self._outlets(story, cols),
                articles=len(story.rows),
                latest=date.fromordinal(int(max(cols.day[r] for r in story.rows))).isoformat(),
            )
            for n, story, sentence in picked
        ]
        latest = None if brief_stories else self._latest_news(request, first, cols.day, topic)
        brief = Brief(
            since=request.since.isoformat() if request.since else None,
            until=request.until.isoformat(),
            as_of=request.as_of.isoformat(timespec="seconds"),
            topic=request.topic,
            window=_window_words(request),
            stories=brief_stories,
            latest_news=latest,
            message=_message(request, bool(brief_stories), latest),
            timings={"total_ms": round((self._clock() - started) * 1000, 1)},
        )
        return brief, passages

    def _stories(
        self, rows: np.ndarray, article: np.ndarray, story: np.ndarray, topic: Topic | None
    ) -> dict[int, _Story]:
        """The window's articles (their first rows) grouped by story; with a topic, only the matching ones."""
        found: dict[int, _Story] = {}
        best: dict[int, int] = {}
        if topic is not None and len(rows):
            lexical = self.searcher.columns().lexical
            by_code = rows_of(lexical, article, (int(article[r]) for r in rows))
            scored = self.matcher.score([topic], {str(code): chunk_rows for code, chunk_rows in by_code.items()})
            matching = {
                int(code): int(scored.best_row[0, i])
                for i, code in enumerate(scored.articles)
                if scored.score[0, i] >= self.matcher.threshold
            }
            rows = np.array([r for r in rows if int(article[r]) in matching], dtype=np.int64)
            best = {int(r): matching[int(article[r])] for r in rows}
        for row in rows:
            code = int(story[row])
            entry = found.setdefault(code, _Story(code))
            entry.rows.append(int(row))
            if int(row) in best:
                entry.best[int(row)] = best[int(row)]
        return found

    @staticmethod
    def _outlets(story: _Story, cols: Any) -> list[str]:
        """One name per publisher (the name its earliest article claims, with how it came when from outside):
        near-copies one writer posts under several outlet names count once (retrieval.storage.provenance)."""
        source, publisher = cols.source, cols.lexical.publisher
        seen: dict[str, str] = {}
        for row in sorted(story.rows, key=lambda r: (int(cols.day[r]), r)):
            seen.setdefault(publisher[row], provenance.shown(source[row], publisher[row]))
        names: dict[str, str] = {}
        for name in seen.values():
            names.setdefault(name.lower(), name)
        return list(names.values())

    def _rank_key(self, story: _Story, cols: Any) -> tuple[int, int, bool, int, str]:
        """Outlets first, then articles, where an outside publisher's articles count once; then a story the
        operator's files carry (so one outside writer's many one-outlet stories cannot push theirs out); then
        the newest."""
        day = cols.day
        lexical = cols.lexical
        newest = max(int(day[r]) for r in story.rows)
        local = sum(1 for r in story.rows if lexical.local[r])
        outside = len({lexical.publisher[r] for r in story.rows if not lexical.local[r]})
        outlets = len(self._outlets(story, cols))
        return (-outlets, -(local + outside), not local, -newest, str(lexical.story_id[story.rows[0]]))

    def _cited(self, story: _Story, cols: Any, topic: Topic | None) -> tuple[Passage, str]:
        """The passage that cites a story (its newest article's best chunk, the operator's own articles before
        outside copies, which never speak for them) and the sentence quoted from it."""
        day = cols.day
        lexical = cols.lexical
        newest = max(
            story.rows,
            key=lambda r: (bool(lexical.local[r]), int(day[r]), dates.order_key(lexical.published_at[r]), r),
        )
        row = story.best.get(newest, newest)
        text, meta = lexical.store.rows_at([row])[row][1:]
        sentence = self.matcher.sentence(lexical, text, topic, str(meta.get("title", "")))
        # the story's copies from other publishers, as search lists them, among the articles this brief counts
        others = cols.also_reported_by(meta, np.isin(cols.article, [cols.article[r] for r in story.rows]))
        return passage_from(str(lexical.ids[row]), text, meta, 0.0, others), sentence

    def _latest_news(
        self, request: BriefRequest, first: np.ndarray, day: np.ndarray, topic: Topic | None
    ) -> str | None:
        """The latest day with news (on the topic) up to the window's end, for an empty window."""
        end = request.until.toordinal()
        if topic is None:
            before = day[first & (day <= end)]
            return date.fromordinal(int(before.max())).isoformat() if len(before) else None
        found = self.searcher.search(topic.text, TOPIC_LOOKBACK, SearchFilters(until=request.until.isoformat()), None)
        if not found:
            return None
        lexical = self.searcher.columns().lexical
        wanted: dict[str, list[int]] = {}
        for passage in found:
            row = lexical.position.get(passage.chunk_id)
            if row is not None:
                wanted.setdefault(passage.article_id, []).append(int(row))
        scored = self.matcher.score([topic], wanted)
        days = [
            dates.day(next(p.published_at for p in found if p.article_id == aid))
            for i, aid in enumerate(scored.articles)
            if scored.score[0, i] >= self.matcher.threshold
        ]
        known = [d for d in days if d is not None]
        return max(known).isoformat() if known else None


def _window_words(request: BriefRequest) -> str:
    since, until = request.since, request.until
    span = f"{until}" if since == until else f"{since} to {until}" if since is not None else f"until {until}"
    return f"{request.phrase} ({span})" if request.phrase else span


def _message(request: BriefRequest, found: bool, latest: str | None) -> str:
    about = f" on {request.topic}" if request.topic else ""
    window = _window_words(request)
    if found:
        return f"The main stories{about}, {window}:"
    if latest is None:
        return f"No news{about} in {window}, and none before it in the archive."
    return f"No news{about} in {window}. The latest news{about} is from {latest}."


def as_answer(brief: Brief, as_of: datetime | None) -> Answer:
    """A brief as an answer to a brief question: the message, then one cited line per story."""
    lines = [brief.message]
    for story in brief.stories:
        lines.append(f"{story.rank}. {story.sentence} [{story.rank}] ({', '.join(story.outlets)}; {story.latest})")
    cited = [s.citation for s in brief.stories]
    days = sorted(str(c.published_at)[:10] for c in cited if c.published_at)
    return Answer(
        answer="\n".join(lines),
        abstained=not brief.stories,
        citations=cited,
        mode="brief",
        timings=brief.timings,
        evidence_dates=EvidenceDates(first=days[0], last=days[-1]) if days else None,
        as_of=as_of.isoformat(timespec="seconds") if as_of is not None else brief.as_of,
    )
