"""The Discord face: slash commands, mentions answered in threads, streamed answers and 👍/👎 feedback.

The behaviour lives in `Handlers`, plain async methods that get the service, the settings and the feedback
store through the constructor and use only a few discord.py calls (defer, follow up, send, edit, create a
thread), so tests drive them in-process with recorded look-alikes. `NewsdeskBot` registers them as app
commands and events in `setup_hook`; `run_bot` logs in and runs until cancelled.

The service is synchronous: every call to it runs in a worker thread so the event loop never blocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Literal, Protocol, TypeVar

import aiohttp
import discord
from discord import app_commands

from bot.feedback import FeedbackStore, Where
from bot.render import (
    RenderedMessage,
    apology,
    render_answer,
    render_help,
    render_ingest_report,
    render_preview,
    render_progress,
    render_search,
    render_status,
    thread_name,
)
from retrieval.config import Settings
from retrieval.errors import NewsdeskError
from retrieval.service import Newsdesk
from retrieval.types import Answer, StreamEvent, Turn

log = logging.getLogger(__name__)

T = TypeVar("T")

NO_MENTIONS = discord.AllowedMentions.none()
# What the bot needs in a channel: see it, read the message history of its threads, post (also in threads),
# start a thread from a mention, and embed links (the sources are embeds).
INVITE_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    embed_links=True,
    read_message_history=True,
)
INVITE_SCOPES = ("bot", "applications.commands")

STREAM_EDIT_SECONDS = 1.0  # Discord allows about 5 edits per 5 s per channel; once a second stays well clear
HISTORY_TURNS = 8
THREAD_ARCHIVE_MINUTES: Literal[1440] = 1440  # a day
RETRY_FIRST_SECONDS = 5.0
RETRY_MAX_SECONDS = 300.0

_TEXT_CHANNELS = (discord.ChannelType.text, discord.ChannelType.news)
_THREADS = (discord.ChannelType.public_thread, discord.ChannelType.private_thread, discord.ChannelType.news_thread)


def invite_url(application_id: int) -> str:
    """The URL that adds the bot to a server with the minimum permissions it needs."""
    return discord.utils.oauth_url(application_id, permissions=INVITE_PERMISSIONS, scopes=INVITE_SCOPES)


class DiscordLoginError(NewsdeskError):
    """Discord refused the bot's login: the token or the application's settings must be fixed."""

    status_code = 503
    code = "discord_login"


# ---------------------------------------------------------------------------------------------------------
# Answering (plain async functions)
# ---------------------------------------------------------------------------------------------------------


def _sent_at(event: object) -> datetime | None:
    """When a message or interaction was sent (discord.py gives an aware UTC datetime)."""
    sent = getattr(event, "created_at", None)
    return sent if isinstance(sent, datetime) else None


async def stream_answer(
    service: Newsdesk,
    question: str,
    history: list[Turn] | None = None,
    on_text: Callable[[str], None] | None = None,
    as_of: datetime | None = None,
) -> Answer:
    """Ask the service in a worker thread; on_text gets the text so far after each token. `as_of`: when the
    question was asked (the message's own time), which "last week" and "latest" are read against.

    Returns the final, citation-checked Answer of the `done` event, which is what must be shown in the end
    (streamed tokens are provisional). Engine errors are raised as they are.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[StreamEvent | Exception | None] = asyncio.Queue()
    stop = threading.Event()

    def put(item: StreamEvent | Exception | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closing: nobody is listening any more
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def produce() -> None:
        try:
            events = service.ask_stream(question, history, as_of=as_of)
            try:
                for event in events:
                    if stop.is_set():
                        break
                    put(event)
            finally:
                close = getattr(events, "close", None)
                if close is not None:
                    close()
        except Exception as exc:  # handed over to the event loop, which raises it
            put(exc)
        else:
            put(None)

    worker = asyncio.ensure_future(asyncio.to_thread(produce))
    text = ""
    failure: str | None = None
    try:
        while True:
            item = await queue.get()
            if isinstance(item, Exception):
                raise item
            if item is None:
                raise RuntimeError(f"the answer stream ended without a final answer ({failure or 'no error event'})")
            if item.type == "token" and item.text:
                text += item.text
                if on_text is not None:
                    on_text(text)
            elif item.type == "error":
                failure = item.message
                log.warning("answer stream reported an error: %s", item.message)
            elif item.type == "done" and item.answer is not None:
                return item.answer
    finally:
        stop.set()
        if worker.done() and not worker.cancelled():
            worker.exception()  # produce() never raises; this just marks the result as seen


class Throttled(Generic[T]):
    """Publishes the latest pushed value at most once per interval, dropping the ones in between.

    The first publication comes no sooner than one interval after entering, so a result that is ready
    quickly is shown once, in full, without a preview flashing first. Leaving waits for a publication in
    flight (so that it cannot land after the final edit) and drops what is still pending.
    """

    def __init__(self, publish: Callable[[T], Awaitable[None]], interval: float) -> None:
        self._publish = publish
        self.interval = interval
        self._value: list[T] = []
        self._wake = asyncio.Event()
        self._closing = asyncio.Event()
        self._last = time.monotonic()
        self._task: asyncio.Task[None] | None = None
        self.published = 0

    def push(self, value: T) -> None:
        self._value = [value]
        self._wake.set()

    async def __aenter__(self) -> Throttled[T]:
        self._last = time.monotonic()
        self._task = asyncio.create_task(self._pump())
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        self._closing.set()
        self._wake.set()
        if self._task is None:
            return
        if exc_type is not None:
            self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise

    async def _pump(self) -> None:
        while True:
            await self._wake.wait()
            if self._closing.is_set():
                return
            delay = self._last + self.interval - time.monotonic()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), delay)
                if self._closing.is_set():
                    return
            self._wake.clear()
            (value,) = self._value
            try:
                await self._publish(value)
            except discord.HTTPException:
                log.warning("could not update a message in place; the final version will still be sent", exc_info=True)
            self._last = time.monotonic()
            self.published += 1


