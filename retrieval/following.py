"""Follows, as methods of the facade: standing queries matched after every sync, the matches a client polls, and
the posts a face sends (retrieval/news/follows.py; the state: retrieval/news/state.py)."""

from __future__ import annotations

import logging
from functools import cached_property
from typing import Literal

from retrieval.core.config import Settings
from retrieval.core.errors import InvalidInput, NotFound
from retrieval.core.types import Follow, FollowMatch, FollowPost, IngestReport
from retrieval.embed.embedder import Embedder
from retrieval.news.follows import Follows
from retrieval.news.matcher import Matcher
from retrieval.news.state import NewsState, started
from retrieval.search.hybrid import Searcher
from retrieval.storage.index import Index

log = logging.getLogger(__name__)

MAX_TOPIC_CHARS = 200


class Following:
    """Mixed into the facade (retrieval.service.Newsdesk), which builds these parts."""

    settings: Settings
    index: Index
    embedder: Embedder
    searcher: Searcher
    read_only: str | None

    @cached_property
    def _matcher(self) -> Matcher:
        return Matcher(self.index, self.embedder)

    @cached_property
    def _news(self) -> NewsState:
        return NewsState.in_data_dir(self.settings.data_dir)

    @cached_property
    def _follows(self) -> Follows:
        return Follows(self._news, self._matcher, self.searcher.columns, self.embedder.name)

    # ------------------------------------------------------------- follows

    def follow(
        self,
        topic: str,
        kind: Literal["discord", "api"] = "api",
        guild_id: int | None = None,
        channel_id: int | None = None,
        created_by: str | None = None,
    ) -> Follow:
        """Follow a topic or a story: the articles of every later sync that match it are recorded (and, for a
        Discord follow, posted to its channel). Following the same topic again in the same place returns the
        follow there is."""
        topic = clean_topic(topic)
        follow = Follow(id="", topic=topic, kind=kind, guild_id=guild_id, channel_id=channel_id, created_by=created_by)
        return self._follows.add(follow)

    def unfollow(self, follow_id: str) -> Follow:
        found = self.get_follow(follow_id)
        self._news.remove_follow(follow_id)
        return found

    def get_follow(self, follow_id: str) -> Follow:
        found = self._news.follow(follow_id)
        if found is None:
            raise NotFound(f"no follow with id {follow_id!r}")
        return found

    def list_follows(self, kind: str | None = None, channel_id: int | None = None) -> list[Follow]:
        return [
            f
            for f in self._news.follows()
            if (kind is None or f.kind == kind) and (channel_id is None or f.channel_id == channel_id)
        ]

    def follow_matches(self, follow_id: str, since: str | None = None, limit: int = 100) -> list[FollowMatch]:
        """The articles that matched a follow, oldest match first; `since`: matched at or after (ISO 8601)."""
        self.get_follow(follow_id)
        return self._news.matches(follow_id, since, limit)

    def match_new_articles(self) -> list[FollowMatch]:
        """Match the articles indexed since the last catch-up against the follows (run after every sync, and
        when a long-running process starts: a sync killed before its catch-up is matched then)."""
        if self.read_only is not None or not started(self.settings.data_dir):
            return []  # nobody has followed anything in this data directory
        return self._follows.catch_up()

    def after_sync(self, report: IngestReport) -> None:
        """Called by every sync once it has committed: a failure here never fails the sync (its articles stay
        unseen, and the next catch-up matches them)."""
        try:
            self.match_new_articles()
        except Exception:
            log.exception("matching the new articles against the follows failed; the next sync or restart retries")

    def posts_to_send(self) -> list[FollowPost]:
        """Discord posts not sent yet, and sent ones whose story has more outlets since (to edit)."""
        if not started(self.settings.data_dir):
            return []
        return self._news.posts_to_send()

    def mark_posted(self, post: FollowPost, message_id: int | None) -> None:
        self._news.mark_posted(post.follow_id, post.story_id, message_id, len(post.outlets))


def clean_topic(topic: str) -> str:
    """A topic as followed or briefed: its words, not empty, not too long (InvalidInput otherwise)."""
    topic = " ".join((topic or "").split())
    if not any(c.isalnum() for c in topic):
        raise InvalidInput("the topic is empty: name a topic or a story, such as 'Xiaomi electric car'")
    if len(topic) > MAX_TOPIC_CHARS:
        raise InvalidInput(f"the topic is {len(topic)} characters long; the limit is {MAX_TOPIC_CHARS}")
    return topic
