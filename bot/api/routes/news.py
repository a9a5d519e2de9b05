"""Briefs and follows: GET /v1/brief (a window's main stories as JSON), and follows a client polls:
POST/GET/DELETE /v1/follows and GET /v1/follows/{id}/matches (always behind a key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from bot.api.deps import API, ServiceDep
from bot.api.openapi import errors
from bot.api.schemas.common import AS_OF_HELP, NOT_BLANK, AsOf, IsoDate
from bot.api.schemas.wire import FOLLOW_EXAMPLE, FOLLOW_MATCH_EXAMPLE, Brief, Follow, FollowMatch, wire
from retrieval.core import dates
from retrieval.core.errors import InvalidInput

reads = APIRouter(prefix=API, tags=["news"])
writes = APIRouter(prefix=API, tags=["news"])

SINCE_HELP = "first day: a duration back from as_of (1d, 12h, 2w), a day (YYYY-MM-DD) or words (Monday, last week)"


@reads.get("/brief", response_model=Brief, responses=errors(422))
async def brief(
    service: ServiceDep,
    since: Annotated[str | None, Query(max_length=40, description=SINCE_HELP)] = None,
    until: Annotated[IsoDate | None, Query(description="last day, inclusive (never after as_of)")] = None,
    topic: Annotated[str | None, Query(max_length=200, pattern=NOT_BLANK, description="only stories about it")] = None,
    limit: Annotated[int, Query(ge=1, le=20, description="stories at most")] = 5,
    as_of: Annotated[AsOf | None, Query(description=AS_OF_HELP)] = None,
) -> Brief:
    """The window's main stories (default: the past 7 days), ranked by how many outlets and articles carry them
    and how recent they are, each with one cited sentence; an empty window names the latest day with news."""
    moment = as_of or dates.now()
    try:
        first = service.read_since(since, moment)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    async with service.admission:
        found = await run_in_threadpool(service.brief, first, until, topic, limit, moment)
    return wire(Brief, found)


class FollowIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"topic": "Xiaomi electric car"}]})

    topic: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK, description="a topic or a story to follow")


@writes.post("/follows", response_model=Follow, status_code=201)
async def add_follow(body: FollowIn, service: ServiceDep) -> Follow:
    """Follow a topic: the articles of every later sync that match it are kept for GET /v1/follows/{id}/matches.
    Following the same topic again returns the follow there is."""
    return wire(Follow, await run_in_threadpool(service.follow, body.topic, "api"))


@writes.get(
    "/follows",
    response_model=list[Follow],
    responses={200: {"content": {"application/json": {"example": [FOLLOW_EXAMPLE]}}}},
)
async def list_follows(service: ServiceDep) -> list[Follow]:
    """Every follow (those made over HTTP and in Discord channels)."""
    return [wire(Follow, f) for f in await run_in_threadpool(service.list_follows)]


@writes.delete("/follows/{follow_id}", status_code=204, responses=errors(404))
async def delete_follow(follow_id: str, service: ServiceDep) -> Response:
    await run_in_threadpool(service.unfollow, follow_id)
    return Response(status_code=204)


@writes.get(
    "/follows/{follow_id}/matches",
    response_model=list[FollowMatch],
    responses={200: {"content": {"application/json": {"example": [FOLLOW_MATCH_EXAMPLE]}}}, **errors(404)},
)
async def follow_matches(
    follow_id: str,
    service: ServiceDep,
    since: Annotated[str | None, Query(max_length=40, description="matched at or after (ISO 8601)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[FollowMatch]:
    """The new articles that matched the follow, oldest match first: poll with `since` = the last matched_at."""
    found = await run_in_threadpool(service.follow_matches, follow_id, since, limit)
    return [wire(FollowMatch, m) for m in found]
