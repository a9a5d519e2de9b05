"""Asking: /ask, and mentions answered in a new thread whose messages are follow-ups (with the thread's
history). The answer streams into one growing message, then the final, checked answer replaces it."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.desk import Desk, report_failure, sent_at, where
from bot.discord.limits import CONTENT_LIMIT, ELLIPSIS, THREAD_NAME_LIMIT, truncate
from bot.discord.messages import RenderedMessage, render_answer
from bot.discord.replies import NO_MENTIONS, ChannelReplies, InteractionReplies, Replies, deliver, edit_message
from bot.discord.stream import Throttled, stream_answer
from bot.discord.votes import feedback_view
from bot.feedback import Where
from retrieval.core.errors import NewsdeskError
from retrieval.core.types import Answer, Question, Turn

if TYPE_CHECKING:
    from bot.discord.client import NewsdeskBot

log = logging.getLogger(__name__)

HISTORY_TURNS = 8
THREAD_ARCHIVE_MINUTES: Literal[1440] = 1440  # a day
CURSOR = " ▌"

_TEXT_CHANNELS = (discord.ChannelType.text, discord.ChannelType.news)
_THREADS = (discord.ChannelType.public_thread, discord.ChannelType.private_thread, discord.ChannelType.news_thread)


class Ask(commands.Cog):
    """Answers from the news archive, with cited sources and 👍/👎 buttons."""

    def __init__(self, bot: NewsdeskBot) -> None:
        self.bot = bot
        self.desk: Desk = bot.desk
        self.stream_interval = bot.stream_interval

    @app_commands.command(name="ask", description="Answer a question from the news archive, with cited sources")
    @app_commands.describe(question="what you want to know", private="show the answer to you only")
    async def ask(self, interaction: discord.Interaction, question: str, private: bool = False) -> None:
        accepted = await self.desk.accept(interaction, question)
        if accepted is None:
            return
        replies = InteractionReplies(interaction, ephemeral=private)
        try:
            await interaction.response.defer(ephemeral=private, thinking=True)
            asked = where(interaction.user, interaction.guild, interaction.channel_id)
            await self.answer(replies, accepted, None, asked, sent_at(interaction))
        except Exception as exc:
            await report_failure(replies, exc, "/ask")

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if self.bot.user is not None:
            await self.answer_message(message, self.bot.user)

    async def answer_message(self, message: discord.Message, me: discord.abc.User) -> None:
        """A mention starts a conversation in a new thread; messages in that thread are follow-ups; direct
        messages are answered in place. Everything else is ignored."""
        author, channel = message.author, message.channel
        if author.bot or author.id == me.id:
            return
        mentioned = any(user.id == me.id for user in message.mentions)
        direct = message.guild is None
        in_thread = getattr(channel, "type", None) in _THREADS
        follow_up = in_thread and await asyncio.to_thread(self.desk.feedback.is_conversation, channel.id)
        if not (mentioned or follow_up or direct) or not self.desk.channel_allowed(channel.id, channel):
            return
        question = re.sub(rf"<@!?{me.id}>", " ", message.content).strip()
        if not question:
            if mentioned:
                hint = "Ask me something about the news after the mention, or use **/ask**."
                await channel.send(hint, allowed_mentions=NO_MENTIONS)
            return
        try:
            question = self.desk.vet(question, author.id)
        except NewsdeskError as exc:
            await channel.send(exc.message, allowed_mentions=NO_MENTIONS)
            return

        asked = where(author, message.guild, channel.id)
        history: list[Turn] | None = None
        target: discord.abc.Messageable = channel
        if follow_up:
            history = await asyncio.to_thread(self.desk.feedback.history, channel.id, HISTORY_TURNS) or None
            asked.thread_id = channel.id
        elif not direct and getattr(channel, "type", None) in _TEXT_CHANNELS:
            thread = await self._start_thread(message, question)
            if thread is not None:
                target, asked.thread_id = thread, thread.id
        replies = ChannelReplies(target)
        try:
            async with target.typing():
                await self.answer(replies, question, history, asked, sent_at(message))
        except Exception as exc:
            await report_failure(replies, exc, "answering a mention")

    async def _start_thread(self, message: discord.Message, question: str) -> discord.Thread | None:
        """A conversation thread on the mention, or None (answer in place) when Discord refuses one."""
        try:
            thread = await message.create_thread(
                name=thread_name(question), auto_archive_duration=THREAD_ARCHIVE_MINUTES
            )
        except discord.HTTPException:
            log.warning("cannot start a thread in channel %s; answering in place", message.channel.id, exc_info=True)
            return None
        await asyncio.to_thread(self.desk.feedback.start_conversation, thread.id, message.author.id, question)
        return thread

    async def answer(
        self,
        replies: Replies,
        question: str,
        history: list[Turn] | None,
        asked: Where,
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

        service = self.desk.service
        asking = Question(question=question, history=list(history or []), as_of=as_of)
        async with Throttled(show, self.stream_interval) as throttle:
            async with service.admission:  # the facade's limit on answers at once, shared with the HTTP API
                answer = await stream_answer(service, asking, on_text=throttle.push)
        answer_id = await asyncio.to_thread(self.desk.feedback.record_answer, question, answer, asked)
        await deliver(replies, render_answer(answer), preview, feedback_view(answer_id))
        return answer, answer_id


def render_preview(text: str, limit: int = CONTENT_LIMIT) -> str:
    """The answer so far, for the one message that grows while an LLM streams.

    Fits one message: when the text is longer, the latest part is shown (from a word boundary), since
    that is what is being written. Code fences are balanced so a half-written block renders as code.
    """
    text = text.strip()
    if not text:
        return ELLIPSIS
    fence_open = text.count("```") % 2 == 1
    closing = "\n```" if fence_open else ""
    if len(text) + len(closing) + len(CURSOR) <= limit:
        return text + closing + CURSOR
    room = limit - len(ELLIPSIS) - len(CURSOR) - len(closing) - len("```\n")
    cut = len(text) - room
    for fence in re.finditer("```", text):  # never cut a fence in two: its halves would miscount the blocks
        if fence.start() < cut < fence.end():
            cut = fence.end()
    head, tail = text[:cut], text[cut:]
    space = re.search(r"\s", tail[:200])
    if space is not None and not head[-1:].isspace():
        tail = tail[space.end() :]
    tail = tail.lstrip()
    reopen = "```\n" if text[: len(text) - len(tail)].count("```") % 2 == 1 else ""
    return ELLIPSIS + reopen + tail + closing + CURSOR


def thread_name(question: str) -> str:
    """A thread title from a question: one line, at most Discord's 100 characters, never empty."""
    name = " ".join(question.split())
    return truncate(name, THREAD_NAME_LIMIT) or "Question"
