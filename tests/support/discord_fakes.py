"""Objects shaped like discord.py's, to drive the bot's handlers in-process without a token or a network.

Everything posted goes through one `Transcript` per test, which records each send, edit, delete, defer,
thread and typing indicator with its arguments and time, so a test sees exactly what Discord would show:
content, embeds, views, ephemerality and allowed_mentions.

The look-alikes keep the keyword names of the real methods (a unit test checks them against discord.py) and
enforce the Discord rules the bot depends on, raising `DiscordRejected` where Discord would answer 400:
message and embed size limits, no empty messages, one initial response per interaction, no follow-up
before the response, and a deferred response's first follow-up replacing the "thinking…" message while
keeping the visibility chosen when deferring.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import discord
from discord.utils import MISSING

CONTENT_LIMIT = 2000
EMBEDS_PER_MESSAGE = 10
EMBEDS_TOTAL_LIMIT = 6000
THREAD_NAME_LIMIT = 100

_ids = itertools.count(10_000_000)


def new_id() -> int:
    return next(_ids)


class DiscordRejected(Exception):
    """What Discord's API would refuse (400/404)."""


@dataclass
class Event:
    kind: str  # send | edit | delete | defer | respond | thread | typing
    message: FakeMessage | None
    kwargs: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


class Transcript:
    """Every action of the bot, in order."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.created: list[FakeMessage] = []

    def record(self, kind: str, message: FakeMessage | None, kwargs: dict[str, Any]) -> None:
        self.events.append(Event(kind, message, dict(kwargs)))

    def visible(self, channel: FakeChannel | None = None) -> list[FakeMessage]:
        """The bot's messages that are still there (not deleted, no longer "thinking"), in order of creation."""
        return [
            m for m in self.created if not m.deleted and not m.thinking and (channel is None or m.channel is channel)
        ]

    def of(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.kind == kind]

    def writes(self) -> list[Event]:
        """Every send, response and edit: each must carry allowed_mentions."""
        return [e for e in self.events if e.kind in ("send", "respond", "edit")]


def check_message(content: str | None, embeds: Sequence[discord.Embed], view: Any, *, editing: bool) -> None:
    if content is not None and len(content) > CONTENT_LIMIT:
        raise DiscordRejected(f"content is {len(content)} characters; the limit is {CONTENT_LIMIT}")
    if len(embeds) > EMBEDS_PER_MESSAGE:
        raise DiscordRejected(f"{len(embeds)} embeds; the limit is {EMBEDS_PER_MESSAGE}")
    total = sum(len(e) for e in embeds)
    if total > EMBEDS_TOTAL_LIMIT:
        raise DiscordRejected(f"embeds hold {total} characters; the limit is {EMBEDS_TOTAL_LIMIT}")
    for embed in embeds:
        embed.to_dict()
    if view is not None and view is not MISSING:
        rows = view.to_components()
        if len(rows) > 5:
            raise DiscordRejected("more than 5 component rows")
    if not editing and not content and not embeds:
        raise DiscordRejected("Cannot send an empty message")


@dataclass(eq=False)
class FakeRole:
    name: str
    id: int = field(default_factory=new_id)


@dataclass(eq=False)
class FakeGuild:
    name: str = "Newsroom"
    id: int = field(default_factory=new_id)


@dataclass(eq=False)
class FakeUser:
    name: str
    bot: bool = False
    id: int = field(default_factory=new_id)

    @property
    def display_name(self) -> str:
        return self.name

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def __str__(self) -> str:
        return self.name


@dataclass(eq=False)
class FakeMember(FakeUser):
    guild: FakeGuild | None = None
    guild_permissions: discord.Permissions = field(default_factory=discord.Permissions.none)
    roles: list[FakeRole] = field(default_factory=list)


