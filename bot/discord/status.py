"""Status and help: /status shows what is indexed and the feedback so far; /help lists the registered
commands, each with the description it was registered with."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.desk import Desk, report_failure
from bot.discord.limits import FIELD_VALUE_LIMIT, truncate
from bot.discord.messages import RenderedMessage
from bot.discord.reindex import describe
from bot.discord.replies import NO_MENTIONS, InteractionReplies
from bot.feedback import FeedbackCounts
from retrieval.core.types import Stats

if TYPE_CHECKING:
    from bot.discord.client import NewsdeskBot

STATUS_COLOUR = discord.Colour.teal()

# What the commands' own descriptions do not say.
ABOUT = """\
**Mention me** with a question — I answer in a new thread; write in that thread to ask follow-ups.

Every claim carries a marker like [1] that points to a quoted passage below the answer. \
Rate answers with 👍 / 👎: the votes help improve Newsdesk."""


class Status(commands.Cog):
    """What Newsdesk holds and can do."""

    def __init__(self, bot: NewsdeskBot) -> None:
        self.desk: Desk = bot.desk
        self.tree = bot.tree

    @app_commands.command(name="status", description="What is indexed, the answer mode and the feedback so far")
    async def status(self, interaction: discord.Interaction) -> None:
        desk = self.desk
        replies = InteractionReplies(interaction, ephemeral=True)
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
            stats = await asyncio.to_thread(desk.service.stats)
            counts = await asyncio.to_thread(desk.feedback.counts)
            job = desk.service.jobs.running
            running = describe(job) if job is not None else None
            await replies.send(RenderedMessage(None, [render_status(stats, counts, running)]))
        except Exception as exc:
            await report_failure(replies, exc, "/status")

    @app_commands.command(name="help", description="What Newsdesk can do")
    async def help(self, interaction: discord.Interaction) -> None:
        listed = [c for c in self.tree.get_commands() if isinstance(c, app_commands.Command)]
        await interaction.response.send_message(embed=render_help(listed), ephemeral=True, allowed_mentions=NO_MENTIONS)


def render_status(stats: Stats, feedback: FeedbackCounts, reindexing: str | None = None) -> discord.Embed:
    embed = discord.Embed(title="Newsdesk status", colour=STATUS_COLOUR)
    embed.add_field(name="Articles", value=f"{stats.articles:,}")
    embed.add_field(name="Passages", value=f"{stats.chunks:,}")
    embed.add_field(name="Last sync", value=_when(stats.last_sync))
    embed.add_field(name="Answer mode", value=truncate(stats.answer_mode, FIELD_VALUE_LIMIT))
    embed.add_field(name="Embedder", value=truncate(stats.embedder, FIELD_VALUE_LIMIT))
    answers = f"{feedback.answers:,} answer{'' if feedback.answers == 1 else 's'}"
    embed.add_field(name="Feedback", value=f"{answers} · 👍 {feedback.up:,} · 👎 {feedback.down:,}")
    if reindexing:
        embed.add_field(name="Re-index", value=truncate(reindexing, FIELD_VALUE_LIMIT), inline=False)
    return embed


def _when(iso: str | None) -> str:
    if not iso:
        return "never"
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return truncate(iso, FIELD_VALUE_LIMIT)
    # Discord shows <t:…> in each reader's own time zone and language.
    return f"{discord.utils.format_dt(moment, 'f')} ({discord.utils.format_dt(moment, 'R')})"


def render_help(listed: Sequence[app_commands.Command[Any, ..., Any]]) -> discord.Embed:
    """One line per command (its name, its options, optional ones in brackets, and its description), then
    what the commands do not say."""
    lines = []
    for command in listed:
        options = "".join(f" `{p.name}`" if p.required else f" `[{p.name}]`" for p in command.parameters)
        lines.append(f"**/{command.name}**{options} — {command.description}.")
    return discord.Embed(title="Newsdesk", description="\n".join([*lines, "", ABOUT]), colour=STATUS_COLOUR)
