"""Re-indexing: /reindex syncs the index with the corpus folder, showing its progress in one message.

Only members with Manage Server (or the configured role) may start it, and one runs at a time.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.desk import Desk, report_failure
from bot.discord.limits import CONTENT_LIMIT, truncate
from bot.discord.messages import RenderedMessage
from bot.discord.replies import InteractionReplies, edit_message, respond
from bot.discord.stream import STREAM_EDIT_SECONDS, Throttled
from retrieval.types import IngestReport

if TYPE_CHECKING:
    from bot.discord.client import NewsdeskBot

PROGRESS_BAR = 20
REPORT_FAILURES = 5


@dataclass
class ReindexRun:
    started_by: str
    done: int = 0
    total: int | None = None

    def describe(self) -> str:
        progress = f"{self.done:,} / {self.total:,} articles" if self.total else "reading articles"
        return f"started by {self.started_by}, {progress}"


class Reindex(commands.Cog):
    """Keeping the index in step with the corpus."""

    def __init__(self, bot: NewsdeskBot) -> None:
        self.desk: Desk = bot.desk
        self.progress_interval = STREAM_EDIT_SECONDS
        if not self.desk.settings.discord_reindex_role:
            # Hidden from members without Manage Server; with a role configured, the role must see it too.
            self.reindex.default_permissions = discord.Permissions(manage_guild=True)

    @app_commands.command(name="reindex", description="Sync the index with the corpus (Manage Server)")
    @app_commands.guild_only()
    async def reindex(self, interaction: discord.Interaction) -> None:
        desk = self.desk
        role = desk.settings.discord_reindex_role
        if not can_reindex(interaction.user, role):
            who = "members with Manage Server" + (f" or the {role} role" if role else "")
            await respond(interaction, f"Only {who} can re-index.")
            return
        if desk.reindexing is not None:
            await respond(interaction, f"A re-index is already running ({desk.reindexing.describe()}).")
            return
        run = desk.reindexing = ReindexRun(started_by=interaction.user.display_name)
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
                corpus = [str(desk.settings.corpus_dir)]
                report = await asyncio.to_thread(desk.service.ingest, corpus, [], True, on_progress)
            await edit_message(status, RenderedMessage(render_ingest_report(report)))
        except Exception as exc:
            await report_failure(replies, exc, "/reindex")
        finally:
            desk.reindexing = None


def can_reindex(user: discord.abc.User, role: str | None) -> bool:
    """Manage Server (or Administrator), or the configured role (by name or id)."""
    permissions = getattr(user, "guild_permissions", None)
    if permissions is not None and (permissions.manage_guild or permissions.administrator):
        return True
    if role:
        return any(r.name == role or str(r.id) == role for r in getattr(user, "roles", []))
    return False


def render_progress(done: int, total: int | None) -> str:
    """The re-index progress line that is edited in place."""
    if total is None:
        return "Re-indexing the corpus: reading articles…"
    if total == 0:
        return "Re-indexing the corpus: nothing new to embed, finishing…"
    done = min(max(done, 0), total)
    filled = round(PROGRESS_BAR * done / total)
    bar = "█" * filled + "░" * (PROGRESS_BAR - filled)
    return f"Re-indexing the corpus: {done:,} / {total:,} articles embedded ({done / total:.0%})\n`{bar}`"


def render_ingest_report(report: IngestReport) -> str:
    counts = report.summary()
    line = (
        f"Re-index finished in {report.seconds:.1f} s: {counts['added']:,} added, {counts['updated']:,} updated, "
        f"{counts['removed']:,} removed, {counts['skipped']:,} unchanged, {counts['duplicates']:,} duplicates, "
        f"{counts['failed']:,} failed; {report.chunks_embedded:,} passages embedded."
    )
    lines = [line]
    room = CONTENT_LIMIT - len(line) - 60  # kept for the "and N more" line
    for failure in report.failed[:REPORT_FAILURES]:
        entry = f"- {truncate(failure.origin, 200)}: {truncate(failure.reason, 300)}"
        if len(entry) + 1 > room:
            break
        lines.append(entry)
        room -= len(entry) + 1
    if (hidden := len(report.failed) - (len(lines) - 1)) > 0:
        lines.append(f"- … and {hidden:,} more (see the log)")
    return "\n".join(lines)
