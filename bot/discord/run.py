"""Running the bot: log in, retry with growing pauses while Discord cannot be reached, stop on a refused
token or intent, and close cleanly when cancelled."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import aiohttp
import discord

from bot.discord.client import NewsdeskBot
from bot.feedback import FeedbackStore
from retrieval.core.config import Settings
from retrieval.core.errors import NewsdeskError
from retrieval.service import Newsdesk

log = logging.getLogger(__name__)

RETRY_FIRST_SECONDS = 5.0
RETRY_MAX_SECONDS = 300.0


class DiscordLoginError(NewsdeskError):
    """Discord refused the bot's login: the token or the application's settings must be fixed."""

    status_code = 503
    code = "discord_login"


def _fatal(exc: Exception) -> str | None:
    """What to tell the operator when retrying cannot help."""
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        return (
            "Discord refused the Message Content intent: enable it for the bot in the Discord developer portal "
            "(Bot > Privileged Gateway Intents)"
        )
    if isinstance(exc, discord.LoginFailure) or (isinstance(exc, discord.ConnectionClosed) and exc.code == 4004):
        return "Discord refused the bot token: set NEWSDESK_DISCORD_TOKEN to the token from the developer portal"
    return None


async def run_bot(
    service: Newsdesk,
    settings: Settings,
    make_bot: Callable[[], NewsdeskBot] | None = None,
) -> None:
    """Log in and run until cancelled (the client is then closed cleanly).

    While Discord cannot be reached, it tries again with growing pauses; a refused token or intent is
    fatal and raised as DiscordLoginError.
    """
    if settings.discord_token is None:
        raise DiscordLoginError("NEWSDESK_DISCORD_TOKEN is not set: create a bot and set its token (see the README)")
    token = settings.discord_token.get_secret_value()
    feedback: FeedbackStore | None = None
    if make_bot is None:
        feedback = FeedbackStore.in_data_dir(settings.data_dir)
        shared = feedback

        def make_bot() -> NewsdeskBot:
            return NewsdeskBot(service, settings, shared)

    delay = RETRY_FIRST_SECONDS
    try:
        while True:
            bot = make_bot()  # a fresh client per attempt: a failed login leaves discord.py's session half-open
            try:
                async with bot:
                    await bot.start(token)
                return
            except (discord.DiscordException, aiohttp.ClientError, OSError) as exc:
                if (reason := _fatal(exc)) is not None:
                    log.error("%s", reason)
                    raise DiscordLoginError(reason) from exc
                log.warning("cannot reach Discord (%s); trying again in %.0f s", exc or type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_SECONDS)
    finally:
        if feedback is not None:
            feedback.close()
