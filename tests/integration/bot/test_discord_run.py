"""Running the bot: login, retrying while Discord is unreachable, clean cancellation, and the API's event loop.

Discord is not reachable from the test machines, so discord.py's API base URL is pointed at loopback: a
tiny server that refuses the token, or a port where nothing listens.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable

import discord
import pytest
from aiohttp import web
from fastapi.testclient import TestClient

from bot.api import create_app
from bot.discord import run as discord_run
from bot.discord.client import NewsdeskBot
from bot.discord.run import DiscordLoginError, run_bot
from retrieval.service import Newsdesk

pytestmark = pytest.mark.integration

TOKEN = "MTIz.fake.token-for-tests"


@pytest.fixture
async def refusing_discord(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[list[str]]:
    """A loopback stand-in for Discord's API that answers every login with 401; yields the tokens it saw."""
    seen: list[str] = []

    async def users_me(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization", ""))
        return web.json_response({"message": "401: Unauthorized", "code": 0}, status=401)

    app = web.Application()
    app.router.add_get("/api/v10/users/@me", users_me)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{port}/api/v10")
    yield seen
    await runner.cleanup()


@pytest.fixture
def unreachable_discord(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{port}/api/v10")
    monkeypatch.setattr(discord_run, "RETRY_FIRST_SECONDS", 0.05)


async def test_a_refused_token_is_a_clear_fatal_error(
    make_service: Callable[..., Newsdesk], refusing_discord: list[str]
) -> None:
    service = make_service(discord_token=TOKEN)
    bots: list[NewsdeskBot] = []

    def make() -> NewsdeskBot:
        bots.append(NewsdeskBot(service, service.settings))
        return bots[-1]

    with pytest.raises(DiscordLoginError, match="NEWSDESK_DISCORD_TOKEN"):
        await run_bot(service, service.settings, make)
    assert refusing_discord == [f"Bot {TOKEN}"]
    assert len(bots) == 1 and bots[0].is_closed()


async def test_while_discord_is_unreachable_it_retries_and_cancelling_closes_cleanly(
    make_service: Callable[..., Newsdesk], unreachable_discord: None, caplog: pytest.LogCaptureFixture
) -> None:
    service = make_service(discord_token=TOKEN)
    bots: list[NewsdeskBot] = []

    def make() -> NewsdeskBot:
        bots.append(NewsdeskBot(service, service.settings))
        return bots[-1]

    with caplog.at_level(logging.WARNING, logger="bot.discord"):
        task = asyncio.create_task(run_bot(service, service.settings, make))
        deadline = time.monotonic() + 30
        while len(bots) < 3 and time.monotonic() < deadline and not task.done():
            await asyncio.sleep(0.02)
        assert not task.done(), "an unreachable Discord is retried, not fatal"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    assert len(bots) >= 3
    assert all(bot.is_closed() for bot in bots)
    assert "cannot reach Discord" in caplog.text


async def test_run_bot_without_a_token_says_what_to_set(make_service: Callable[..., Newsdesk]) -> None:
    service = make_service()
    with pytest.raises(DiscordLoginError, match="NEWSDESK_DISCORD_TOKEN is not set"):
        await run_bot(service, service.settings)


def test_the_api_runs_the_bot_in_its_own_event_loop(
    make_service: Callable[..., Newsdesk], unreachable_discord: None, caplog: pytest.LogCaptureFixture
) -> None:
    service = make_service(discord_token=TOKEN)
    with (
        caplog.at_level(logging.WARNING, logger="bot.discord"),
        TestClient(create_app(service.settings, service)) as client,
    ):
        deadline = time.monotonic() + 30
        while "cannot reach Discord" not in caplog.text and time.monotonic() < deadline:
            assert client.get("/healthz").status_code == 200  # the API answers while the bot keeps trying
            time.sleep(0.05)
    assert "cannot reach Discord" in caplog.text
