"""Follows: standing queries run over each sync's new articles only.

After every sync (any face: a folder, a URL, a feed schedule, the HTTP API, a re-index job), `catch_up` finds
the indexed articles not matched yet (the state's `seen` marks against the lexical view's articles), scores them
against every follow's topic with the matcher (retrieval/news/matcher.py) and records, in one transaction, the
matches, one post per story per Discord follow (or more outlets for a story already posted), and the articles as
seen. The first catch-up of a data directory marks the archive seen without matching it: a follow is about what
comes next. A catch-up also runs when a long-running process starts, which repairs a sync that crashed (or was
killed) between its commit and its catch-up.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from retrieval.core.types import Follow, FollowMatch
from retrieval.news.matcher import Matcher, Topic
from retrieval.news.state import Copy, NewsState

log = logging.getLogger(__name__)


class Follows:
    def __init__(self, state: NewsState, matcher: Matcher, columns: Callable[[], Any], model: str) -> None:
        """`columns`: the search's columns of the current lexical view (retrieval.search.hybrid)."""
        self.state = state
        self.matcher = matcher
        self.columns = columns
        self.model = model  # the embedder's name: topic vectors are kept per embedder
        self._lock = threading.Lock()  # one catch-up at a time

    def add(self, follow: Follow) -> Follow:
        topic = self.matcher.topic(follow.topic)
        if not self.state.started():  # the archive before the first follow is not news to it
            self.catch_up()
        return self.state.add_follow(follow, topic.vector, self.model)

    def _topics(self, follows: list[Follow]) -> list[Topic]:
        vectors = self.state.vectors(self.model)
        topics = []
        for follow in follows:
            vector = vectors.get(follow.id)
            topic = self.matcher.topic(follow.topic, vector)
            if vector is None:  # made with another embedder: embedded again with this one
                self.state.set_vector(follow.id, topic.vector, self.model)
            topics.append(topic)
        return topics

    def catch_up(self) -> list[FollowMatch]:
        """Match the articles indexed since the last catch-up; the new matches."""
        with self._lock:
            cols = self.columns()
            lexical = cols.lexical
            present = set(cols.first_row)
            if not self.state.started():
                self.state.record(present, [], [])
                log.info("follows: %d indexed articles marked as seen (follows match what comes next)", len(present))
                return []
            new = self.state.unseen(present)
            if not new:
                return []
            rows: dict[str, list[int]] = {}
            for row, article_id in enumerate(lexical.article_id):
                if article_id in new and lexical.ids[row] is not None:
                    rows.setdefault(str(article_id), []).append(row)
            follows = self.state.follows()
            matches = self._matches(follows, rows, lexical) if follows else []
            copies = [
                Copy(aid, str(lexical.story_id[r[0]]), lexical.source[r[0]] or None, lexical.publisher[r[0]])
                for aid, r in rows.items()
            ]
            self.state.record(new, matches, copies)
            log.info("follows: %d new articles, %d matches", len(new), len(matches))
            return matches

    def _matches(self, follows: list[Follow], rows: dict[str, list[int]], lexical: Any) -> list[FollowMatch]:
        scored = self.matcher.score(self._topics(follows), rows)
        found: list[FollowMatch] = []
        topics: dict[int, Topic] = {}
        for t, a in zip(*np.nonzero(scored.score >= self.matcher.threshold), strict=True):
            row = int(scored.best_row[t, a])
            text, meta = lexical.store.rows_at([row])[row][1:]
            topic = topics.setdefault(int(t), self.matcher.topic(follows[int(t)].topic, np.zeros(1)))
            found.append(
                FollowMatch(
                    follow_id=follows[int(t)].id,
                    article_id=scored.articles[int(a)],
                    story_id=str(meta.get("story_id") or scored.articles[int(a)]),
                    title=str(meta.get("title", "")),
                    source=meta.get("source"),
                    url=meta.get("url"),
                    published_at=meta.get("published_at"),
                    sentence=self.matcher.sentence(lexical, text, topic),
                    score=round(float(scored.score[t, a]), 4),
                )
            )
        return found
