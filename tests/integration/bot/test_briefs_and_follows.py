"""Briefs and follows through every face: the real service, model and Chroma; Discord replaced by recorded fakes.

A small dated newsroom: one wire story four outlets ran on 2 and 3 October 2023, three articles about a chip
plant in Dresden (September, October, November), and a port story on 20 October."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from bot.api import create_app
from bot.discord.news import News
from retrieval.core.dates import day
from retrieval.core.types import Article, Question
from retrieval.service import Newsdesk
from tests.conftest import ROOT, subprocess_env
from tests.integration.bot.test_discord_bot import assert_never_pings, make_bot, run
from tests.support import wire
from tests.support.chip_plant import CHIP_PLANT
from tests.support.discord_fakes import FakeDiscord

pytestmark = pytest.mark.integration

KEY = "follow-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
COPIES = [  # one wire story as four outlets ran it
    ("wire", "Wire", "2023-10-02T06:00:00+00:00", wire.ORIGINAL),
    ("copy-a", "Outlet A", "2023-10-02T09:00:00+00:00", wire.REORDERED),
    ("copy-b", "Outlet B", "2023-10-03T07:00:00+00:00", wire.CUT),
    ("copy-c", "Outlet C", "2023-10-03T10:00:00+00:00", wire.NEW_LEDE),
]
STRIKE = "Rotterdam dock workers strike"


def article(aid: str, source: str, when: str, title: str, body: str) -> Article:
    url = f"https://{source.replace(' ', '')}.example/{aid}"
    return Article(id=aid, title=title, body=body, source=source, url=url, published_at=when, origin=f"test:{aid}")


def chips() -> list[Article]:
    return [article(aid, "Tech Daily", when, title, body) for aid, when, title, body in CHIP_PLANT]


def copies(*ids: str) -> list[Article]:
    return [article(a, s, w, wire.TITLE, b) for a, s, w, b in COPIES if a in ids]


def port() -> Article:
    return article("port-volumes", "Outlet A", "2023-10-20", "Rotterdam volumes rise", wire.OTHER_STORY)


def at(when: str) -> datetime:
    return datetime.fromisoformat(when).replace(tzinfo=UTC)


@pytest.fixture
def newsroom(make_service: Callable[..., Newsdesk]) -> Newsdesk:
    service = make_service()
    articles = [*chips(), *copies("wire", "copy-a", "copy-b", "copy-c"), port()]
    assert len(service.add_articles(articles).added) == len(articles)
    return service


# ------------------------------------------------------------------ briefs


def test_a_brief_ranks_the_story_most_outlets_carry_first_and_cites_inside_its_window(newsroom: Newsdesk) -> None:
    brief = newsroom.brief(day("2023-10-01"), day("2023-10-14"), as_of=at("2023-10-15T12:00:00"))
    first = brief.stories[0]
    assert first.outlets == ["Wire", "Outlet A", "Outlet B", "Outlet C"]
    assert (first.articles, first.latest) == (4, "2023-10-03")
    assert first.citation.article_id == "copy-c"  # the newest copy in the window is cited
    assert first.sentence == first.citation.quote and first.sentence in wire.NEW_LEDE
    assert [s.citation.article_id for s in brief.stories[1:]] == ["chip-2"]
    assert len({s.story_id for s in brief.stories}) == len(brief.stories)
    for story in brief.stories:
        assert "2023-10-01" <= (story.citation.published_at or "")[:10] <= "2023-10-14"
    assert brief.message.startswith("The main stories")


def test_an_empty_window_says_so_and_names_the_latest_day_with_news(newsroom: Newsdesk) -> None:
    brief = newsroom.brief(day("2023-12-01"), day("2023-12-07"), as_of=at("2023-12-08T00:00:00"))
    assert brief.stories == [] and brief.latest_news == "2023-11-20"
    assert "No news" in brief.message and "2023-11-20" in brief.message
    on_topic = newsroom.brief(day("2023-10-21"), day("2023-11-19"), "Dresden chip plant", as_of=at("2023-11-19T23:00"))
    assert on_topic.stories == [] and on_topic.latest_news == "2023-10-10"


def test_a_topic_keeps_the_stories_about_it_and_a_deleted_article_leaves_later_briefs(newsroom: Newsdesk) -> None:
    as_of = at("2023-11-30T12:00:00")
    brief = newsroom.brief(day("2023-09-01"), day("2023-11-30"), "Dresden chip plant", limit=10, as_of=as_of)
    assert [s.citation.article_id for s in brief.stories] == ["chip-3", "chip-2", "chip-1"]
    assert all("Dresden" in s.sentence or "plant" in s.sentence for s in brief.stories)
    newsroom.delete("chip-3")
    again = newsroom.brief(day("2023-09-01"), day("2023-11-30"), "Dresden chip plant", limit=10, as_of=as_of)
    assert [s.citation.article_id for s in again.stories] == ["chip-2", "chip-1"]


async def test_a_brief_question_is_answered_with_the_brief_on_every_face(newsroom: Newsdesk) -> None:
    question = Question(question="What happened this week?", as_of=at("2023-10-04T12:00:00"))
    answer = newsroom.ask(question)
    assert answer.mode == "brief" and not answer.abstained
    assert answer.citations[0].article_id == "copy-c" and "[1]" in answer.answer
    streamed = [e for e in newsroom.ask_stream(question) if e.type == "done"]
    assert streamed[0].answer is not None and streamed[0].answer.answer == answer.answer

    settings = newsroom.settings.model_copy(update={"rate_limit_per_minute": 0})
    with TestClient(create_app(settings, newsroom)) as client:
        asked = client.post("/v1/ask", json={"question": "catch me up", "as_of": "2023-10-04T12:00:00Z"}).json()
        assert asked["mode"] == "brief" and asked["citations"][0]["article_id"] == "copy-c"
        got = client.get("/v1/brief", params={"since": "Monday", "as_of": "2023-10-04T12:00:00Z"}).json()
        assert got["since"] == "2023-10-02" and got["until"] == "2023-10-04"
        assert got["stories"][0]["outlets"] == ["Wire", "Outlet A", "Outlet B", "Outlet C"]
        assert client.get("/v1/brief", params={"since": "whenever"}).status_code == 422

    world = FakeDiscord()
    bot = await make_bot(newsroom, world)
    interaction = world.interaction(world.member("ada"))
    interaction.created_at = at("2023-10-04T12:00:00")
    await run(bot, "brief", interaction, topic=None, since="7d")
    posted = world.transcript.visible()
    assert "The main stories" in posted[0].content and "Outlet C" in posted[0].content
    assert_never_pings(world.transcript)


# ------------------------------------------------------------------ follows in Discord


async def follow_here(bot: Any, world: FakeDiscord, topic: str) -> None:
    manager = world.member("ed", manage_channels=True)
    await run(bot, "follow", world.interaction(manager), topic=topic)
    assert "now follows" in world.transcript.visible()[-1].content


async def a_followed_story(make_service: Callable[..., Newsdesk]) -> tuple[Newsdesk, FakeDiscord, Any]:
    """A channel that follows the strike, and a sync that brings its first report (not posted yet)."""
    service = make_service()
    service.add_articles(chips())
    world = FakeDiscord()
    bot = await make_bot(service, world)
    await follow_here(bot, world, STRIKE)
    service.add_articles(copies("wire"))
    return service, world, bot


def news_cog(bot: Any, world: FakeDiscord) -> News:
    cog = bot.get_cog("News")
    assert isinstance(cog, News)
    channels = {world.channel.id: world.channel}
    cog.find_channel = channels.get
    return cog


def channel_posts(world: FakeDiscord) -> list[Any]:
    return [m for m in world.transcript.created if m.channel is world.channel and "📰" in m.content]


async def test_a_follow_posts_once_per_story_without_pings_and_later_copies_update_the_post(
    make_service: Callable[..., Newsdesk],
) -> None:
    service = make_service()
    service.add_articles([*chips(), port()])
    world = FakeDiscord()
    bot = await make_bot(service, world)
    cog = news_cog(bot, world)
    await follow_here(bot, world, STRIKE)

    service.add_articles(copies("wire", "copy-a"))  # a sync: two copies of the story, and nothing else new
    assert await cog.send_posts() == 1
    [post] = channel_posts(world)
    assert "Rotterdam" in post.content and "https://Wire.example/wire" in post.content
    assert "Also reported by 1 other outlet: Outlet A" in post.content
    assert await cog.send_posts() == 0  # sent once

    service.add_articles(copies("copy-b"))  # a later copy edits the post
    assert await cog.send_posts() == 1
    assert channel_posts(world) == [post] and "Also reported by 2 other outlets" in post.content
    assert_never_pings(world.transcript)  # every send and edit, the posts' included, with allowed_mentions none
    assert post.allowed_mentions.to_dict() == {"parse": []}


async def test_a_restart_neither_reposts_nor_loses_a_follow(make_service: Callable[..., Newsdesk]) -> None:
    service, world, bot = await a_followed_story(make_service)
    assert await news_cog(bot, world).send_posts() == 1
    service.close()

    restarted = make_service()  # the same data directory, a new process's service and bot
    restarted.start_background()
    again = await make_bot(restarted, world)
    cog = news_cog(again, world)
    assert await cog.send_posts() == 0
    await run(again, "following", world.interaction(world.member("cy")))
    assert STRIKE in world.transcript.visible()[-1].content
    restarted.add_articles(copies("copy-a"))
    assert await cog.send_posts() == 1
    [post] = channel_posts(world)
    assert "Also reported by 1 other outlet: Outlet A" in post.content
    restarted.close()


class Killed(Exception):
    pass


async def test_a_post_sent_again_before_its_message_id_was_saved_is_not_posted_twice(
    make_service: Callable[..., Newsdesk], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bot sent a post and died before saving its message id: the post is still pending, and sending it again
    (with the same nonce, which Discord enforces for a few minutes) returns the message already sent."""
    service, world, bot = await a_followed_story(make_service)
    cog = news_cog(bot, world)

    def dies(*_: Any) -> None:
        raise Killed("after sending, before saving the message id")

    with monkeypatch.context() as patched:
        patched.setattr(service, "mark_posted", dies)
        with pytest.raises(Killed):
            await cog.send_posts()
    [sent] = channel_posts(world)
    assert len(service.posts_to_send()) == 1  # still pending
    assert await cog.send_posts() == 1
    assert [m.id for m in channel_posts(world)] == [sent.id] and service.posts_to_send() == []