# ---------------------------------------------------------------------------------------------------------
# Where replies go
# ---------------------------------------------------------------------------------------------------------


class Replies(Protocol):
    async def send(self, message: RenderedMessage, view: discord.ui.View | None = None) -> discord.Message: ...

    async def fail(self, text: str) -> None: ...


def _message_kwargs(message: RenderedMessage, view: discord.ui.View | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"content": message.content, "embeds": message.embeds, "allowed_mentions": NO_MENTIONS}
    if view is not None:
        kwargs["view"] = view
    return kwargs


async def edit_message(target: discord.Message, message: RenderedMessage, view: discord.ui.View | None = None) -> None:
    await target.edit(**_message_kwargs(message, view))


class InteractionReplies:
    """Follow-up messages of a deferred interaction."""

    def __init__(self, interaction: discord.Interaction, ephemeral: bool) -> None:
        self.interaction = interaction
        self.ephemeral = ephemeral
        self.posted: list[discord.Message] = []

    async def send(self, message: RenderedMessage, view: discord.ui.View | None = None) -> discord.Message:
        kwargs = _message_kwargs(message, view)
        sent = await self.interaction.followup.send(ephemeral=self.ephemeral, wait=True, **kwargs)
        self.posted.append(sent)
        return sent

    async def fail(self, text: str) -> None:
        response = self.interaction.response
        if not response.is_done():
            await response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        # The first follow-up of a deferred reply replaces its "thinking…" message and keeps its visibility,
        # so a public placeholder (or partial answer) is deleted first and the apology is sent on its own.
        try:
            if self.posted:
                for message in reversed(self.posted):
                    await message.delete()
            else:
                await self.interaction.delete_original_response()
        except discord.HTTPException:
            log.warning("could not remove a partial reply", exc_info=True)
        self.posted.clear()
        await self.interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


class ChannelReplies:
    """Messages in a channel or thread (answers to mentions and thread follow-ups)."""

    def __init__(self, channel: discord.abc.Messageable) -> None:
        self.channel = channel
        self.posted: list[discord.Message] = []

    async def send(self, message: RenderedMessage, view: discord.ui.View | None = None) -> discord.Message:
        sent = await self.channel.send(**_message_kwargs(message, view))
        self.posted.append(sent)
        return sent

    async def fail(self, text: str) -> None:
        try:
            for message in reversed(self.posted):
                await message.delete()
        except discord.HTTPException:
            log.warning("could not remove a partial reply", exc_info=True)
        self.posted.clear()
        await self.channel.send(text, allowed_mentions=NO_MENTIONS)