class FakeMessage:
    def __init__(
        self,
        transcript: Transcript,
        channel: FakeChannel,
        author: FakeUser,
        content: str | None = None,
        *,
        embeds: Sequence[discord.Embed] = (),
        view: Any = None,
        ephemeral: bool = False,
        allowed_mentions: Any = MISSING,
        mentions: Sequence[FakeUser] = (),
        thinking: bool = False,
    ) -> None:
        self.transcript = transcript
        self.id = new_id()
        self.created_at = datetime.now(UTC)
        self.channel = channel
        self.guild = channel.guild
        self.author = author
        self.content = content or ""
        self.embeds = list(embeds)
        self.view = view
        self.ephemeral = ephemeral
        self.allowed_mentions = allowed_mentions
        self.mentions = list(mentions)
        self.thinking = thinking
        self.deleted = False
        self.nonce: str | None = None
        self.edits: list[dict[str, Any]] = []
        self.thread: FakeThread | None = None

    def __repr__(self) -> str:
        return f"<FakeMessage {self.id} {self.content[:40]!r} embeds={len(self.embeds)} ephemeral={self.ephemeral}>"

    def _fill(
        self, content: str | None, embeds: Sequence[discord.Embed] | None, view: Any, allowed_mentions: Any
    ) -> None:
        if content is not MISSING:
            self.content = content or ""
        if embeds is not MISSING and embeds is not None:
            self.embeds = list(embeds)
        if view is not MISSING:
            self.view = view
        self.allowed_mentions = allowed_mentions

    async def edit(
        self,
        *,
        content: str | None = MISSING,
        embed: discord.Embed | None = MISSING,
        embeds: Sequence[discord.Embed] = MISSING,
        view: Any = MISSING,
        allowed_mentions: Any = MISSING,
    ) -> FakeMessage:
        if self.deleted:
            raise DiscordRejected("Unknown Message")
        if embed is not MISSING:
            embeds = [] if embed is None else [embed]
        new_content = self.content if content is MISSING else content
        new_embeds = self.embeds if embeds is MISSING else list(embeds)
        check_message(new_content, new_embeds, view, editing=True)
        if not new_content and not new_embeds:
            raise DiscordRejected("Cannot edit a message into an empty one")
        kwargs = {"content": content, "embeds": embeds, "view": view, "allowed_mentions": allowed_mentions}
        self.edits.append(kwargs)
        self._fill(content, embeds, view, allowed_mentions)
        self.transcript.record("edit", self, kwargs)
        return self

    async def delete(self, *, delay: float | None = None) -> None:
        if self.deleted:
            raise DiscordRejected("Unknown Message")
        self.deleted = True
        self.transcript.record("delete", self, {})

    async def create_thread(
        self,
        *,
        name: str,
        auto_archive_duration: int = MISSING,
        slowmode_delay: int | None = None,
        reason: str | None = None,
    ) -> FakeThread:
        if not isinstance(self.channel, FakeTextChannel) or isinstance(self.channel, FakeThread):
            raise DiscordRejected("threads can only be started from messages in text channels")
        if self.thread is not None:
            raise DiscordRejected("a thread has already been created for this message")
        if not name or len(name) > THREAD_NAME_LIMIT:
            raise DiscordRejected(f"thread name must be 1-{THREAD_NAME_LIMIT} characters")
        if auto_archive_duration is not MISSING and auto_archive_duration not in (60, 1440, 4320, 10080):
            raise DiscordRejected("invalid auto_archive_duration")
        owner = self.channel.world.me
        # A thread started from a message has the message's id.
        self.thread = FakeThread(self.channel.world, name=name, parent=self.channel, owner_id=owner.id, id=self.id)
        self.transcript.record("thread", None, {"name": name, "auto_archive_duration": auto_archive_duration})
        return self.thread


