"""Re-indexing: /reindex syncs the index with the corpus folder, showing its progress in one message.

Only members with Manage Server (or the configured role) may start it, and one runs at a time in the process,
whether Discord or the HTTP API started it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.desk import Desk, report_failure
from bot.discord.limits import CONTENT_LIMIT, truncate
from bot.discord.messages import RenderedMessage
from bot.discord.replies import InteractionReplies, edit_message, respond
from bot.discord.stream import STREAM_EDIT_SECONDS
from retrieval.core.errors import JobRunning, NewsdeskError
from retrieval.core.types import IngestReport, Job

if TYPE_CHECKING:
    from bot.discord.client import NewsdeskBot

log = logging.getLogger(__name__)

PROGRESS_BAR = 20
REPORT_FAILURES = 5


class Reindex(commands.Cog):
    """Keeping the index in step with the corpus. The facade runs the re-index as a job, one at a time
    whichever face starts it; this command starts one and follows its progress."""

    def __init__(self, bot: NewsdeskBot) -> None:
        self.desk: Desk = bot.desk
        self.progress_interval = STREAM_EDIT_SECONDS
        if not self.desk.settings.discord_reindex_role:
            # Hidden from members without Manage Server; with a role configured, the role must see it too.
            self.reindex.default_permissions = discord.Permissions(manage_guild=True)

    @app_commands.command(name="reindex", description="Sync the index with the corpus (Manage Server)")
    @app_commands.guild_only()
    async def reindex(self, interaction: discord.Interaction) -> None:
        role = self.desk.settings.discord_reindex_role
        if not can_reindex(interaction.user, role):
            who = "members with Manage Server" + (f" or the {role} role" if role else "")
            await respond(interaction, f"Only {who} can re-index.")
            return
        try:
            job = await asyncio.to_thread(self.desk.service.start_reindex, interaction.user.display_name)
        except JobRunning as exc:
            await respond(interaction, f"A re-index is already running ({describe(exc.job)}).")
            return
        except NewsdeskError as exc:  # the index cannot be written
            await respond(interaction, exc.message)
            return
        replies = InteractionReplies(interaction, ephemeral=False)
        try:
            await interaction.response.defer(thinking=True)
            status = await replies.send(RenderedMessage(render_progress(0, None)))
            job = await self._follow(job, status)
            if job.state == "succeeded" and job.report is not None:
                await edit_message(status, RenderedMessage(render_ingest_report(job.report)))
            else:
                await replies.fail(job.error or "The re-index failed; the log says why.")
        except Exception as exc:
            await report_failure(replies, exc, "/reindex")

    async def _follow(self, job: Job, status: discord.Message) -> Job:
        """Edit the job's progress into `status`, at most once per interval, until it ends; the ended job."""
        shown = (job.progress.done, job.progress.total)
        while job.state == "running":
            job = await asyncio.to_thread(self.desk.service.jobs.wait, job.id, self.progress_interval)
            progress = (job.progress.done, job.progress.total)
            if job.state != "running" or progress == shown:
                continue
            try:
                await edit_message(status, RenderedMessage(render_progress(*progress)))
            except discord.HTTPException:
                log.warning("could not update the re-index progress; the report will still be sent", exc_info=True)
            shown = progress
        return job


def describe(job: Job) -> str:
    """Who started a running re-index and how far it is, for /status and for a refused second one."""
    done, total = job.progress.done, job.progress.total
    progress = f"{done:,} / {total:,} articles" if total else "reading articles"
    return f"started by {job.started_by or 'the HTTP API'}, {progress}"


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
