"""The HTTP API's app factory: the service is built once in the lifespan and shared; the routes live in
bot/api/routes (one module per area) and reach what they need through bot/api/deps.py.

Routes call the one facade (retrieval.service.Newsdesk) in the thread pool, so a slow answer or a re-index
never blocks the event loop. Every error leaves through one handler as {"error": code, "message": text}.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles

from bot.api import deps
from bot.api.errors import HANDLED, handle_error
from bot.api.openapi import openapi_with_limits, read_errors, write_errors
from bot.api.routes import answers, articles, jobs, news, operations
from bot.metrics import Metrics, MetricsMiddleware
from bot.security import BodySizeLimit, KeyChecker, RateLimiter
from retrieval.core.config import Settings
from retrieval.service import Newsdesk

log = logging.getLogger(__name__)

READS = (answers.reads, articles.reads, jobs.reads, news.reads, operations.reads)  # a key only when reads need one
WRITES = (articles.writes, jobs.writes, news.writes)  # always behind a key (follows too)
DESCRIPTION = (
    "Answers from a news archive with cited passages.\n\n"
    "Reads are open unless NEWSDESK_REQUIRE_KEY_FOR_READS is set; writes (articles, re-index) need "
    "`Authorization: Bearer KEY` with a key from NEWSDESK_API_KEYS. Every error is "
    '`{"error": code, "message": text}`.'
)


def create_app(settings: Settings, service: Newsdesk | None = None) -> FastAPI:
    """`service`: a service built by the caller (who closes it); by default the lifespan builds one."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.service = service or await run_in_threadpool(Newsdesk, settings)
        async with _running(app.state.service, settings):
            yield
        if service is None:
            app.state.service.close()

    app = FastAPI(title="Newsdesk", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.keys = KeyChecker(settings.api_keys)
    app.state.limiter = RateLimiter(settings.rate_limit_per_minute)
    app.state.metrics = Metrics(lambda: getattr(app.state, "service", None))
    for exc_class in HANDLED:
        app.add_exception_handler(exc_class, handle_error)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)

    # the bearer scheme appears on read routes in the OpenAPI document only when reads need a key
    read_guards = [Depends(deps.rate_limit), *([Depends(deps.read_access)] if settings.require_key_for_reads else [])]
    for router in READS:
        app.include_router(router, dependencies=read_guards, responses=read_errors(settings))
    write_guards = [Depends(deps.rate_limit), Depends(deps.write_access)]
    for router in WRITES:
        app.include_router(router, dependencies=write_guards, responses=write_errors())
    app.include_router(operations.probes)
    app.mount("/static", StaticFiles(directory=operations.STATIC_DIR), name="static")
    app.openapi = openapi_with_limits(app, settings)  # type: ignore[method-assign]
    return app


@asynccontextmanager
async def _running(service: Newsdesk, settings: Settings) -> AsyncIterator[None]:
    """While the app serves: the background work, and the Discord bot too when NEWSDESK_DISCORD_TOKEN is set."""
    service.start_background()
    bot_task: asyncio.Task[None] | None = None
    if settings.discord_token is not None:
        from bot.discord.run import run_bot

        bot_task = asyncio.create_task(run_bot(service, settings))
    yield
    if bot_task is not None:
        bot_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await bot_task  # let the Discord client close before the server stops
    if service.jobs.running is not None:
        log.warning("shutting down during a re-index; the next sync will finish the job")


def app_from_env() -> FastAPI:
    """For `uvicorn --factory bot.api:app_from_env`: settings from NEWSDESK_* variables and .env."""
    return create_app(Settings())