class FakeChannel:
    type: discord.ChannelType = discord.ChannelType.text

    def __init__(self, world: FakeDiscord, name: str, guild: FakeGuild | None, id: int | None = None) -> None:
        self.world = world
        self.name = name
        self.guild = guild
        self.id = id if id is not None else new_id()

    @property
    def transcript(self) -> Transcript:
        return self.world.transcript

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    async def send(
        self,
        content: str | None = None,
        *,
        embed: discord.Embed | None = None,
        embeds: Sequence[discord.Embed] | None = None,
        view: Any = None,
        allowed_mentions: Any = None,
        reference: Any = None,
        mention_author: bool | None = None,
        silent: bool = False,
        suppress_embeds: bool = False,
        nonce: str | int | None = None,
    ) -> FakeMessage:
        if embed is not None and embeds is not None:
            raise TypeError("Cannot mix embed and embeds keyword arguments.")
        if nonce is not None and len(str(nonce)) > 25:
            raise DiscordRejected("Invalid Form Body: nonce must be 25 or fewer in length")
        # discord.py sends enforce_nonce with a nonce: the bot's recent message with the same nonce comes back
        # instead of a new one (Discord keeps nonces for a few minutes; the fake keeps them all)
        for earlier in self.transcript.created:
            if nonce is not None and earlier.channel is self and earlier.nonce == str(nonce):
                return earlier
        embeds = [embed] if embed is not None else list(embeds or [])
        check_message(content, embeds, view, editing=False)
        message = FakeMessage(
            self.transcript,
            self,
            self.world.me,
            content,
            embeds=embeds,
            view=view,
            allowed_mentions=allowed_mentions if allowed_mentions is not None else MISSING,
        )
        message.nonce = None if nonce is None else str(nonce)
        self.transcript.created.append(message)
        kwargs = {"content": content, "embeds": embeds, "view": view, "allowed_mentions": allowed_mentions}
        self.transcript.record("send", message, kwargs)
        return message

    async def fetch_message(self, message_id: int) -> FakeMessage:
        """A message the bot posted in this channel (discord.NotFound-like DiscordRejected when there is none)."""
        for message in self.transcript.created:
            if message.id == message_id and message.channel is self and not message.deleted:
                return message
        raise DiscordRejected("Unknown Message")

    def typing(self) -> Any:
        @asynccontextmanager
        async def typing() -> AsyncIterator[None]:
            self.transcript.record("typing", None, {"channel": self.id})
            yield

        return typing()

    def incoming(self, author: FakeUser, content: str, mentions: Sequence[FakeUser] = ()) -> FakeMessage:
        """A message someone else posts in this channel (not recorded as the bot's)."""
        return FakeMessage(self.transcript, self, author, content, mentions=mentions)


class FakeTextChannel(FakeChannel):
    type = discord.ChannelType.text


class FakeThread(FakeChannel):
    type = discord.ChannelType.public_thread

    def __init__(
        self, world: FakeDiscord, name: str, parent: FakeTextChannel, owner_id: int, id: int | None = None
    ) -> None:
        super().__init__(world, name, parent.guild, id)
        self.parent = parent
        self.parent_id = parent.id
        self.owner_id = owner_id


class FakeDMChannel(FakeChannel):
    type = discord.ChannelType.private

    def __init__(self, world: FakeDiscord, recipient: FakeUser) -> None:
        super().__init__(world, f"dm-{recipient.name}", None)
        self.recipient = recipient


class FakeInteractionResponse:
    def __init__(self, interaction: FakeInteraction) -> None:
        self._interaction = interaction
        self._done = False
        self.deferred: dict[str, bool] | None = None

    def is_done(self) -> bool:
        return self._done

    def _claim(self) -> None:
        if self._done:
            raise DiscordRejected("This interaction has already been responded to before")
        self._done = True

    async def defer(self, *, ephemeral: bool = False, thinking: bool = False) -> None:
        self._claim()
        self.deferred = {"ephemeral": ephemeral, "thinking": thinking}
        interaction = self._interaction
        # A deferred slash command shows "<bot> is thinking…" until its first follow-up replaces it.
        interaction.original = FakeMessage(
            interaction.transcript, interaction.channel, interaction.world.me, ephemeral=ephemeral, thinking=True
        )
        interaction.transcript.created.append(interaction.original)
        interaction.transcript.record("defer", interaction.original, dict(self.deferred))

    async def send_message(
        self,
        content: Any = None,
        *,
        embed: discord.Embed = MISSING,
        embeds: Sequence[discord.Embed] = MISSING,
        view: Any = MISSING,
        ephemeral: bool = False,
        allowed_mentions: Any = MISSING,
        suppress_embeds: bool = False,
        silent: bool = False,
        delete_after: float | None = None,
    ) -> None:
        if embed is not MISSING and embeds is not MISSING:
            raise TypeError("Cannot mix embed and embeds keyword arguments.")
        self._claim()
        interaction = self._interaction
        embed_list = [embed] if embed is not MISSING else list(embeds or [])
        text = None if content is None else str(content)
        check_message(text, embed_list, view, editing=False)
        message = FakeMessage(
            interaction.transcript,
            interaction.channel,
            interaction.world.me,
            text,
            embeds=embed_list,
            view=None if view is MISSING else view,
            ephemeral=ephemeral,
            allowed_mentions=allowed_mentions,
        )
        interaction.original = message
        interaction.transcript.created.append(message)
        kwargs = {"content": text, "embeds": embed_list, "view": view, "ephemeral": ephemeral}
        interaction.transcript.record("respond", message, {**kwargs, "allowed_mentions": allowed_mentions})


