"""The bot's pure parts: the stream adapter, the edit throttle, cooldowns, permissions, and the test fakes' shape."""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections.abc import Iterator

import discord
import pytest

from bot.discord.client import INVITE_PERMISSIONS, invite_url
from bot.discord.desk import Cooldown
from bot.discord.reindex import can_reindex
from bot.discord.replies import NO_MENTIONS
from bot.discord.stream import Throttled, stream_answer
from retrieval.core.errors import IndexUnavailable
from retrieval.core.types import Answer, Question, StreamEvent
from tests.conftest import ROOT
from tests.support import discord_fakes as fakes

# ------------------------------------------------------------------ stream_answer


class ScriptedStream:
    """Plays a fixed list of stream events (or raises) from ask_stream, like the service's generator."""

    def __init__(self, events: list[StreamEvent], pause: float = 0.0, error: Exception | None = None) -> None:
        self.events = events
        self.pause = pause
        self.error = error
        self.closed = threading.Event()
        self.calls: list[tuple[str, object]] = []

    def ask_stream(self, question: Question) -> Iterator[StreamEvent]:
        self.calls.append((question.question, question.history))
        self.as_of = question.as_of
        if self.error is not None:
            raise self.error
        try:
            for event in self.events:
                time.sleep(self.pause)
                yield event
        finally:
            self.closed.set()


Q = Question(question="q")
FINAL = Answer(answer="Final text [1].", abstained=False, mode="extractive")


async def test_stream_answer_reports_text_so_far_and_returns_the_final_answer() -> None:
    events = [StreamEvent(type="token", text=t) for t in ["Draft ", "text ", "[9]"]]
    events += [StreamEvent(type="citations", citations=[]), StreamEvent(type="done", answer=FINAL)]
    seen: list[str] = []

    answer = await stream_answer(ScriptedStream(events), Q, on_text=seen.append)  # type: ignore[arg-type]

    assert seen == ["Draft ", "Draft text ", "Draft text [9]"]
    assert answer == FINAL  # the checked answer, not the provisional tokens


async def test_stream_answer_raises_engine_errors_in_the_event_loop() -> None:
    source = ScriptedStream([], error=IndexUnavailable("the index is being rebuilt; try again in a minute"))
    with pytest.raises(IndexUnavailable, match="rebuilt"):
        await stream_answer(source, Q)  # type: ignore[arg-type]


async def test_a_stream_without_a_final_answer_is_an_error() -> None:
    events = [StreamEvent(type="token", text="half")]
    with pytest.raises(RuntimeError, match="without a final answer"):
        await stream_answer(ScriptedStream(events), Q)  # type: ignore[arg-type]


async def test_the_event_loop_keeps_running_while_the_service_works() -> None:
    events = [StreamEvent(type="token", text="x")] * 5 + [StreamEvent(type="done", answer=FINAL)]
    source = ScriptedStream(events, pause=0.05)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    answer = await stream_answer(source, Q)  # type: ignore[arg-type]
    ticker.cancel()
    assert answer == FINAL
    assert ticks >= 5
    assert source.calls == [("q", [])]
    assert await asyncio.to_thread(source.closed.wait, 5)


# ------------------------------------------------------------------ Throttled


async def test_throttled_publishes_the_latest_value_at_most_once_per_interval() -> None:
    published: list[tuple[float, int]] = []

    async def publish(value: int) -> None:
        published.append((time.monotonic(), value))

    interval = 0.1
    started = time.monotonic()
    async with Throttled(publish, interval) as throttle:
        for i in range(60):
            throttle.push(i)
            await asyncio.sleep(0.01)
    elapsed = time.monotonic() - started

    times = [t for t, _ in published]
    values = [v for _, v in published]
    assert len(published) >= 2
    assert len(published) <= elapsed / interval + 1
    assert times[0] - started >= interval  # no preview for what finishes within the first interval
    assert all(b - a >= interval for a, b in zip(times, times[1:], strict=False))
    assert values == sorted(values) and len(set(values)) == len(values)


async def test_a_quick_result_is_never_previewed() -> None:
    published: list[str] = []

    async def publish(value: str) -> None:
        published.append(value)

    async with Throttled(publish, 1.0) as throttle:
        throttle.push("everything at once")
    assert published == []


async def test_leaving_waits_for_an_edit_in_flight_and_drops_the_rest() -> None:
    events: list[str] = []
    started = asyncio.Event()

    async def publish(value: str) -> None:
        events.append(f"start {value}")
        started.set()
        await asyncio.sleep(0.1)
        events.append(f"end {value}")

    async with Throttled(publish, 0.01) as throttle:
        throttle.push("a")
        await started.wait()
        throttle.push("b")  # pending when the block ends: dropped, the caller sends the final version
    events.append("final")
    assert events == ["start a", "end a", "final"]


async def test_a_failed_edit_does_not_stop_the_previews() -> None:
    calls: list[str] = []

    async def publish(value: str) -> None:
        calls.append(value)
        if value == "a":
            raise discord.HTTPException(_Response(500), "server error")  # type: ignore[arg-type]

    async with Throttled(publish, 0.02) as throttle:
        throttle.push("a")
        while not calls:
            await asyncio.sleep(0.01)
        throttle.push("b")
        while len(calls) < 2:
            await asyncio.sleep(0.01)
    assert calls == ["a", "b"]


async def test_an_error_in_the_block_stops_the_pump() -> None:
    async def publish(value: str) -> None:
        await asyncio.sleep(10)

    with pytest.raises(ValueError):
        async with Throttled(publish, 0.0) as throttle:
            throttle.push("a")
            await asyncio.sleep(0.02)
            raise ValueError("boom")