async def deliver(
    replies: Replies,
    messages: list[RenderedMessage],
    first: discord.Message | None = None,
    view: discord.ui.View | None = None,
) -> None:
    """Send rendered messages in order (the first replaces `first`, the growing preview, when there is one);
    the view (the feedback buttons) goes under the last one."""
    last = len(messages) - 1
    for i, message in enumerate(messages):
        message_view = view if i == last else None
        if i == 0 and first is not None:
            await edit_message(first, message, message_view)
        else:
            await replies.send(message, message_view)


# ---------------------------------------------------------------------------------------------------------
# Feedback buttons
# ---------------------------------------------------------------------------------------------------------


class FeedbackButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"newsdesk:vote:(?P<vote>up|down):(?P<answer>[0-9a-f]{32})",
):
    """👍 or 👎 under an answer. The answer id lives in the custom id, so buttons work after a restart."""

    def __init__(self, answer_id: str, up: bool) -> None:
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.secondary,
                emoji="👍" if up else "👎",
                custom_id=f"newsdesk:vote:{'up' if up else 'down'}:{answer_id}",
            )
        )
        self.answer_id = answer_id
        self.up = up

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> FeedbackButton:
        return cls(match["answer"], match["vote"] == "up")

    async def callback(self, interaction: discord.Interaction) -> None:
        client = interaction.client
        if isinstance(client, NewsdeskBot):
            await client.handlers.vote(interaction, self.answer_id, self.up)