class FakeFollowup:
    """Interaction.followup: a webhook bound to the interaction token."""

    def __init__(self, interaction: FakeInteraction) -> None:
        self._interaction = interaction

    async def send(
        self,
        content: str = MISSING,
        *,
        ephemeral: bool = False,
        embed: discord.Embed = MISSING,
        embeds: Sequence[discord.Embed] = MISSING,
        allowed_mentions: Any = MISSING,
        view: Any = MISSING,
        wait: bool = False,
        suppress_embeds: bool = False,
        silent: bool = False,
    ) -> FakeMessage | None:
        interaction = self._interaction
        if not interaction.response.is_done():
            raise DiscordRejected("Unknown Webhook: respond to (or defer) the interaction first")
        if embed is not MISSING and embeds is not MISSING:
            raise TypeError("Cannot mix embed and embeds keyword arguments.")
        embed_list = [embed] if embed is not MISSING else list(embeds if embeds is not MISSING else [])
        text = None if content is MISSING else content
        check_message(text, embed_list, view, editing=False)
        kwargs = {
            "content": text,
            "embeds": embed_list,
            "view": view,
            "ephemeral": ephemeral,
            "allowed_mentions": allowed_mentions,
        }
        original = interaction.original
        if original is not None and original.thinking and not original.deleted:
            # The first follow-up of a deferred response becomes that response: the defer's visibility wins.
            original.thinking = False
            original._fill(text, embed_list, view, allowed_mentions)
            message = original
        else:
            message = FakeMessage(
                interaction.transcript,
                interaction.channel,
                interaction.world.me,
                text,
                embeds=embed_list,
                view=None if view is MISSING else view,
                ephemeral=ephemeral,
                allowed_mentions=allowed_mentions,
            )
            interaction.transcript.created.append(message)
        interaction.transcript.record("send", message, kwargs)
        return message if wait else None


class FakeInteraction:
    def __init__(
        self,
        world: FakeDiscord,
        user: FakeUser,
        channel: FakeChannel,
        client: Any = None,
    ) -> None:
        self.world = world
        self.id = new_id()
        self.created_at = datetime.now(UTC)  # discord.py: when it was sent, an aware UTC datetime
        self.user = user
        self.channel = channel
        self.channel_id = channel.id
        self.guild = channel.guild
        self.guild_id = channel.guild.id if channel.guild else None
        self.client = client
        self.response = FakeInteractionResponse(self)
        self.followup = FakeFollowup(self)
        self.original: FakeMessage | None = None

    @property
    def transcript(self) -> Transcript:
        return self.world.transcript

    async def original_response(self) -> FakeMessage:
        if self.original is None or self.original.deleted:
            raise DiscordRejected("Unknown Message")
        return self.original

    async def delete_original_response(self) -> None:
        if self.original is None or self.original.deleted:
            raise DiscordRejected("Unknown Message")
        await self.original.delete()


class FakeDiscord:
    """A guild with a text channel, the bot's own user, and a transcript of everything the bot does."""

    def __init__(self) -> None:
        self.transcript = Transcript()
        self.me = FakeUser("Newsdesk", bot=True)
        self.guild = FakeGuild()
        self.channel = self.text_channel("news")

    def text_channel(self, name: str) -> FakeTextChannel:
        return FakeTextChannel(self, name, self.guild)

    def dm(self, user: FakeUser) -> FakeDMChannel:
        return FakeDMChannel(self, user)

    def member(
        self, name: str, *, manage_guild: bool = False, manage_channels: bool = False, roles: Sequence[str] = ()
    ) -> FakeMember:
        return FakeMember(
            name,
            guild=self.guild,
            guild_permissions=discord.Permissions(manage_guild=manage_guild, manage_channels=manage_channels),
            roles=[FakeRole(role) for role in roles],
        )

    def interaction(self, user: FakeUser, channel: FakeChannel | None = None, client: Any = None) -> FakeInteraction:
        return FakeInteraction(self, user, channel or self.channel, client)
