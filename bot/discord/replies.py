"""Where replies go: the follow-ups of an interaction or the messages of a channel, never pinging anyone."""

from __future__ import annotations

import logging
from typing import Any, Protocol

import discord

from bot.discord.messages import RenderedMessage

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()


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


async def respond(interaction: discord.Interaction, text: str) -> None:
    """A short private reply to an interaction that has not been answered yet."""
    await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
