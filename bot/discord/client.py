"""The Discord client: builds the shared desk, adds one cog per feature in `setup_hook`, syncs the slash
commands, and answers a command that failed unexpectedly with an apology.

A feature is a `commands.Cog` in its own module whose `app_commands.command` methods carry their names and
descriptions (which /help lists); adding one to FEATURES registers it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.ask import Ask
from bot.discord.desk import Cooldown, Desk, apology, new_error_id
from bot.discord.news import News
from bot.discord.reindex import Reindex
from bot.discord.replies import NO_MENTIONS, InteractionReplies
from bot.discord.search import Search
from bot.discord.status import Status
from bot.discord.stream import STREAM_EDIT_SECONDS
from bot.discord.votes import FeedbackButton
from bot.feedback import FeedbackStore
from retrieval.core.config import Settings
from retrieval.service import Newsdesk

log = logging.getLogger(__name__)

FEATURES: tuple[Callable[[NewsdeskBot], commands.Cog], ...] = (Ask, Search, News, Reindex, Status)

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


def invite_url(application_id: int) -> str:
    """The URL that adds the bot to a server with the minimum permissions it needs."""
    return discord.utils.oauth_url(application_id, permissions=INVITE_PERMISSIONS, scopes=INVITE_SCOPES)


class NewsdeskTree(app_commands.CommandTree[discord.Client]):
    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError, /) -> None:
        error_id = new_error_id()
        log.error("command failed [error id %s]", error_id, exc_info=error)
        replies = InteractionReplies(interaction, ephemeral=True)
        with contextlib.suppress(discord.HTTPException):
            await replies.fail(apology(error_id))


class NewsdeskBot(commands.Bot):
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
        super().__init__(
            command_prefix=commands.when_mentioned,  # unused: there are no prefix commands (see on_message)
            help_command=None,
            tree_cls=NewsdeskTree,
            intents=intents,
            allowed_mentions=NO_MENTIONS,
        )
        self.settings = settings
        self.stream_interval = stream_interval
        self._owns_feedback = feedback is None
        self.desk = Desk(
            service,
            settings,
            feedback or FeedbackStore.in_data_dir(settings.data_dir),
            Cooldown(settings.discord_cooldown_seconds),
        )

    async def close(self) -> None:
        await super().close()
        if self._owns_feedback:
            self.desk.feedback.close()

    async def setup_hook(self) -> None:
        await self.add_features()
        self.add_dynamic_items(FeedbackButton)
        await self.sync_commands()

    async def add_features(self) -> None:
        """Every feature's commands and listeners, in FEATURES order (which /help follows)."""
        for feature in FEATURES:
            await self.add_cog(feature(self))

    async def on_message(self, message: discord.Message, /) -> None:
        """Messages are answered by the Ask feature's listener; commands.Bot's prefix commands are not used."""

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
