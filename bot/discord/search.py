"""Searching: /search shows the best matching passages, ranked, without an answer."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.desk import Desk, report_failure, sent_at
from bot.discord.messages import render_search
from bot.discord.replies import InteractionReplies, deliver

if TYPE_CHECKING:
    from bot.discord.client import NewsdeskBot


class Search(commands.Cog):
    """Passages from the archive, without an answer."""

    def __init__(self, bot: NewsdeskBot) -> None:
        self.desk: Desk = bot.desk

    @app_commands.command(name="search", description="The best matching passages, without an answer")
    @app_commands.describe(query="words or a question")
    async def search(self, interaction: discord.Interaction, query: str) -> None:
        accepted = await self.desk.accept(interaction, query)
        if accepted is None:
            return
        replies = InteractionReplies(interaction, ephemeral=False)
        try:
            await interaction.response.defer(thinking=True)
            service = self.desk.service
            async with service.admission:  # searches share the answers' limit, as on the HTTP API
                passages = await asyncio.to_thread(service.search, accepted, None, None, sent_at(interaction))
            await deliver(replies, render_search(passages))
        except Exception as exc:
            await report_failure(replies, exc, "/search")
