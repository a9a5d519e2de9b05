"""What every Discord feature shares: the facade, the settings, the feedback log, the per-user cooldown, and
the guards and error replies that go with them."""

from __future__ import annotations

import logging
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import discord

from bot.discord.replies import Replies, respond
from bot.feedback import FeedbackStore, Where
from retrieval.core.config import Settings
from retrieval.core.errors import NewsdeskError
from retrieval.service import Newsdesk

log = logging.getLogger(__name__)


class Cooldown:
    """At most one question per user every `seconds`."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._last: dict[int, float] = {}

    def retry_after(self, user_id: int) -> float:
        """0 and the user's clock restarts, or the seconds left to wait."""
        if self.seconds <= 0:
            return 0.0
        now = self._clock()
        last = self._last.get(user_id)
        if last is not None and now - last < self.seconds:
            return self.seconds - (now - last)
        self._last[user_id] = now
        if len(self._last) > 10_000:
            self._last = {u: t for u, t in self._last.items() if now - t < self.seconds}
        return 0.0


@dataclass
class Desk:
    """The collaborators of every feature, built once per client. The service is synchronous: features call
    it in a worker thread (`asyncio.to_thread`) so the event loop never blocks."""

    service: Newsdesk
    settings: Settings
    feedback: FeedbackStore
    cooldown: Cooldown

    def channel_allowed(self, channel_id: int | None, channel: object) -> bool:
        allowed = self.settings.discord_channel_ids
        if not allowed:
            return True
        return channel_id in allowed or getattr(channel, "parent_id", None) in allowed

    def not_here(self) -> str:
        places = ", ".join(f"<#{c}>" for c in self.settings.discord_channel_ids)
        return f"I only answer in {places}."

    def vet(self, question: str, user_id: int) -> str:
        """The cleaned question; raises NewsdeskError with what to tell the user (an empty or overlong
        question, or the user's cooldown)."""
        question = self.service.validate_question(question)
        if (wait := self.cooldown.retry_after(user_id)) > 0:
            raise SlowDown(f"One question at a time, please: you can ask again in {math.ceil(wait)} s.")
        return question

    async def accept(self, interaction: discord.Interaction, question: str) -> str | None:
        """The cleaned question of a command, or None after telling the user (privately) why not."""
        if not self.channel_allowed(interaction.channel_id, interaction.channel):
            await respond(interaction, self.not_here())
            return None
        try:
            return self.vet(question, interaction.user.id)
        except NewsdeskError as exc:
            await respond(interaction, exc.message)
            return None


class SlowDown(NewsdeskError):
    """The user asked again before their cooldown ran out."""

    status_code = 429
    code = "slow_down"


async def report_failure(replies: Replies, exc: Exception, what: str) -> None:
    """Tell the user what went wrong: an engine error's own message, or an apology with an error id that
    points to the traceback in the log."""
    if isinstance(exc, NewsdeskError):
        log.info("%s: %s", what, exc.message)
        text = exc.message
    else:
        error_id = new_error_id()
        log.exception("%s failed [error id %s]", what, error_id)
        text = apology(error_id)
    try:
        await replies.fail(text)
    except discord.HTTPException:
        log.warning("could not tell the user that %s failed", what, exc_info=True)


def new_error_id() -> str:
    return secrets.token_hex(4)


def apology(error_id: str) -> str:
    return (
        f"Sorry, something went wrong on my side and I could not answer. "
        f"The error id is `{error_id}`; the bot's operator can find it in the log."
    )


def where(user: discord.abc.User, guild: discord.Guild | None, channel_id: int | None) -> Where:
    return Where(user_id=user.id, guild_id=guild.id if guild else None, channel_id=channel_id)


def sent_at(event: object) -> datetime | None:
    """When a message or interaction was sent (discord.py gives an aware UTC datetime)."""
    sent = getattr(event, "created_at", None)
    return sent if isinstance(sent, datetime) else None
