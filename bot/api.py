"""The HTTP API: FastAPI app factory; the service is built once in the lifespan and shared."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from bot.schemas import AskRequest, AskResponse, ErrorResponse
from retrieval.config import Settings
from retrieval.errors import NewsdeskError
from retrieval.service import Newsdesk

log = logging.getLogger(__name__)


def get_service(request: Request) -> Newsdesk:
    return request.app.state.service


Service = Annotated[Newsdesk, Depends(get_service)]


def create_app(settings: Settings, service: Newsdesk | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.service = service or await run_in_threadpool(Newsdesk, settings)
        bot_task: asyncio.Task[None] | None = None
        if settings.discord_token is not None:
            from bot.discord_bot import run_bot

            bot_task = asyncio.create_task(run_bot(app.state.service, settings))
        yield
        if bot_task is not None:
            bot_task.cancel()

    app = FastAPI(
        title="Newsdesk",
        version="0.1.0",
        description="Answers from a news archive with cited passages.",
        lifespan=lifespan,
        responses={422: {"model": ErrorResponse}, 503: {"model": ErrorResponse}},
    )
    app.state.settings = settings

    @app.exception_handler(NewsdeskError)
    async def newsdesk_error(_: Request, exc: NewsdeskError) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content={"error": exc.code, "message": exc.message})

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/ask", response_model=AskResponse, tags=["answers"])
    async def ask(body: AskRequest, service: Service) -> AskResponse:
        answer = await run_in_threadpool(service.ask, body.question, body.history, body.filters, body.k)
        return AskResponse(**answer.model_dump(include={"answer", "abstained", "citations", "mode", "timings"}))

    return app