def feedback_view(answer_id: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(FeedbackButton(answer_id, up=True))
    view.add_item(FeedbackButton(answer_id, up=False))
    return view


# ---------------------------------------------------------------------------------------------------------
# Handlers
# ---------------------------------------------------------------------------------------------------------


class Cooldown:
    """At most one question per user every `seconds`."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._last: dict[int, float] = {}

    def retry_after(self, user_id: int) -> float:
        """0 and the user's clock restarts, or the seconds left to wait."""
        if self.seconds <= 0:
            return 0.0
        now = self._clock()
        last = self._last.get(user_id)
        if last is not None and now - last < self.seconds:
            return self.seconds - (now - last)
        self._last[user_id] = now
        if len(self._last) > 10_000:
            self._last = {u: t for u, t in self._last.items() if now - t < self.seconds}
        return 0.0


@dataclass
class ReindexRun:
    started_by: str
    done: int = 0
    total: int | None = None

    def describe(self) -> str:
        progress = f"{self.done:,} / {self.total:,} articles" if self.total else "reading articles"
        return f"started by {self.started_by}, {progress}"


def can_reindex(user: discord.abc.User, role: str | None) -> bool:
    """Manage Server (or Administrator), or the configured role (by name or id)."""
    permissions = getattr(user, "guild_permissions", None)
    if permissions is not None and (permissions.manage_guild or permissions.administrator):
        return True
    if role:
        return any(r.name == role or str(r.id) == role for r in getattr(user, "roles", []))
    return False


def _error_id() -> str:
    return secrets.token_hex(4)


def _where(user: discord.abc.User, guild: discord.Guild | None, channel_id: int | None) -> Where:
    return Where(user_id=user.id, guild_id=guild.id if guild else None, channel_id=channel_id)


class Handlers:
    """What the bot does, as plain async methods over discord.py objects (or look-alikes)."""

    def __init__(
        self,
        service: Newsdesk,
        settings: Settings,
        feedback: FeedbackStore,
        *,
        stream_interval: float = STREAM_EDIT_SECONDS,
        progress_interval: float = STREAM_EDIT_SECONDS,
    ) -> None:
        self.service = service
        self.settings = settings
        self.feedback = feedback
        self.stream_interval = stream_interval
        self.progress_interval = progress_interval
        self.cooldown = Cooldown(settings.discord_cooldown_seconds)
        self.reindexing: ReindexRun | None = None

    # ------------------------------------------------------------- guards

    def channel_allowed(self, channel_id: int | None, channel: object) -> bool:
        allowed = self.settings.discord_channel_ids
        if not allowed:
            return True
        return channel_id in allowed or getattr(channel, "parent_id", None) in allowed

    def _not_here(self) -> str:
        places = ", ".join(f"<#{c}>" for c in self.settings.discord_channel_ids)
        return f"I only answer in {places}."

    def _slow_down(self, wait: float) -> str:
        return f"One question at a time, please: you can ask again in {math.ceil(wait)} s."

    async def _admit(self, interaction: discord.Interaction, question: str) -> str | None:
        """The cleaned question, or None after telling the user (privately) why not."""
        if not self.channel_allowed(interaction.channel_id, interaction.channel):
            await _respond(interaction, self._not_here())
            return None
        try:
            question = self.service.validate_question(question)
        except NewsdeskError as exc:
            await _respond(interaction, exc.message)
            return None
        if (wait := self.cooldown.retry_after(interaction.user.id)) > 0:
            await _respond(interaction, self._slow_down(wait))
            return None
        return question

    async def _failed(self, replies: Replies, exc: Exception, what: str) -> None:
        if isinstance(exc, NewsdeskError):
            log.info("%s: %s", what, exc.message)
            text = exc.message
        else:
            error_id = _error_id()
            log.exception("%s failed [error id %s]", what, error_id)
            text = apology(error_id)
        try:
            await replies.fail(text)
        except discord.HTTPException:
            log.warning("could not tell the user that %s failed", what, exc_info=True)

    # ------------------------------------------------------------- answering

    async def answer(
        self,
        replies: Replies,
        question: str,
        history: list[Turn] | None,
        where: Where,
        as_of: datetime | None = None,
    ) -> tuple[Answer, str]:
        """Stream the answer into one growing message, then post the final answer, its sources and the
        feedback buttons. Returns the answer and its id in the feedback log."""
        preview: discord.Message | None = None

        async def show(text: str) -> None:
            nonlocal preview
            message = RenderedMessage(render_preview(text))
            if preview is None:
                preview = await replies.send(message)
            else:
                await edit_message(preview, message)

        async with Throttled(show, self.stream_interval) as throttle:
            answer = await stream_answer(self.service, question, history, on_text=throttle.push, as_of=as_of)
        answer_id = await asyncio.to_thread(self.feedback.record_answer, question, answer, where)
        await deliver(replies, render_answer(answer), preview, feedback_view(answer_id))
        return answer, answer_id

    async def ask(self, interaction: discord.Interaction, question: str, private: bool = False) -> None:
        admitted = await self._admit(interaction, question)
        if admitted is None:
            return
        replies = InteractionReplies(interaction, ephemeral=private)
        try:
            await interaction.response.defer(ephemeral=private, thinking=True)
            where = _where(interaction.user, interaction.guild, interaction.channel_id)
            await self.answer(replies, admitted, None, where, _sent_at(interaction))
        except Exception as exc:
            await self._failed(replies, exc, "/ask")

    async def search(self, interaction: discord.Interaction, query: str) -> None:
        admitted = await self._admit(interaction, query)
        if admitted is None:
            return
        replies = InteractionReplies(interaction, ephemeral=False)
        try:
            await interaction.response.defer(thinking=True)
            passages = await asyncio.to_thread(self.service.search, admitted, None, None, _sent_at(interaction))
            await deliver(replies, render_search(passages))
        except Exception as exc:
            await self._failed(replies, exc, "/search")

    async def on_message(self, message: discord.Message, me: discord.abc.User) -> None:
        """A mention starts a conversation in a new thread; messages in that thread are follow-ups."""
        author = message.author
        if author.bot or author.id == me.id:
            return
        channel = message.channel
        mentioned = any(user.id == me.id for user in message.mentions)
        direct = message.guild is None
        in_thread = getattr(channel, "type", None) in _THREADS
        follow_up = in_thread and await asyncio.to_thread(self.feedback.is_conversation, channel.id)
        if not (mentioned or follow_up or direct):
            return
        if not self.channel_allowed(channel.id, channel):
            return
        question = re.sub(rf"<@!?{me.id}>", " ", message.content).strip()
        if not question:
            if mentioned:
                await channel.send(
                    "Ask me something about the news after the mention, or use **/ask**.", allowed_mentions=NO_MENTIONS
                )
            return
        try:
            question = self.service.validate_question(question)
        except NewsdeskError as exc:
            await channel.send(exc.message, allowed_mentions=NO_MENTIONS)
            return
        if (wait := self.cooldown.retry_after(author.id)) > 0:
            await channel.send(self._slow_down(wait), allowed_mentions=NO_MENTIONS)
            return

        where = _where(author, message.guild, channel.id)
        history: list[Turn] | None = None
        target: discord.abc.Messageable = channel
        if follow_up:
            history = await asyncio.to_thread(self.feedback.history, channel.id, HISTORY_TURNS) or None
            where.thread_id = channel.id
        elif not direct and getattr(channel, "type", None) in _TEXT_CHANNELS:
            try:
                thread = await message.create_thread(
                    name=thread_name(question), auto_archive_duration=THREAD_ARCHIVE_MINUTES
                )
            except discord.HTTPException:
                log.warning("cannot start a thread in channel %s; answering in place", channel.id, exc_info=True)
            else:
                await asyncio.to_thread(self.feedback.start_conversation, thread.id, author.id, question)
                target, where.thread_id = thread, thread.id
        replies = ChannelReplies(target)
        try:
            async with target.typing():
                await self.answer(replies, question, history, where, _sent_at(message))
        except Exception as exc:
            await self._failed(replies, exc, "answering a mention")

    # ------------------------------------------------------------- the corpus

    async def reindex(self, interaction: discord.Interaction) -> None:
        role = self.settings.discord_reindex_role
        if not can_reindex(interaction.user, role):
            who = "members with Manage Server" + (f" or the {role} role" if role else "")
            await _respond(interaction, f"Only {who} can re-index.")
            return
        if self.reindexing is not None:
            await _respond(interaction, f"A re-index is already running ({self.reindexing.describe()}).")
            return
        run = self.reindexing = ReindexRun(started_by=interaction.user.display_name)
        replies = InteractionReplies(interaction, ephemeral=False)
        try:
            await interaction.response.defer(thinking=True)
            status = await replies.send(RenderedMessage(render_progress(0, None)))

            async def show(progress: tuple[int, int]) -> None:
                await edit_message(status, RenderedMessage(render_progress(*progress)))

            loop = asyncio.get_running_loop()

            def on_progress(done: int, total: int) -> None:  # called from the worker thread
                run.done, run.total = done, total
                loop.call_soon_threadsafe(throttle.push, (done, total))

            async with Throttled(show, self.progress_interval) as throttle:
                report = await asyncio.to_thread(
                    self.service.ingest, [str(self.settings.corpus_dir)], [], True, on_progress
                )
            await edit_message(status, RenderedMessage(render_ingest_report(report)))
        except Exception as exc:
            await self._failed(replies, exc, "/reindex")
        finally:
            self.reindexing = None

    async def status(self, interaction: discord.Interaction) -> None:
        replies = InteractionReplies(interaction, ephemeral=True)
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
            stats = await asyncio.to_thread(self.service.stats)
            counts = await asyncio.to_thread(self.feedback.counts)
            running = self.reindexing.describe() if self.reindexing else None
            await replies.send(RenderedMessage(None, [render_status(stats, counts, running)]))
        except Exception as exc:
            await self._failed(replies, exc, "/status")

    async def help(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(embed=render_help(), ephemeral=True, allowed_mentions=NO_MENTIONS)

    async def vote(self, interaction: discord.Interaction, answer_id: str, up: bool) -> None:
        try:
            known = await asyncio.to_thread(self.feedback.vote, answer_id, interaction.user.id, up)
        except Exception as exc:
            await self._failed(InteractionReplies(interaction, ephemeral=True), exc, "recording feedback")
            return
        text = f"Thanks for the feedback {'👍' if up else '👎'}" if known else "That answer is no longer on record."
        await _respond(interaction, text)


async def _respond(interaction: discord.Interaction, text: str) -> None:
    """A short private reply to an interaction that has not been answered yet."""
    await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


# ---------------------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------------------


class NewsdeskTree(app_commands.CommandTree[discord.Client]):
    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError, /) -> None:
        error_id = _error_id()
        log.error("command failed [error id %s]", error_id, exc_info=error)
        replies = InteractionReplies(interaction, ephemeral=True)
        with contextlib.suppress(discord.HTTPException):
            await replies.fail(apology(error_id))


class NewsdeskBot(discord.Client):
    """The Discord client; gets the service and settings in its constructor and shares the one service."""

    def __init__(
        self,
        service: Newsdesk,
        settings: Settings,
        feedback: FeedbackStore | None = None,
        *,
        stream_interval: float = STREAM_EDIT_SECONDS,
    ) -> None:
        intents = discord.Intents.default()
        intents.message_content = True  # privileged: follow-ups in threads do not mention the bot
        super().__init__(intents=intents, allowed_mentions=NO_MENTIONS)
        self.settings = settings
        self._owns_feedback = feedback is None
        self.handlers = Handlers(
            service,
            settings,
            feedback or FeedbackStore.in_data_dir(settings.data_dir),
            stream_interval=stream_interval,
        )
        self.tree = NewsdeskTree(self)

    async def close(self) -> None:
        await super().close()
        if self._owns_feedback:
            self.handlers.feedback.close()

    async def setup_hook(self) -> None:
        self.register_commands()
        self.add_dynamic_items(FeedbackButton)
        await self.sync_commands()

    def register_commands(self) -> None:
        handlers = self.handlers
        tree = self.tree

        @tree.command(name="ask", description="Answer a question from the news archive, with cited sources")
        @app_commands.describe(question="what you want to know", private="show the answer to you only")
        async def ask(interaction: discord.Interaction, question: str, private: bool = False) -> None:
            await handlers.ask(interaction, question, private)

        @tree.command(name="search", description="The best matching passages, without an answer")
        @app_commands.describe(query="words or a question")
        async def search(interaction: discord.Interaction, query: str) -> None:
            await handlers.search(interaction, query)

        @tree.command(name="reindex", description="Sync the index with the corpus (Manage Server)")
        @app_commands.guild_only()
        async def reindex(interaction: discord.Interaction) -> None:
            await handlers.reindex(interaction)

        if not self.settings.discord_reindex_role:
            # Hidden from members without Manage Server; with a role configured, the role must see it too.
            reindex.default_permissions = discord.Permissions(manage_guild=True)

        @tree.command(name="status", description="What is indexed, the answer mode and the feedback so far")
        async def status(interaction: discord.Interaction) -> None:
            await handlers.status(interaction)

        @tree.command(name="help", description="What Newsdesk can do")
        async def help_(interaction: discord.Interaction) -> None:
            await handlers.help(interaction)

    async def sync_commands(self) -> None:
        try:
            if self.settings.discord_guild_ids:
                for guild_id in self.settings.discord_guild_ids:
                    guild = discord.Object(id=guild_id)
                    self.tree.copy_global_to(guild=guild)
                    synced = await self.tree.sync(guild=guild)
                    log.info("synced %d commands to guild %s", len(synced), guild_id)
            else:
                synced = await self.tree.sync()
                log.info("synced %d global commands (they can take a while to appear everywhere)", len(synced))
        except discord.Forbidden:
            log.error(
                "Discord refused to register the slash commands: invite the bot with the applications.commands "
                "scope (see the README) and check NEWSDESK_DISCORD_GUILD_IDS"
            )

    async def on_ready(self) -> None:
        if self.user is not None:
            log.info("Discord bot logged in as %s; invite it with %s", self.user, invite_url(self.user.id))

    async def on_message(self, message: discord.Message) -> None:
        if self.user is not None:
            await self.handlers.on_message(message, self.user)


def _fatal(exc: Exception) -> str | None:
    """What to tell the operator when retrying cannot help."""
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        return (
            "Discord refused the Message Content intent: enable it for the bot in the Discord developer portal "
            "(Bot > Privileged Gateway Intents)"
        )
    if isinstance(exc, discord.LoginFailure) or (isinstance(exc, discord.ConnectionClosed) and exc.code == 4004):
        return "Discord refused the bot token: set NEWSDESK_DISCORD_TOKEN to the token from the developer portal"
    return None


async def run_bot(
    service: Newsdesk,
    settings: Settings,
    make_bot: Callable[[], NewsdeskBot] | None = None,
) -> None:
    """Log in and run until cancelled (the client is then closed cleanly).

    While Discord cannot be reached, it tries again with growing pauses; a refused token or intent is
    fatal and raised as DiscordLoginError.
    """
    if settings.discord_token is None:
        raise DiscordLoginError("NEWSDESK_DISCORD_TOKEN is not set: create a bot and set its token (see the README)")
    token = settings.discord_token.get_secret_value()
    feedback: FeedbackStore | None = None
    if make_bot is None:
        feedback = FeedbackStore.in_data_dir(settings.data_dir)
        shared = feedback

        def make_bot() -> NewsdeskBot:
            return NewsdeskBot(service, settings, shared)

    delay = RETRY_FIRST_SECONDS
    try:
        while True:
            bot = make_bot()  # a fresh client per attempt: a failed login leaves discord.py's session half-open
            try:
                async with bot:
                    await bot.start(token)
                return
            except (discord.DiscordException, aiohttp.ClientError, OSError) as exc:
                if (reason := _fatal(exc)) is not None:
                    log.error("%s", reason)
                    raise DiscordLoginError(reason) from exc
                log.warning("cannot reach Discord (%s); trying again in %.0f s", exc or type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_SECONDS)
    finally:
        if feedback is not None:
            feedback.close()