async def test_a_sync_killed_before_its_posts_posts_after_the_restart(
    make_service: Callable[..., Newsdesk], tmp_path: Path
) -> None:
    first, incoming = tmp_path / "first", tmp_path / "incoming"
    for folder, articles in ((first, chips()), (incoming, copies("wire"))):
        folder.mkdir()
        (folder / "articles.json").write_text(json.dumps([a.model_dump() for a in articles]))
    data_dir = tmp_path / "data"
    driver = subprocess.run(  # indexes the first folder, follows the strike, then dies after syncing the second
        [sys.executable, "-m", "tests.support.follow_driver", str(first), STRIKE, str(incoming)],
        cwd=ROOT, env=subprocess_env(data_dir, NEWSDESK_LOG_LEVEL="WARNING"),
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert driver.returncode == 9 and "synced" in driver.stdout, driver.stderr[-2000:]

    restarted = make_service(data_dir=data_dir, embedder="onnx")
    assert "wire" in {a["id"] for a in restarted.articles()}  # the sync committed
    assert restarted.posts_to_send() == []  # ... and died before matching its articles
    restarted.start_background()  # a long-running process starts: the repair
    world = FakeDiscord()
    [follow] = restarted.list_follows()
    world.channel.id = follow.channel_id or 0
    bot = await make_bot(restarted, world)
    assert await news_cog(bot, world).send_posts() == 1
    assert "Rotterdam" in channel_posts(world)[0].content
    restarted.close()


async def test_following_needs_manage_channels_or_the_role_and_an_allowed_channel(
    make_service: Callable[..., Newsdesk],
) -> None:
    service = make_service()
    world = FakeDiscord()
    bot = await make_bot(service, world)
    reader = world.member("cy")
    refused = world.interaction(reader)
    await run(bot, "follow", refused, topic=STRIKE)
    assert refused.original is not None and refused.original.ephemeral
    assert "Only members with Manage Channels" in refused.original.content
    assert service.list_follows() == []
    assert bot.tree.get_command("follow").default_permissions == discord.Permissions(manage_channels=True)  # type: ignore[union-attr]

    other = world.text_channel("general")
    with_role = await make_bot(service, world, discord_follow_role="Editors", discord_channel_ids=[world.channel.id])
    editor = world.member("bo", roles=["Editors"])
    await run(with_role, "follow", world.interaction(editor, other), topic=STRIKE)
    assert "I only answer in" in world.transcript.visible()[-1].content and service.list_follows() == []
    await run(with_role, "follow", world.interaction(editor), topic=STRIKE)
    [made] = service.list_follows()
    await run(with_role, "unfollow", world.interaction(reader), topic=made.id)
    assert service.list_follows() == [made]
    await run(with_role, "unfollow", world.interaction(editor), topic=STRIKE.lower())
    assert service.list_follows() == []


async def test_posts_wait_while_their_channel_is_not_allowed(make_service: Callable[..., Newsdesk]) -> None:
    service, world, bot = await a_followed_story(make_service)
    elsewhere = await make_bot(service, world, discord_channel_ids=[world.text_channel("other").id])
    assert await news_cog(elsewhere, world).send_posts() == 0 and channel_posts(world) == []
    assert await news_cog(bot, world).send_posts() == 1


# ------------------------------------------------------------------ follows over HTTP


def test_http_follows_need_the_key_and_list_their_matches(make_service: Callable[..., Newsdesk]) -> None:
    service = make_service()
    service.add_articles(chips())
    settings = service.settings.model_copy(update={"api_keys": [SecretStr(KEY)], "rate_limit_per_minute": 0})
    with TestClient(create_app(settings, service)) as client:
        assert client.post("/v1/follows", json={"topic": STRIKE}).status_code == 401
        assert client.get("/v1/follows").status_code == 401
        made = client.post("/v1/follows", json={"topic": STRIKE}, headers=AUTH)
        assert made.status_code == 201
        follow = made.json()
        assert client.post("/v1/follows", json={"topic": STRIKE.upper()}, headers=AUTH).json()["id"] == follow["id"]
        fields = {"id", "title", "body", "source", "url", "published_at"}
        sent = [a.model_dump(include=fields) for a in copies("wire")]
        assert client.post("/v1/articles", json=sent, headers=AUTH).status_code == 200
        matches = client.get(f"/v1/follows/{follow['id']}/matches", headers=AUTH).json()
        assert [m["article_id"] for m in matches] == ["wire"]
        later = client.get(f"/v1/follows/{follow['id']}/matches", params={"since": "2999-01-01"}, headers=AUTH)
        assert later.json() == []
        assert [f["id"] for f in client.get("/v1/follows", headers=AUTH).json()] == [follow["id"]]
        assert client.delete(f"/v1/follows/{follow['id']}", headers=AUTH).status_code == 204
        assert client.get(f"/v1/follows/{follow['id']}/matches", headers=AUTH).status_code == 404


async def test_a_daily_brief_is_posted_once_a_day_by_the_posting_loop(make_service: Callable[..., Newsdesk]) -> None:
    service = make_service()
    service.add_articles(chips())
    world = FakeDiscord()
    bot = await make_bot(service, world)
    cog = news_cog(bot, world)
    manager = world.member("ed", manage_channels=True)
    await run(bot, "daily-brief", world.interaction(manager), hour=0, timezone="UTC", topic=None)
    assert "every day at 00:00 (UTC)" in world.transcript.visible()[-1].content
    before = len(world.transcript.created)
    assert await cog.send_posts() == 1  # its hour has come today: queued and sent by the same loop
    briefs = [m for m in world.transcript.created[before:] if m.channel is world.channel]
    assert briefs and "past day" in briefs[0].content.lower()
    assert await cog.send_posts() == 0  # once a day
    assert_never_pings(world.transcript)
