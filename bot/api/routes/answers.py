"""Answers: ask, ask as a stream of Server-Sent Events, search. Each takes one of the service's answer slots."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import iterate_in_threadpool, run_in_threadpool
from fastapi.responses import StreamingResponse
from fastapi.sse import format_sse_event

from bot.api.deps import API, MetricsDep, ServiceDep, SettingsDep
from bot.api.schemas.answers import AskRequest, AskResponse, SearchResponse, search_filters
from bot.api.schemas.common import AS_OF_HELP, NOT_BLANK, QUESTION_LIMIT, SEED_QUESTION, AsOf, IsoDate
from bot.api.schemas.wire import Passage, wire
from bot.metrics import Metrics
from retrieval.core.config import Settings
from retrieval.core.errors import NewsdeskError
from retrieval.core.types import Answer, StreamEvent
from retrieval.service import Newsdesk

log = logging.getLogger(__name__)
reads = APIRouter(prefix=API, tags=["answers"])

STREAM_DOCUMENTED = {
    "description": "Server-Sent Events: `token` (text as it is written), then `citations`, then `done` "
    "(the final answer, as /v1/ask returns it); `error` if something fails mid-way.",
    "content": {
        "text/event-stream": {
            "example": 'event: token\ndata: {"text":"Xiaomi\'s plant ..."}\n\n'
            'event: citations\ndata: {"citations":[...]}\n\n'
            'event: done\ndata: {"answer":"...","abstained":false,"citations":[...]}\n\n'
        }
    },
}


@reads.post("/ask", response_model=AskResponse)
async def ask(body: AskRequest, service: ServiceDep, metrics: MetricsDep, settings: SettingsDep) -> AskResponse:
    """Answer a question from the archive, with [n] citations that resolve to quoted passages."""
    async with service.admission:
        answer = await run_in_threadpool(service.ask, body.to_question())
    metrics.record_answer(answer, settings)
    return answer_out(answer)


@reads.post("/ask/stream", response_class=StreamingResponse, responses={200: STREAM_DOCUMENTED})
async def ask_stream(
    body: AskRequest, service: ServiceDep, metrics: MetricsDep, settings: SettingsDep
) -> StreamingResponse:
    """Answer a question as a stream of Server-Sent Events."""
    # the facade validates now: a bad question is a 422, before the stream starts
    events = iterate_in_threadpool(service.ask_stream(body.to_question()))
    return StreamingResponse(
        _sse(events, service, metrics, settings),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@reads.get("/search", response_model=SearchResponse)
async def search(
    service: ServiceDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            pattern=NOT_BLANK,
            description="what to look for",
            json_schema_extra=QUESTION_LIMIT,
            openapi_examples={"seed": {"value": SEED_QUESTION}},
        ),
    ],
    k: Annotated[int | None, Query(ge=1, le=50, description="passages to return")] = None,
    source: Annotated[str | None, Query(description="an outlet, or several separated by commas")] = None,
    since: Annotated[IsoDate | None, Query(description="earliest publication date, inclusive")] = None,
    until: Annotated[IsoDate | None, Query(description="latest publication date, inclusive")] = None,
    as_of: Annotated[AsOf | None, Query(description=AS_OF_HELP)] = None,
) -> SearchResponse:
    """The passages a question would draw on, best first, with their fused scores; a story told by several
    outlets appears once, its other copies under also_reported_by."""
    sources = [s.strip() for s in (source or "").split(",") if s.strip()]
    async with service.admission:
        passages = await run_in_threadpool(service.search, q, k, search_filters(sources, since, until), as_of)
    return SearchResponse(query=q.strip(), passages=[wire(Passage, p) for p in passages])


def answer_out(answer: Answer) -> AskResponse:
    return AskResponse(**answer.model_dump(exclude=set(Answer.model_fields) - set(AskResponse.model_fields)))


def _frame(event: str, data: str) -> str:
    return format_sse_event(event=event, data_str=data).decode()


async def _sse(
    events: AsyncIterator[StreamEvent], service: Newsdesk, metrics: Metrics, settings: Settings
) -> AsyncIterator[str]:
    """StreamEvents as SSE frames, computed in one answer slot; a failure part-way ends the stream with an
    `error` event, not a broken socket."""
    try:
        async with service.admission:
            async for event in events:
                if event.type == "done" and event.answer is not None:
                    metrics.record_answer(event.answer, settings)
                    yield _frame("done", answer_out(event.answer).model_dump_json())
                    return
                fields = event.model_dump(mode="json", exclude={"type", "answer"})
                data = {name: value for name, value in fields.items() if value is not None}
                yield _frame(event.type, json.dumps(data))
    except NewsdeskError as exc:
        yield _frame("error", json.dumps({"error": exc.code, "message": exc.message}))
    except Exception:
        log.exception("the answer stream failed")
        message = "the answer failed part-way; it has been logged, ask again"
        yield _frame("error", json.dumps({"error": "internal_error", "message": message}))
