"""The Discord bot driven in-process: real service, real model, real Chroma; Discord replaced by recorded fakes.

Commands are invoked through the bot's own command tree (the callbacks registered in setup_hook), mentions
and thread messages through its message handler, buttons through the feedback button's dispatch, and the
fakes' transcript shows exactly what would be posted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import discord
import pytest
from fastapi.testclient import TestClient

from bot.api import create_app
from bot.discord.ask import CURSOR, Ask
from bot.discord.client import NewsdeskBot
from bot.discord.limits import CONTENT_LIMIT
from bot.discord.messages import render_answer
from bot.discord.reindex import Reindex
from bot.discord.split import split_text
from bot.discord.votes import FeedbackButton
from retrieval.answer import citations as citation_check
from retrieval.core.errors import IndexUnavailable, JobRunning, StorageError
from retrieval.core.types import Answer, IngestReport, Question, StreamEvent, Turn
from retrieval.service import Newsdesk
from tests.conftest import CORPUS, MULTIHOP, SEED_QUESTION
from tests.support.discord_fakes import FakeDiscord, FakeMessage, FakeThread, FakeUser, Transcript
from tests.support.inside import break_search

pytestmark = pytest.mark.integration
NEWS_COMMANDS = {"brief", "follow", "unfollow", "following", "daily-brief"}


# ------------------------------------------------------------------ helpers


class Recording:
    """The real service, with its ask_stream calls recorded (question, history)."""

    def __init__(self, service: Newsdesk) -> None:
        self.service = service
        self.calls: list[tuple[str, list[Turn] | None]] = []
        self.as_of: list[datetime | None] = []  # the time each question was asked at

    def __getattr__(self, name: str) -> Any:
        return getattr(self.service, name)

    def ask_stream(self, question: Question) -> Iterator[StreamEvent]:
        self.calls.append((question.question, question.history or None))
        self.as_of.append(question.as_of)
        return self.events(question)

    def events(self, question: Question) -> Iterator[StreamEvent]:
        yield from self.service.ask_stream(question)


class WordByWord(Recording):
    """The real answer, streamed one word at a time with a pause, the way an LLM streams tokens."""

    def __init__(self, service: Newsdesk, pause: float, fail_after: int | None = None) -> None:
        super().__init__(service)
        self.pause = pause
        self.fail_after = fail_after

    def events(self, question: Question) -> Iterator[StreamEvent]:
        sent = 0
        for event in self.service.ask_stream(question):
            if event.type != "token" or not event.text:
                yield event
                continue
            for word in re.findall(r"\S+\s*", event.text):
                if self.fail_after is not None and sent == self.fail_after:
                    raise RuntimeError("the index went away mid-answer")
                time.sleep(self.pause)
                sent += 1
                yield StreamEvent(type="token", text=word)


class LongAnswers(Recording):
    """A long answer built from the real passages (each one quoted in full and cited), checked by the real
    citation checker: long enough to need several messages and more sources than one message holds."""

    def events(self, question: Question) -> Iterator[StreamEvent]:
        passages = self.service.search(question.question, 14)
        text = "\n\n".join(f"{p.text} [{i}]" for i, p in enumerate(passages, start=1))
        checked, cited = citation_check.check(text, passages)
        answer = Answer(answer=checked, abstained=False, citations=cited, mode="long")
        yield StreamEvent(type="token", text=checked)
        yield StreamEvent(type="citations", citations=cited)
        yield StreamEvent(type="done", answer=answer)


async def make_bot(service: Any, world: FakeDiscord, **discord_settings: Any) -> NewsdeskBot:
    """The bot with its features added, as setup_hook adds them after logging in."""
    stream_interval = discord_settings.pop("stream_interval", 1.0)
    settings = service.settings.model_copy(update={"discord_cooldown_seconds": 0.0, **discord_settings})
    bot = NewsdeskBot(service, settings, stream_interval=stream_interval)
    await bot.add_features()
    return bot


async def run(bot: NewsdeskBot, name: str, interaction: Any, **options: Any) -> None:
    command = bot.tree.get_command(name)
    assert isinstance(command, discord.app_commands.Command), name
    # A feature's command is bound to its cog: discord.py calls the callback with the cog first.
    assert command.binding is not None, name
    await command.callback(command.binding, interaction, **options)


def asking(bot: NewsdeskBot) -> Ask:
    """The feature that answers mentions and thread messages."""
    cog = bot.get_cog("Ask")
    assert isinstance(cog, Ask)
    return cog


async def click(bot: NewsdeskBot, world: FakeDiscord, message: FakeMessage, user: FakeUser, up: bool) -> Any:
    """Press a feedback button the way discord.py dispatches a dynamic item."""
    button = next(c for c in message.view.children if isinstance(c, FeedbackButton) and c.up == up)
    interaction = world.interaction(user, message.channel, client=bot)
    match = FeedbackButton.__discord_ui_compiled_template__.fullmatch(button.custom_id)
    assert match is not None
    item = await FeedbackButton.from_custom_id(interaction, button.item, match)  # type: ignore[arg-type]
    await item.callback(interaction)  # type: ignore[arg-type]
    return interaction


def assert_never_pings(transcript: Transcript) -> None:
    writes = transcript.writes()
    assert writes
    for event in writes:
        mentions = event.kwargs.get("allowed_mentions")
        assert isinstance(mentions, discord.AllowedMentions), event
        assert mentions.to_dict() == {"parse": []}, event


def assert_nothing_thinking(transcript: Transcript) -> None:
    assert not [m for m in transcript.created if m.thinking and not m.deleted], "a reply was left 'thinking…'"


def posted_citations(messages: list[FakeMessage]) -> list[dict[str, Any]]:
    found = []
    for embed in [e for m in messages for e in m.embeds]:
        match = re.match(r"\[(\d+)\] (.*)", embed.title or "", re.DOTALL)
        if match:
            found.append(
                {
                    "n": int(match.group(1)),
                    "title": match.group(2),
                    "url": embed.url,
                    "quote": embed.description,
                    "footer": embed.footer.text,
                }
            )
    return found


def feedback_buttons(message: FakeMessage) -> list[FeedbackButton]:
    if message.view is None:
        return []
    return [c for c in message.view.children if isinstance(c, FeedbackButton)]


@pytest.fixture
def world() -> FakeDiscord:
    return FakeDiscord()


@pytest.fixture
def multihop_corpus(tmp_path: Path) -> Path:
    """Twelve benchmark articles, shortened to a few passages each so that embedding them is quick, in a
    temporary corpus folder (read from the shared data, never copied into the repo)."""
    articles = [{**a, "body": a["body"][:1500]} for a in json.loads((MULTIHOP / "corpus.json").read_text())[:12]]
    folder = tmp_path / "multihop-corpus"
    folder.mkdir()
    (folder / "articles.json").write_text(json.dumps(articles))
    return folder


# ------------------------------------------------------------------ /ask


async def test_ask_posts_the_cited_answer_with_sources_and_feedback_buttons(
    seed_service: Newsdesk, world: FakeDiscord
) -> None:
    bot = await make_bot(seed_service, world)
    user = world.member("ada")
    interaction = world.interaction(user)

    await run(bot, "ask", interaction, question=SEED_QUESTION)

    transcript = world.transcript
    assert [e.kwargs for e in transcript.of("defer")] == [{"ephemeral": False, "thinking": True}]
    messages = transcript.visible()
    assert messages and not any(m.ephemeral for m in messages)
    answer_text = " ".join(m.content for m in messages)
    assert "300,000" in answer_text and "[1]" in answer_text
    sources = posted_citations(messages)
    assert sources and sources[0]["n"] == 1
    assert "300,000" in sources[0]["quote"]
    assert "2022-09-03" in sources[0]["footer"]
    # 👍/👎 under the answer, on its last message only.
    assert [len(feedback_buttons(m)) for m in messages] == [0] * (len(messages) - 1) + [2]
    answer_id = feedback_buttons(messages[-1])[0].answer_id
    recorded = bot.desk.feedback.get(answer_id)
    assert recorded is not None and recorded.question == SEED_QUESTION
    assert recorded.answer == seed_service.ask(Question(question=SEED_QUESTION)).answer
    assert [(c.n, c.url) for c in recorded.citations] == [(s["n"], s["url"]) for s in sources]
    assert recorded.where.user_id == user.id and recorded.where.channel_id == world.channel.id
    assert_never_pings(transcript)
    assert_nothing_thinking(transcript)


async def test_private_ask_is_ephemeral_throughout(seed_service: Newsdesk, world: FakeDiscord) -> None:
    bot = await make_bot(seed_service, world)
    await run(bot, "ask", world.interaction(world.member("ada")), question=SEED_QUESTION, private=True)

    assert [e.kwargs for e in world.transcript.of("defer")] == [{"ephemeral": True, "thinking": True}]
    messages = world.transcript.visible()
    assert messages and all(m.ephemeral for m in messages)
    assert posted_citations(messages)


async def test_discord_and_the_http_api_cite_the_same_passages(seed_service: Newsdesk, world: FakeDiscord) -> None:
    bot = await make_bot(seed_service, world)
    await run(bot, "ask", world.interaction(world.member("ada")), question=SEED_QUESTION)
    messages = world.transcript.visible()
    recorded = bot.desk.feedback.get(feedback_buttons(messages[-1])[0].answer_id)
    assert recorded is not None

    with TestClient(create_app(seed_service.settings, service=seed_service)) as client:
        response = client.post("/v1/ask", json={"question": SEED_QUESTION})
    assert response.status_code == 200, response.text
    api = response.json()

    assert api["citations"], "the seed question is answered with citations"
    assert [c.model_dump() for c in recorded.citations] == api["citations"]
    shown = posted_citations(messages)
    assert [(s["n"], s["title"], s["url"], s["quote"]) for s in shown] == [
        (c["n"], c["title"], c["url"], c["quote"]) for c in api["citations"]
    ]
    assert recorded.answer == api["answer"]
    assert all(c["source"] in s["footer"] for s, c in zip(shown, api["citations"], strict=True) if c["source"])


async def test_an_answer_the_corpus_does_not_hold_shows_related_passages(
    seed_service: Newsdesk, world: FakeDiscord
) -> None:
    bot = await make_bot(seed_service, world)
    await run(bot, "ask", world.interaction(world.member("ada")), question="Who won the 2018 FIFA World Cup final?")

    messages = world.transcript.visible()
    assert "do not answer" in messages[0].content
    embeds = [e for m in messages for e in m.embeds]
    assert embeds and embeds[0].author.name == "Related passages"
    assert posted_citations(messages) == []
    assert len(feedback_buttons(messages[-1])) == 2


async def test_long_answers_are_split_without_losing_or_reordering_anything(
    make_service: Callable[..., Newsdesk], multihop_corpus: Path, world: FakeDiscord
) -> None:
    service = make_service(corpus_dir=multihop_corpus)
    service.ingest([str(multihop_corpus)])
    long_answers = LongAnswers(service)
    bot = await make_bot(long_answers, world)

    await run(bot, "ask", world.interaction(world.member("ada")), question="What did the companies announce?")

    messages = world.transcript.visible()
    recorded = bot.desk.feedback.get(feedback_buttons(messages[-1])[0].answer_id)
    assert recorded is not None
    answer = Answer(answer=recorded.answer, abstained=False, citations=recorded.citations)
    assert len(answer.answer) > 2 * CONTENT_LIMIT
    assert len(answer.citations) > 10, "more sources than one message can hold"
    expected = render_answer(answer)
    assert [m.content or None for m in messages] == [r.content for r in expected]
    assert [len(m.embeds) for m in messages] == [len(r.embeds) for r in expected]
    contents = [m.content for m in messages if m.content]
    assert contents == split_text(answer.answer)
    assert all(len(c) <= CONTENT_LIMIT for c in contents)
    marker = r"\[\d+\]"
    assert re.findall(marker, " ".join(contents)) == re.findall(marker, answer.answer)
    shown = posted_citations(messages)
    assert [s["n"] for s in shown] == [c.n for c in answer.citations]
    assert [s["url"] for s in shown] == [c.url for c in answer.citations]  # titles link to the articles
    assert all(s["url"].startswith("https://") for s in shown)
    assert [len(feedback_buttons(m)) for m in messages] == [0] * (len(messages) - 1) + [2]
    assert_never_pings(world.transcript)


# ------------------------------------------------------------------ streaming


async def test_a_streamed_answer_grows_in_one_message_edited_at_most_once_per_interval(
    seed_service: Newsdesk, world: FakeDiscord
) -> None:
    interval = 0.25
    streaming = WordByWord(seed_service, pause=0.04)
    bot = await make_bot(streaming, world, stream_interval=interval)
    interaction = world.interaction(world.member("ada"))

    started = time.monotonic()
    await run(bot, "ask", interaction, question=SEED_QUESTION)

    final = render_answer(seed_service.ask(Question(question=SEED_QUESTION)))
    first = interaction.original
    assert first is not None and not first.deleted
    *previews, last = [e for e in world.transcript.events if e.message is first and e.kind in ("send", "edit")]
    growing = [e.kwargs["content"] for e in previews]
    assert len(growing) >= 3, growing  # the preview was posted, then edited as it grew
    assert all(text.endswith(CURSOR) and len(text) <= CONTENT_LIMIT for text in growing)
    assert [len(t) for t in growing] == sorted(len(t) for t in growing)
    times = [started] + [e.at for e in previews]
    assert all(b - a >= interval * 0.99 for a, b in zip(times, times[1:], strict=False))
    # The end: the same message holds the final, checked answer; nothing else was posted before it.
    assert last.kind == "edit" and first.content == final[0].content
    assert world.transcript.visible()[0] is first
    assert [m.content or None for m in world.transcript.visible()] == [r.content for r in final]
    assert_never_pings(world.transcript)


async def test_a_failure_mid_stream_removes_the_partial_answer_and_apologises_privately(
    seed_service: Newsdesk, world: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await make_bot(WordByWord(seed_service, pause=0.05, fail_after=12), world, stream_interval=0.1)
    interaction = world.interaction(world.member("ada"))

    with caplog.at_level(logging.ERROR, logger="bot.discord"):
        await run(bot, "ask", interaction, question=SEED_QUESTION)

    assert world.transcript.of("delete"), "the partial answer was posted, then removed"
    visible = world.transcript.visible()
    assert len(visible) == 1 and visible[0].ephemeral
    error_id = re.search(r"error id is `([0-9a-f]+)`", visible[0].content)
    assert error_id is not None
    assert f"[error id {error_id.group(1)}]" in caplog.text
    assert "the index went away mid-answer" in caplog.text  # the traceback is in the log...
    assert "Traceback" not in visible[0].content and "went away" not in visible[0].content  # ...not in Discord
    assert_nothing_thinking(world.transcript)


# ------------------------------------------------------------------ errors and guards


async def test_an_engine_bug_becomes_a_private_apology_with_an_error_id_in_the_log(
    seed_service: Newsdesk, world: FakeDiscord, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("chunk 42")

    break_search(monkeypatch, seed_service, broken)
    bot = await make_bot(seed_service, world)
    with caplog.at_level(logging.ERROR, logger="bot.discord"):
        await run(bot, "ask", world.interaction(world.member("ada")), question=SEED_QUESTION)

    visible = world.transcript.visible()
    assert len(visible) == 1 and visible[0].ephemeral
    error_id = re.search(r"error id is `([0-9a-f]+)`", visible[0].content)
    assert error_id is not None and f"[error id {error_id.group(1)}]" in caplog.text
    assert "KeyError" in caplog.text and "KeyError" not in visible[0].content
    assert_nothing_thinking(world.transcript)
    assert_never_pings(world.transcript)


async def test_an_engine_error_shows_its_message_privately(
    seed_service: Newsdesk, world: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(*args: object, **kwargs: object) -> None:
        raise IndexUnavailable("the index is being rebuilt; try again in a minute")

    break_search(monkeypatch, seed_service, unavailable)
    bot = await make_bot(seed_service, world)
    await run(bot, "search", world.interaction(world.member("ada")), query="Xiaomi")

    visible = world.transcript.visible()
    assert [(m.content, m.ephemeral) for m in visible] == [("the index is being rebuilt; try again in a minute", True)]


async def test_an_empty_question_is_refused_at_once(seed_service: Newsdesk, world: FakeDiscord) -> None:
    bot = await make_bot(seed_service, world)
    await run(bot, "ask", world.interaction(world.member("ada")), question="   ")

    assert not world.transcript.of("defer")
    [reply] = world.transcript.visible()
    assert reply.ephemeral and "empty" in reply.content


async def test_the_cooldown_is_per_user_friendly_and_private(seed_service: Newsdesk, world: FakeDiscord) -> None:
    bot = await make_bot(seed_service, world, discord_cooldown_seconds=60.0)
    ada, bo = world.member("ada"), world.member("bo")

    await run(bot, "ask", world.interaction(ada), question=SEED_QUESTION)
    await run(bot, "search", world.interaction(ada), query="Xiaomi")
    second = world.transcript.visible()[-1]
    assert second.ephemeral and re.search(r"ask again in \d+ s", second.content)
    await run(bot, "search", world.interaction(bo), query="Xiaomi")
    assert not world.transcript.visible()[-1].ephemeral  # another user is not held up

    mention = world.channel.incoming(ada, f"<@{world.me.id}> {SEED_QUESTION}", mentions=[world.me])
    await asking(bot).answer_message(mention, world.me)  # type: ignore[arg-type]
    assert "ask again" in world.transcript.visible()[-1].content
    assert mention.thread is None


async def test_the_channel_allow_list(seed_service: Newsdesk, world: FakeDiscord) -> None:
    allowed = world.text_channel("ask-newsdesk")
    other = world.text_channel("general")
    bot = await make_bot(seed_service, world, discord_channel_ids=[allowed.id])
    user = world.member("ada")

    await run(bot, "ask", world.interaction(user, other), question=SEED_QUESTION)
    [refusal] = world.transcript.visible()
    assert refusal.ephemeral and f"<#{allowed.id}>" in refusal.content

    await asking(bot).answer_message(
        other.incoming(user, f"<@{world.me.id}> {SEED_QUESTION}", mentions=[world.me]),  # type: ignore[arg-type]
        world.me,  # type: ignore[arg-type]
    )
    assert len(world.transcript.visible()) == 1, "mentions outside the allowed channels are ignored"

    mention = allowed.incoming(user, f"<@{world.me.id}> {SEED_QUESTION}", mentions=[world.me])
    await asking(bot).answer_message(mention, world.me)  # type: ignore[arg-type]
    assert mention.thread is not None and world.transcript.visible(mention.thread)
    await run(bot, "search", world.interaction(user, mention.thread), query="Xiaomi")  # a thread of an allowed channel
    assert not world.transcript.visible()[-1].ephemeral


async def test_an_article_with_everyone_pings_nobody(
    make_service: Callable[..., Newsdesk], tmp_path: Path, world: FakeDiscord
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "prank.md").write_text(
        "---\ntitle: Town hall @everyone\nsource: Gazette <@&123>\npublished_at: 2024-01-02\n---\n"
        "@everyone the town hall will reopen on Monday after repairs. @here bring your own chairs, said <@42>.\n"
    )
    service = make_service(corpus_dir=corpus)
    service.ingest([str(corpus)])
    bot = await make_bot(service, world)

    await run(bot, "ask", world.interaction(world.member("ada")), question="When will the town hall reopen?")
    mention = world.channel.incoming(world.member("bo"), f"<@{world.me.id}> town hall reopen", mentions=[world.me])
    await asking(bot).answer_message(mention, world.me)  # type: ignore[arg-type]

    shown = [m.content + " ".join(e.description or "" for e in m.embeds) for m in world.transcript.visible()]
    assert any("@everyone" in text for text in shown), "the text is shown as it is..."
    assert_never_pings(world.transcript)  # ...but nobody is pinged


# ------------------------------------------------------------------ mentions and threads


async def test_a_mention_starts_a_thread_whose_messages_are_follow_ups(
    seed_service: Newsdesk, world: FakeDiscord
) -> None:
    recording = Recording(seed_service)
    bot = await make_bot(recording, world)
    ada = world.member("ada")

    mention = world.channel.incoming(ada, f"<@{world.me.id}> {SEED_QUESTION}", mentions=[world.me])
    await asking(bot).answer_message(mention, world.me)  # type: ignore[arg-type]

    thread = mention.thread
    assert thread is not None and thread.name == SEED_QUESTION
    assert world.transcript.visible(world.channel) == [], "nothing is posted in the channel itself"
    first = world.transcript.visible(thread)
    assert "300,000" in first[0].content and posted_citations(first)
    assert len(feedback_buttons(first[-1])) == 2
    assert any(e.kwargs == {"channel": thread.id} for e in world.transcript.of("typing"))
    assert recording.calls == [(SEED_QUESTION, None)]

    follow_up = "Where will the plant be built?"
    await asking(bot).answer_message(thread.incoming(ada, follow_up), world.me)  # type: ignore[arg-type]
    first_answer = first[0].content
    assert recording.calls[-1][0] == follow_up
    history = recording.calls[-1][1]
    assert history is not None
    assert [(t.role, t.content) for t in history] == [
        ("user", SEED_QUESTION),
        ("assistant", seed_service.ask(Question(question=SEED_QUESTION)).answer),
    ]
    assert first_answer.startswith(history[1].content[:50])
    assert len(world.transcript.visible(thread)) > len(first)

    # The conversation survives a restart: a new client over the same data dir still knows the thread.
    restarted = await make_bot(recording, world)
    await asking(restarted).answer_message(thread.incoming(world.member("bo"), "And Apple?"), world.me)  # type: ignore[arg-type]
    assert recording.calls[-1][0] == "And Apple?"
    assert [t.content for t in recording.calls[-1][1] or []][-2] == follow_up
    assert_never_pings(world.transcript)


async def test_bots_itself_and_unaddressed_messages_are_ignored(seed_service: Newsdesk, world: FakeDiscord) -> None:
    bot = await make_bot(seed_service, world)
    other_bot = FakeUser("helper", bot=True)
    ping = f"<@{world.me.id}> {SEED_QUESTION}"

    for message in [
        world.channel.incoming(other_bot, ping, mentions=[world.me]),
        world.channel.incoming(world.me, ping, mentions=[world.me]),
        world.channel.incoming(world.member("ada"), SEED_QUESTION),  # no mention, not a conversation thread
        world.channel.incoming(world.member("ada"), "@everyone look", mentions=[]),
    ]:
        await asking(bot).answer_message(message, world.me)  # type: ignore[arg-type]
    assert world.transcript.events == []

    # A thread someone else started is not a conversation: only mentions are answered there, in place.
    thread = FakeThread(world, "discussion", parent=world.channel, owner_id=world.member("bo").id)
    await asking(bot).answer_message(thread.incoming(world.member("ada"), SEED_QUESTION), world.me)  # type: ignore[arg-type]
    assert world.transcript.visible() == []
    await asking(bot).answer_message(
        thread.incoming(world.member("ada"), f"<@{world.me.id}> {SEED_QUESTION}", mentions=[world.me]),  # type: ignore[arg-type]
        world.me,  # type: ignore[arg-type]
    )
    answered = world.transcript.visible(thread)
    assert answered and "300,000" in answered[0].content


async def test_a_direct_message_is_answered_in_place(seed_service: Newsdesk, world: FakeDiscord) -> None:
    bot = await make_bot(seed_service, world)
    ada = world.member("ada")
    dm = world.dm(ada)
    await asking(bot).answer_message(dm.incoming(ada, SEED_QUESTION), world.me)  # type: ignore[arg-type]
    answered = world.transcript.visible(dm)
    assert answered and "300,000" in answered[0].content


# ------------------------------------------------------------------ /search, /status, /help, feedback


async def test_search_lists_passages_without_an_answer(seed_service: Newsdesk, world: FakeDiscord) -> None:
    bot = await make_bot(seed_service, world)
    await run(bot, "search", world.interaction(world.member("ada")), query="Xiaomi factory output")

    messages = world.transcript.visible()
    passages = seed_service.search("Xiaomi factory output")
    assert all(not m.content for m in messages)
    embeds = [e for m in messages for e in m.embeds]
    assert [e.title for e in embeds] == [f"{i}. {p.title}" for i, p in enumerate(passages, start=1)]
    assert embeds[0].author.name == "Search results"
    assert all(feedback_buttons(m) == [] for m in messages)
    assert_never_pings(world.transcript)


async def test_votes_are_stored_and_shown_in_status(seed_service: Newsdesk, world: FakeDiscord) -> None:
    bot = await make_bot(seed_service, world)
    ada, bo = world.member("ada"), world.member("bo")
    await run(bot, "ask", world.interaction(ada), question=SEED_QUESTION)
    answer_message = world.transcript.visible()[-1]

    thanks = await click(bot, world, answer_message, ada, up=True)
    assert thanks.original.ephemeral and "👍" in thanks.original.content
    await click(bot, world, answer_message, ada, up=False)  # changed their mind
    await click(bot, world, answer_message, bo, up=True)

    answer_id = feedback_buttons(answer_message)[0].answer_id
    recorded = bot.desk.feedback.get(answer_id)
    assert recorded is not None and (recorded.up, recorded.down) == (1, 1)

    status = world.interaction(bo)
    await run(bot, "status", status)
    assert status.original is not None and status.original.ephemeral
    [embed] = status.original.embeds
    fields = {f.name: f.value for f in embed.fields}
    stats = seed_service.stats()
    assert fields["Articles"] == f"{stats.articles:,}" and fields["Passages"] == f"{stats.chunks:,}"
    assert fields["Answer mode"] == stats.answer_mode
    assert fields["Feedback"] == "1 answer · 👍 1 · 👎 1"
    last_sync = fields["Last sync"]
    assert last_sync is not None and last_sync.startswith("<t:")
    assert_never_pings(world.transcript)


async def test_a_vote_on_an_unknown_answer_is_answered_kindly(seed_service: Newsdesk, world: FakeDiscord) -> None:
    bot = await make_bot(seed_service, world)
    interaction = world.interaction(world.member("ada"), client=bot)
    await FeedbackButton("0" * 32, up=True).callback(interaction)  # type: ignore[arg-type]
    assert interaction.original is not None
    assert interaction.original.ephemeral and "no longer on record" in interaction.original.content


async def test_help_is_private_and_lists_the_commands(seed_service: Newsdesk, world: FakeDiscord) -> None:
    bot = await make_bot(seed_service, world)
    interaction = world.interaction(world.member("ada"))
    await run(bot, "help", interaction)
    assert interaction.original is not None and interaction.original.ephemeral
    listed = interaction.original.embeds[0].description or ""
    registered = bot.tree.get_commands()
    assert {c.name for c in registered} <= {"ask", "search", "reindex", "status", "help", *NEWS_COMMANDS}
    for command in registered:  # the help is generated from the commands, with their own descriptions
        assert isinstance(command, discord.app_commands.Command)
        assert f"**/{command.name}**" in listed and command.description in listed
    assert "Mention me" in listed


async def test_commands_are_registered_with_their_options(seed_service: Newsdesk) -> None:
    bot = await make_bot(seed_service, FakeDiscord())
    commands = {c.name: c for c in bot.tree.get_commands()}
    assert set(commands) == {"ask", "search", "reindex", "status", "help", *NEWS_COMMANDS}
    assert [(p.name, p.required) for p in commands["ask"].parameters] == [("question", True), ("private", False)]  # type: ignore[union-attr]
    assert [p.name for p in commands["search"].parameters] == ["query"]  # type: ignore[union-attr]
    reindex = commands["reindex"]
    assert reindex.guild_only
    assert reindex.default_permissions == discord.Permissions(manage_guild=True)
    with_role = await make_bot(seed_service, FakeDiscord(), discord_reindex_role="Editors")
    assert with_role.tree.get_command("reindex").default_permissions is None  # type: ignore[union-attr]
    assert bot.intents.message_content
    assert bot.allowed_mentions is not None and bot.allowed_mentions.to_dict() == {"parse": []}


# ------------------------------------------------------------------ /reindex


async def test_reindex_shows_progress_in_one_message_and_refuses_a_second_run(
    make_service: Callable[..., Newsdesk], multihop_corpus: Path, world: FakeDiscord
) -> None:
    service = make_service(corpus_dir=multihop_corpus, ingest_batch_articles=2)
    bot = await make_bot(service, world, discord_reindex_role="Editors")
    reindex = bot.get_cog("Reindex")
    assert isinstance(reindex, Reindex)
    reindex.progress_interval = 0.05
    manager, editor, reader = (
        world.member("ada", manage_guild=True),
        world.member("bo", roles=["Editors"]),
        world.member("cy"),
    )

    refused = world.interaction(reader)
    await run(bot, "reindex", refused)
    assert refused.original is not None
    assert refused.original.ephemeral and "Manage Server or the Editors role" in refused.original.content

    first = world.interaction(manager)
    running = asyncio.create_task(run(bot, "reindex", first))
    while service.jobs.running is None:
        await asyncio.sleep(0.001)
    second = world.interaction(editor)
    await run(bot, "reindex", second)
    assert second.original is not None
    assert second.original.ephemeral and "already running" in second.original.content
    assert "started by ada" in second.original.content
    with pytest.raises(JobRunning):  # the HTTP API is refused too while Discord's re-index runs
        service.start_reindex()
    await running

    status = first.original
    assert status is not None and not status.ephemeral
    progress = [e.kwargs["content"] for e in world.transcript.events if e.message is status and e.kind != "defer"]
    assert progress[0].startswith("Re-indexing the corpus: reading")
    steps = [p for p in progress if re.search(r"\d+ / 12 articles", p)]
    assert steps, progress
    assert status.content.startswith("Re-index finished in")
    assert "12 added" in status.content
    assert len([m for m in world.transcript.created if m.channel is world.channel and not m.ephemeral]) == 1
    assert service.stats().articles == 12
    assert service.jobs.running is None

    again = world.interaction(editor)  # the role may re-index; nothing changed, so nothing is embedded
    await run(bot, "reindex", again)
    assert again.original.content.startswith("Re-index finished") and "12 unchanged" in again.original.content
    assert_never_pings(world.transcript)
    assert_nothing_thinking(world.transcript)


async def test_one_reindex_at_a_time_whichever_face_started_it(seed_service: Newsdesk, world: FakeDiscord) -> None:
    gate = threading.Event()

    def held(progress: object) -> IngestReport:
        gate.wait(30)
        return IngestReport()

    bot = await make_bot(seed_service, world)
    job = seed_service.jobs.start(held)  # a re-index the HTTP API started (POST /v1/reindex names nobody)
    try:
        refused = world.interaction(world.member("ada", manage_guild=True))
        await run(bot, "reindex", refused)
        assert refused.original is not None and refused.original.ephemeral
        assert "already running (started by the HTTP API, reading articles)" in refused.original.content

        status = world.interaction(world.member("bo"))
        await run(bot, "status", status)
        assert status.original is not None
        fields = {f.name: f.value for f in status.original.embeds[0].fields}
        assert fields["Re-index"] == "started by the HTTP API, reading articles"
    finally:
        gate.set()
        assert seed_service.jobs.wait(job.id, 30).state == "succeeded"
    assert_never_pings(world.transcript)


async def test_a_failed_reindex_is_told_privately_and_its_progress_removed(
    seed_service: Newsdesk, world: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(*args: object, **kwargs: object) -> IngestReport:
        raise StorageError("the disk is full: free some space, then re-index")

    monkeypatch.setattr(seed_service, "ingest", disk_full)
    bot = await make_bot(seed_service, world)
    await run(bot, "reindex", world.interaction(world.member("ada", manage_guild=True)))

    visible = world.transcript.visible()
    assert [(m.content, m.ephemeral) for m in visible] == [("the disk is full: free some space, then re-index", True)]
    assert_nothing_thinking(world.transcript)
    assert seed_service.jobs.running is None


# ------------------------------------------------------------------ the facade's admission


async def test_discord_answers_and_searches_wait_for_a_free_answer_slot(
    make_service: Callable[..., Newsdesk], world: FakeDiscord
) -> None:
    service = make_service(max_concurrent_answers=1)
    service.ingest([str(CORPUS)], prune=True)
    bot = await make_bot(service, world)

    async with service.admission:  # the one slot, held as an HTTP answer holds it
        asked = asyncio.create_task(run(bot, "ask", world.interaction(world.member("ada")), question=SEED_QUESTION))
        searched = asyncio.create_task(run(bot, "search", world.interaction(world.member("bo")), query="Xiaomi"))
        await asyncio.sleep(0.5)
        assert not asked.done() and not searched.done()
        assert world.transcript.visible() == [], "both wait, deferred ('thinking…'), for the slot"
    await asyncio.wait_for(asyncio.gather(asked, searched), 60)

    shown = world.transcript.visible()
    assert any("300,000" in m.content for m in shown)
    assert any(e.author is not None and e.author.name == "Search results" for m in shown for e in m.embeds)
    assert_nothing_thinking(world.transcript)
