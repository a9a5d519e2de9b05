"""Feedback: 👍 and 👎 buttons under every answer, each vote stored in the feedback log."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import discord

from bot.discord.desk import Desk, report_failure
from bot.discord.replies import InteractionReplies, respond


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
        desk = getattr(interaction.client, "desk", None)
        if isinstance(desk, Desk):
            await vote(desk, interaction, self.answer_id, self.up)


def feedback_view(answer_id: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(FeedbackButton(answer_id, up=True))
    view.add_item(FeedbackButton(answer_id, up=False))
    return view


async def vote(desk: Desk, interaction: discord.Interaction, answer_id: str, up: bool) -> None:
    try:
        known = await asyncio.to_thread(desk.feedback.vote, answer_id, interaction.user.id, up)
    except Exception as exc:
        await report_failure(InteractionReplies(interaction, ephemeral=True), exc, "recording feedback")
        return
    text = f"Thanks for the feedback {'👍' if up else '👎'}" if known else "That answer is no longer on record."
    await respond(interaction, text)