class _Response:
    def __init__(self, status: int) -> None:
        self.status = status
        self.reason = "error"


# ------------------------------------------------------------------ cooldown, permissions, invite


def test_cooldown_is_per_user() -> None:
    now = [100.0]
    cooldown = Cooldown(5.0, clock=lambda: now[0])
    assert cooldown.retry_after(1) == 0
    assert cooldown.retry_after(2) == 0
    now[0] += 2
    assert cooldown.retry_after(1) == pytest.approx(3.0)
    now[0] += 3
    assert cooldown.retry_after(1) == 0
    assert Cooldown(0).retry_after(1) == 0 and Cooldown(0).retry_after(1) == 0


def test_reindex_needs_manage_server_or_the_configured_role() -> None:
    world = fakes.FakeDiscord()
    manager = world.member("ada", manage_guild=True)
    editor = world.member("bo", roles=["Editors"])
    reader = world.member("cy", roles=["Readers"])
    admin = fakes.FakeMember("di", guild_permissions=discord.Permissions(administrator=True))

    assert can_reindex(manager, None)  # type: ignore[arg-type]
    assert can_reindex(admin, None)  # type: ignore[arg-type]
    assert not can_reindex(editor, None)  # type: ignore[arg-type]
    assert can_reindex(editor, "Editors")  # type: ignore[arg-type]
    assert can_reindex(editor, str(editor.roles[0].id))  # type: ignore[arg-type]
    assert not can_reindex(reader, "Editors")  # type: ignore[arg-type]
    assert not can_reindex(fakes.FakeUser("dm user"), "Editors")  # type: ignore[arg-type]


def test_invite_asks_for_the_minimum_permissions_and_the_readme_shows_them() -> None:
    wanted = {
        "view_channel",
        "send_messages",
        "send_messages_in_threads",
        "create_public_threads",
        "embed_links",
        "read_message_history",
    }
    assert INVITE_PERMISSIONS == discord.Permissions(**dict.fromkeys(wanted, True))
    assert INVITE_PERMISSIONS.value == 309237730304
    url = invite_url(123456789012345678)
    assert f"permissions={INVITE_PERMISSIONS.value}" in url
    assert "scope=bot+applications.commands" in url
    readme = (ROOT / "README.md").read_text()
    assert str(INVITE_PERMISSIONS.value) in readme
    assert NO_MENTIONS.to_dict() == {"parse": []}


# ------------------------------------------------------------------ the fakes keep discord.py's shape


def _params(function: object) -> set[str]:
    return {name for name in inspect.signature(function).parameters if name != "self"}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fake", "real"),
    [
        (fakes.FakeChannel.send, discord.abc.Messageable.send),
        (fakes.FakeMessage.edit, discord.Message.edit),
        (fakes.FakeMessage.edit, discord.WebhookMessage.edit),
        (fakes.FakeMessage.delete, discord.Message.delete),
        (fakes.FakeMessage.create_thread, discord.Message.create_thread),
        (fakes.FakeInteractionResponse.defer, discord.InteractionResponse.defer),
        (fakes.FakeInteractionResponse.send_message, discord.InteractionResponse.send_message),
        (fakes.FakeFollowup.send, discord.Webhook.send),
        (fakes.FakeInteraction.delete_original_response, discord.Interaction.delete_original_response),
        (fakes.FakeInteraction.original_response, discord.Interaction.original_response),
    ],
)
def test_fake_methods_take_the_real_keywords(fake: object, real: object) -> None:
    assert _params(fake) <= _params(real)


@pytest.mark.parametrize(
    ("fake", "real"),
    [
        (fakes.FakeInteraction, discord.Interaction),
        (fakes.FakeMessage, discord.Message),
        (fakes.FakeThread, discord.Thread),
        (fakes.FakeTextChannel, discord.TextChannel),
        (fakes.FakeMember, discord.Member),
    ],
)
def test_fake_attributes_exist_on_the_real_classes(fake: type, real: type) -> None:
    used = {
        fakes.FakeInteraction: ["user", "channel", "channel_id", "guild", "client", "response", "followup"],
        fakes.FakeMessage: ["id", "channel", "guild", "author", "content", "embeds", "mentions", "edit", "delete"],
        fakes.FakeThread: ["id", "parent", "parent_id", "owner_id", "type", "guild", "send", "typing"],
        fakes.FakeTextChannel: ["id", "type", "guild", "send", "typing", "mention"],
        fakes.FakeMember: ["id", "bot", "display_name", "guild_permissions", "roles", "mention"],
    }[fake]
    for name in used:
        assert hasattr(real, name), f"{real.__name__} has no {name}"


async def test_fakes_enforce_discord_rules() -> None:
    world = fakes.FakeDiscord()
    user = world.member("ada")
    with pytest.raises(fakes.DiscordRejected):
        await world.channel.send("x" * 2001)
    with pytest.raises(fakes.DiscordRejected):
        await world.channel.send(None)
    interaction = world.interaction(user)
    with pytest.raises(fakes.DiscordRejected):
        await interaction.followup.send("too early")
    await interaction.response.defer(ephemeral=False, thinking=True)
    with pytest.raises(fakes.DiscordRejected):
        await interaction.response.defer()
    first = await interaction.followup.send("answer", ephemeral=True, wait=True)
    second = await interaction.followup.send("more", ephemeral=True, wait=True)
    assert first is not None and first is interaction.original and not first.ephemeral  # the defer's visibility wins
    assert second is not None and second.ephemeral
