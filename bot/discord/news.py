"""Briefs and follows in Discord: /brief [topic] [since]; /follow, /unfollow and /following in a channel (Manage
Channels or the configured role); /daily-brief to post a brief every day at an hour of the guild's time zone.

Posts are the facade's outbox (retrieval/briefing.py): after every sync the new articles are matched against the
follows and one post per story per follow waits there; this feature sends them (never pinging anyone, only to
allowed channels), records each message id, and edits a post when later copies of its story come in ("also
reported by N outlets"). It drains the outbox when the bot is ready and every NEWSDESK_FOLLOW_POST_SECONDS.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.desk import Desk, report_failure, sent_at
from bot.discord.limits import CONTENT_LIMIT, truncate
from bot.discord.messages import render_answer
from bot.discord.replies import NO_MENTIONS, InteractionReplies, deliver, respond
from retrieval.core import dates
from retrieval.core.errors import NewsdeskError
from retrieval.core.types import BriefSchedule, FollowPost

if TYPE_CHECKING:
    from bot.discord.client import NewsdeskBot

log = logging.getLogger(__name__)


class News(commands.Cog):
    """Briefs of the news, and followed topics posted as they come in."""

    def __init__(self, bot: NewsdeskBot) -> None:
        self.bot = bot
        self.desk: Desk = bot.desk
        self.find_channel: Callable[[int], Any] = bot.get_channel
        self._poster: asyncio.Task[None] | None = None
        if not self.desk.settings.discord_follow_role:
            for command in (self.follow, self.unfollow, self.daily_brief):
                command.default_permissions = discord.Permissions(manage_channels=True)

    async def cog_unload(self) -> None:
        if self._poster is not None:
            self._poster.cancel()

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        if self._poster is None or self._poster.done():
            self._poster = asyncio.create_task(self._post_forever())

    async def _post_forever(self) -> None:
        while True:
            try:
                await self.send_posts()
            except Exception:
                log.exception("sending the follows' posts failed; trying again later")
            await asyncio.sleep(self.desk.settings.follow_post_seconds)

    # ------------------------------------------------------------- /brief

    @app_commands.command(name="brief", description="The main stories of a window, each with a cited sentence")
    @app_commands.describe(topic="only stories about this", since="from: 1d, 7d, Monday, 2023-10-02 (default 7d)")
    async def brief(self, interaction: discord.Interaction, topic: str | None = None, since: str | None = None) -> None:
        accepted = await self.desk.accept(interaction, f"brief {topic or ''} {since or ''}")
        if accepted is None:
            return
        service = self.desk.service
        moment = sent_at(interaction) or dates.now()
        try:
            first = service.read_since(since, moment)
        except ValueError as exc:
            await respond(interaction, str(exc))
            return
        replies = InteractionReplies(interaction, ephemeral=False)
        try:
            await interaction.response.defer(thinking=True)
            async with service.admission:
                found = await asyncio.to_thread(service.brief, first, None, topic, 5, moment)
            await deliver(replies, render_answer(service.brief_as_answer(found, moment)))
        except Exception as exc:
            await report_failure(replies, exc, "/brief")

    # ------------------------------------------------------------- follows

    async def _allowed_to_manage(self, interaction: discord.Interaction) -> bool:
        if interaction.guild is None:
            await respond(interaction, "Follows belong to a server channel: use this command in one.")
            return False
        if not self.desk.channel_allowed(interaction.channel_id, interaction.channel):
            await respond(interaction, self.desk.not_here())
            return False
        role = self.desk.settings.discord_follow_role
        if not can_manage(interaction.user, role):
            who = "members with Manage Channels" + (f" or the {role} role" if role else "")
            await respond(interaction, f"Only {who} can change what this channel follows.")
            return False
        return True

    @app_commands.command(name="follow", description="Post new articles on a topic or story here (Manage Channels)")
    @app_commands.describe(topic="a topic or a story, such as 'Xiaomi electric car'")
    async def follow(self, interaction: discord.Interaction, topic: str) -> None:
        if not await self._allowed_to_manage(interaction):
            return
        try:
            made = await asyncio.to_thread(
                self.desk.service.follow, topic, "discord", getattr(interaction.guild, "id", None),
                interaction.channel_id, interaction.user.display_name,
            )  # fmt: skip
        except NewsdeskError as exc:
            await respond(interaction, exc.message)
            return
        await interaction.response.send_message(
            f"This channel now follows **{discord.utils.escape_markdown(made.topic)}** (id `{made.id}`): new articles "
            "about it are posted here after each sync, one post per story.",
            allowed_mentions=NO_MENTIONS,
        )

    @app_commands.command(name="unfollow", description="Stop following a topic here (Manage Channels)")
    @app_commands.describe(topic="the topic as followed, or its id from /following")
    async def unfollow(self, interaction: discord.Interaction, topic: str) -> None:
        if not await self._allowed_to_manage(interaction):
            return
        service = self.desk.service
        here = await asyncio.to_thread(service.list_follows, "discord", interaction.channel_id)
        wanted = " ".join(topic.split()).lower()
        found = next((f for f in here if f.id == topic.strip() or f.topic.lower() == wanted), None)
        if found is None:
            await respond(interaction, "This channel does not follow that; /following lists what it follows.")
            return
        await asyncio.to_thread(service.unfollow, found.id)
        await interaction.response.send_message(
            f"This channel no longer follows **{discord.utils.escape_markdown(found.topic)}**.",
            allowed_mentions=NO_MENTIONS,
        )

    @app_commands.command(name="following", description="What this channel follows")
    async def following(self, interaction: discord.Interaction) -> None:
        here = await asyncio.to_thread(self.desk.service.list_follows, "discord", interaction.channel_id)
        if not here:
            await respond(interaction, "This channel follows nothing yet: /follow a topic to have its news posted.")
            return
        lines = [
            f"- **{discord.utils.escape_markdown(f.topic)}** (id `{f.id}`, by {f.created_by or '?'})" for f in here
        ]
        await respond(interaction, truncate("This channel follows:\n" + "\n".join(lines), CONTENT_LIMIT))

    # ------------------------------------------------------------- daily brief

    @app_commands.command(name="daily-brief", description="A brief here every day at an hour (Manage Channels)")
    @app_commands.describe(
        hour="0-23 in the time zone; leave out to stop the daily brief",
        timezone="the guild's time zone, such as Europe/Paris (default UTC)",
        topic="only stories about this",
    )
    async def daily_brief(
        self,
        interaction: discord.Interaction,
        hour: app_commands.Range[int, 0, 23] | None = None,
        timezone: str = "UTC",
        topic: str | None = None,
    ) -> None:
        if not await self._allowed_to_manage(interaction):
            return
        service = self.desk.service
        channel_id = interaction.channel_id or 0
        if hour is None:
            stopped = await asyncio.to_thread(service.unschedule_brief, channel_id)
            await respond(interaction, "The daily brief is stopped." if stopped else "No daily brief was scheduled.")
            return
        schedule = BriefSchedule(
            channel_id=channel_id,
            guild_id=getattr(interaction.guild, "id", None),
            hour=hour,
            timezone=timezone,
            topic=topic,
        )
        try:
            await asyncio.to_thread(service.schedule_brief, schedule)
        except NewsdeskError as exc:
            await respond(interaction, exc.message)
            return
        about = f" on {discord.utils.escape_markdown(topic)}" if topic else ""
        await interaction.response.send_message(
            f"A brief of the past day{about} will be posted here every day at {hour:02d}:00 ({timezone}).",
            allowed_mentions=NO_MENTIONS,
        )

    # ------------------------------------------------------------- the outbox

    async def send_posts(self) -> int:
        """Send the follows' new posts and edit the ones whose story has more outlets; then the daily briefs
        that are due (queued here: this loop is their scheduler). How many messages were sent or edited."""
        service = self.desk.service
        done = 0
        await asyncio.to_thread(service.queue_due_briefs)  # the daily briefs whose hour has come, into the outbox
        for post in await asyncio.to_thread(service.posts_to_send):
            channel = self._channel(post.channel_id)
            if channel is None:
                continue
            try:
                if post.message_id is None:
                    sent = await channel.send(
                        render_post(post),
                        allowed_mentions=NO_MENTIONS,
                        suppress_embeds=True,
                        nonce=once("post", post.follow_id, post.story_id),
                    )
                    await asyncio.to_thread(service.mark_posted, post, sent.id)
                else:
                    message = await channel.fetch_message(post.message_id)
                    await message.edit(content=render_post(post), allowed_mentions=NO_MENTIONS)
                    await asyncio.to_thread(service.mark_posted, post, None)
                done += 1
            except discord.HTTPException:
                log.warning("could not post the follow %s's story %s", post.follow_id, post.story_id, exc_info=True)
        for channel_id, day, brief in await asyncio.to_thread(service.briefs_to_send):
            channel = self._channel(channel_id)
            if channel is not None:
                for part, message in enumerate(render_answer(service.brief_as_answer(brief, None))):
                    await channel.send(
                        content=message.content,
                        embeds=message.embeds,
                        allowed_mentions=NO_MENTIONS,
                        nonce=once("brief", channel_id, day, part),
                    )
                await asyncio.to_thread(service.mark_brief_sent, channel_id, day)
                done += 1
        return done

    def _channel(self, channel_id: int | None) -> Any:
        """Where to post, or None when the channel is gone or not on the allow-list (the post waits)."""
        channel = self.find_channel(channel_id) if channel_id is not None else None
        if channel is None or not self.desk.channel_allowed(channel_id, channel):
            return None
        return channel


def once(*key: object) -> str:
    """A message's nonce, the same for the same post: Discord enforces it (discord.py sends enforce_nonce), so a
    post sent again within a few minutes (the bot restarted after sending, before it saved the message id) comes
    back as the message already sent instead of a second one. Discord takes at most 25 characters."""
    return hashlib.sha256(repr(key).encode()).hexdigest()[:25]


def can_manage(user: discord.abc.User, role: str | None) -> bool:
    """Manage Channels (or Administrator), or the configured role (by name or id)."""
    permissions = getattr(user, "guild_permissions", None)
    if permissions is not None and (permissions.manage_channels or permissions.administrator):
        return True
    if role:
        return any(r.name == role or str(r.id) == role for r in getattr(user, "roles", []))
    return False


def render_post(post: FollowPost) -> str:
    """One line for a followed story: the topic, the quoted sentence, its outlet and date, the link (no preview),
    and how many other outlets reported it since."""
    day = (post.published_at or "")[:10]
    link = f" <{post.url}>" if post.url else ""
    where = ", ".join(x for x in (post.source, day) if x)
    quote = truncate(discord.utils.escape_markdown(post.sentence), 600)
    line = f"📰 **{discord.utils.escape_markdown(post.topic)}**: “{quote}” ({where}){link}"
    others = post.outlets[1:]
    if others:
        names = ", ".join(others[:8]) + (", …" if len(others) > 8 else "")
        line += f"\nAlso reported by {len(others)} other outlet{'s' if len(others) > 1 else ''}: {names}"
    return truncate(line, CONTENT_LIMIT)
