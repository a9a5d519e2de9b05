"""Briefs, as methods of the facade: a brief of a time window (also the answer to a brief question on every
face), and daily briefs on the feeds' scheduler (follows: retrieval/following.py). The parts live in
retrieval/news; their state is one SQLite file in the data directory (retrieval/news/state.py).
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from retrieval.answer.chain import AnswerChain, Outcome
from retrieval.core import dates
from retrieval.core.config import Settings
from retrieval.core.errors import InvalidInput
from retrieval.core.types import (
    Brief,
    BriefSchedule,
    Passage,
    Question,
    StreamEvent,
)
from retrieval.embed.embedder import Embedder
from retrieval.following import clean_topic
from retrieval.news.asked import default_window, read_brief, read_since
from retrieval.news.briefs import MAX_STORIES, Briefer, BriefRequest, as_answer
from retrieval.news.matcher import Matcher
from retrieval.news.state import NewsState, started
from retrieval.news.written import written
from retrieval.search.hybrid import Searcher
from retrieval.storage.index import Index

log = logging.getLogger(__name__)


class Briefing:
    """Mixed into the facade (retrieval.service.Newsdesk), which builds these parts."""

    settings: Settings
    index: Index
    embedder: Embedder
    searcher: Searcher
    chain: AnswerChain
    read_only: str | None
    _matcher: Matcher
    _news: NewsState

    read_since = staticmethod(read_since)  # a face's `since` (1d, 2023-10-02, Monday) as a day
    brief_as_answer = staticmethod(as_answer)  # a brief as an answer with checked citations, for a face to render

    # ------------------------------------------------------------- briefs

    def brief(
        self,
        since: date | None = None,
        until: date | None = None,
        topic: str | None = None,
        limit: int = 5,
        as_of: datetime | None = None,
        phrase: str | None = None,
    ) -> Brief:
        """The main stories from `since` to `until` (inclusive days; default the past 7 days up to as_of, which
        defaults to now), about `topic` when one is given, at most `limit` of them."""
        return self._brief(since, until, topic, limit, as_of, phrase)[0]

    def _brief(
        self,
        since: date | None,
        until: date | None,
        topic: str | None,
        limit: int,
        as_of: datetime | None,
        phrase: str | None,
    ) -> tuple[Brief, list[Passage]]:
        moment = as_of or dates.now()
        end = min(until or moment.date(), moment.date())
        if since is None and until is None:
            since, end = default_window(moment.date())
            phrase = phrase or "the past 7 days"
        if since is not None and since > end:
            raise InvalidInput(f"since ({since}) is after until ({end}, never after as_of): no day is in that range")
        if not 1 <= limit <= MAX_STORIES:
            raise InvalidInput(f"limit must be between 1 and {MAX_STORIES}")
        topic = clean_topic(topic) if topic is not None else None
        self.index.ensure_fresh()
        briefer = Briefer(self.searcher, self._matcher)
        brief, passages = briefer.brief(BriefRequest(since, end, moment, topic, limit, phrase))
        if self.chain.llm is not None:
            brief = written(brief, passages, self.chain.llm, self.chain.attributor)
        return brief, passages

    def brief_outcome(self, question: Question) -> Outcome | None:
        """The brief a brief question asks for, as an answer ("what happened this week?", "catch me up on the
        Xiaomi car"); None for any other question."""
        asked = read_brief(question.question, question.as_of)
        if asked is None:
            return None
        moment = question.as_of or dates.now()
        brief, passages = self._brief(asked.since, asked.until, asked.topic, 5, moment, asked.phrase)
        return Outcome(as_answer(brief, moment), passages, question.question)

    @staticmethod
    def brief_events(outcome: Outcome) -> list[StreamEvent]:
        answer = outcome.answer
        return [
            StreamEvent(type="token", text=answer.answer),
            StreamEvent(type="citations", citations=answer.citations),
            StreamEvent(type="done", answer=answer),
        ]

    # ------------------------------------------------------------- daily briefs

    def schedule_brief(self, schedule: BriefSchedule) -> BriefSchedule:
        """Post a brief of the past day to a channel every day at `hour` in `timezone` (replacing its schedule)."""
        _zone(schedule.timezone)
        if schedule.topic is not None:
            schedule = schedule.model_copy(update={"topic": clean_topic(schedule.topic)})
        self._news.set_schedule(schedule)
        return schedule

    def unschedule_brief(self, channel_id: int) -> bool:
        return self._news.remove_schedule(channel_id)

    def queue_due_briefs(self, now: datetime | None = None) -> int:
        """Write the briefs that are due (their hour has come in their time zone, not yet sent today) to the
        outbox; how many."""
        if not started(self.settings.data_dir):
            return 0  # no schedule without the file: the bot's loop asks every few seconds and must not make it
        moment = now or dates.now()
        queued = 0
        for schedule in self._news.schedules():
            local = moment.astimezone(_zone(schedule.timezone))
            today = local.date().isoformat()
            if local.hour < schedule.hour or schedule.last_day == today:
                continue
            since = local.date() - timedelta(days=1)
            brief = self.brief(since, local.date(), schedule.topic, 5, moment, "the past day")
            self._news.queue_brief(schedule.channel_id, today, brief.model_dump_json())
            queued += 1
        return queued

    def briefs_to_send(self) -> list[tuple[int, str, Brief]]:
        if not started(self.settings.data_dir):
            return []
        return [(c, d, Brief.model_validate(json.loads(b))) for c, d, b in self._news.briefs_to_send()]

    def mark_brief_sent(self, channel_id: int, day: str) -> None:
        self._news.mark_brief_sent(channel_id, day)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"{name!r} is not a time zone: use a name such as Europe/Paris or UTC") from exc
