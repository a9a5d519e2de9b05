"""The HTTP API: FastAPI app factory; the service is built once in the lifespan and shared.

Routes call the one facade (retrieval.service.Newsdesk) in the thread pool, so a slow answer or a re-index
never blocks the event loop. Every error leaves through one handler as {"error": code, "message": text}.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, FastAPI, Query, Request, Response, Security
from fastapi.concurrency import iterate_in_threadpool, run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.sse import format_sse_event
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from bot.metrics import Metrics, MetricsMiddleware
from bot.schemas import (
    ARTICLES_EXAMPLES,
    AS_OF_HELP,
    NOT_BLANK,
    SEED_QUESTION,
    ArticleIn,
    ArticleOut,
    ArticlePage,
    AskRequest,
    AskResponse,
    AsOf,
    ErrorResponse,
    Health,
    IngestResponse,
    IsoDate,
    Ready,
    SearchResponse,
    StatsResponse,
    UrlIn,
    search_filters,
)
from bot.security import BodySizeLimit, KeyChecker, RateLimiter, check_url, url_guard
from retrieval.config import Settings
from retrieval.errors import IndexUnavailable, NewsdeskError
from retrieval.jobs import Job
from retrieval.service import Newsdesk
from retrieval.sources import SourceError, load_url, make_article, text_hash
from retrieval.types import Answer, Article, Failure, IngestReport, StreamEvent

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
}
_DESCRIPTIONS = {
    401: "No API key was sent (`Authorization: Bearer KEY`)",
    403: "The API key is wrong, none is configured on the server, or the URL is not allowed",
    404: "Not found",
    409: "A re-index is already running; `job_id` names it",
    413: "The request body is over NEWSDESK_MAX_BODY_BYTES",
    422: "The request is not valid; `message` says which field and why",
    429: "Too many requests from this client; wait `Retry-After` seconds",
    202: "Accepted: the articles are long, so they are indexed in the background; follow the job at `Location`",
    503: "The index cannot be reached",
    507: "The data directory cannot be written",
}
METRICS_EXAMPLE = 'newsdesk_http_requests_total{method="POST",route="/v1/ask",status="200"} 12.0\n'
_bearer = HTTPBearer(auto_error=False, description="an API key from NEWSDESK_API_KEYS")


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorResponse, "description": _DESCRIPTIONS[code]} for code in codes}


# ------------------------------------------------------------------ errors


async def handle_error(request: Request, exc: Exception) -> JSONResponse:
    """The one error handler: every failure becomes {"error": code, "message": text}, never a stack trace."""
    headers: dict[str, str] | None = None
    extra: dict[str, Any] = {}
    if isinstance(exc, NewsdeskError):
        status, code, message = exc.status_code, exc.code, exc.message
        headers = getattr(exc, "headers", None)
        if getattr(exc, "job_id", None):
            extra["job_id"] = exc.job_id  # type: ignore[attr-defined]
        if isinstance(getattr(exc, "report", None), IngestReport):
            extra["report"] = exc.report.model_dump(mode="json")  # type: ignore[attr-defined]  # what was saved
    elif isinstance(exc, RequestValidationError):
        status, code, message = 422, "invalid_input", _validation_message(exc)
    elif isinstance(exc, StarletteHTTPException):
        status, code = exc.status_code, _STATUS_CODES.get(exc.status_code, "http_error")
        headers = dict(exc.headers) if exc.headers else None
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            # FastAPI's answer to a body json.loads could not take (not UTF-8, nested too deep): a 422 that says why
            status, code = 422, "invalid_input"
            message = _unparsable_body_message(exc.__cause__)
        elif exc.status_code == 404 and exc.detail == "Not Found":
            message = f"no such route: {request.method} {request.url.path} (the API is described at /docs)"
        elif exc.status_code == 405:
            allowed = _allowed_methods(request, headers or {})
            headers = {"Allow": allowed}
            message = f"{request.method} is not allowed on {request.url.path}; it takes {allowed}"
        else:
            message = str(exc.detail)
    else:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        status, code = 500, "internal_error"
        message = "something went wrong on the server; it has been logged, try again or report it"
    return JSONResponse({"error": code, "message": message, **extra}, status_code=status, headers=headers)


_METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request, raised: dict[str, str]) -> str:
    """Every method some route serves at this path: Starlette names only the first partly matching route's
    (GET and POST /v1/articles are two routes), and routers included in FastAPI's way carry no `methods`.
    Each method is tried against the routes; a mount (the static files) says for itself what it takes."""
    methods = {m.strip() for m in raised.get("Allow", "").split(",") if m.strip()}
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(not isinstance(route, Mount) and route.matches(scope)[0] is Match.FULL for route in request.app.routes):
            methods.add(method)
    return ", ".join(sorted(methods))


def _unparsable_body_message(cause: BaseException | None) -> str:
    if isinstance(cause, RecursionError):
        return "the request body is nested too deeply to read; send articles as flat JSON objects"
    if isinstance(cause, UnicodeDecodeError):
        return "the request body is not UTF-8: send UTF-8 encoded JSON"
    return "the request body could not be read as JSON: send UTF-8 encoded JSON"


_ARTICLE_BODIES = {"ArticleIn", "list[ArticleIn]", "UrlIn"}  # the shapes POST /v1/articles takes
_PATTERN_HINTS = {  # what a field's pattern asks for, in words
    "url": "must be an http(s) URL such as https://example.com/news/story.html",
    "id": "may hold only letters, digits and . _ : - (1 to 128 of them)",
}


def _validation_message(exc: RequestValidationError) -> str:
    errors = list(exc.errors())
    if errors and errors[0].get("type") == "json_invalid":
        why = str(errors[0].get("ctx", {}).get("error", "syntax error"))
        return (
            f"the request body is not valid JSON ({why[:1].lower()}{why[1:]} at character {errors[0]['loc'][-1]}); "
            "check its quotes, commas and brackets"
        )
    chosen = _errors_of_the_shape_sent(errors, exc.body)
    if chosen is None:
        return 'the body must be an article object, a list of them, or {"url": ...}'
    parts = list(dict.fromkeys(_error_text(error) for error in chosen))  # once each, in order
    more = len(parts) - 5
    return "; ".join(parts[:5]) + (f" (and {more} more)" if more > 0 else "")


def _errors_of_the_shape_sent(errors: list[dict[str, Any]], body: Any) -> list[dict[str, Any]] | None:
    """A body that matches none of a union's shapes fails each of them; report only the errors of the shape
    the client evidently meant (a list, {"url"} alone, or an article). None: the body has none of the shapes."""
    shapes = {e["loc"][1] for e in errors if len(e["loc"]) > 1 and e["loc"][0] == "body"} & _ARTICLE_BODIES
    if len(shapes) < 2:
        return errors
    if isinstance(body, list):
        meant = "list[ArticleIn]"
    elif isinstance(body, dict):
        meant = "UrlIn" if "url" in body and "body" not in body else "ArticleIn"
    else:
        return None
    return [{**e, "loc": ("body", *e["loc"][2:])} for e in errors if e["loc"][1:2] == (meant,)]


def _error_text(error: dict[str, Any]) -> str:
    loc = tuple(error.get("loc", ()))
    path = ""
    for part in loc[1:] if loc[:1] == ("body",) else loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    where = path or "the body"
    kind = error.get("type")
    if kind == "missing":
        return f"{where} is required"
    if kind == "extra_forbidden":
        return f"{where} is not a field here"
    if kind == "string_pattern_mismatch":
        if error.get("ctx", {}).get("pattern") == NOT_BLANK:
            return f"{where} must not be blank"
        if loc and loc[-1] in _PATTERN_HINTS:
            return f"{where} {_PATTERN_HINTS[str(loc[-1])]}"
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return f"{where} must be a JSON object"
    return f"{where}: {error.get('msg', 'invalid')}"


# ------------------------------------------------------------------ dependencies


def get_service(request: Request) -> Newsdesk:
    service: Newsdesk | None = getattr(request.app.state, "service", None)
    if service is None:
        raise IndexUnavailable("the service is still starting; retry in a few seconds")
    return service


Service = Annotated[Newsdesk, Depends(get_service)]
Bearer = Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def create_app(settings: Settings, service: Newsdesk | None = None) -> FastAPI:
    keys = KeyChecker(settings.api_keys)
    limiter = RateLimiter(settings.rate_limit_per_minute)
    metrics = Metrics(lambda: getattr(app.state, "service", None))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.service = service or await run_in_threadpool(Newsdesk, settings)
        app.state.service.start_background()
        bot_task: asyncio.Task[None] | None = None
        if settings.discord_token is not None:
            from bot.discord.run import run_bot

            bot_task = asyncio.create_task(run_bot(app.state.service, settings))
        yield
        if bot_task is not None:
            bot_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await bot_task  # let the Discord client close before the server stops
        if app.state.service.jobs.running is not None:
            log.warning("shutting down during a re-index; the next sync will finish the job")
        if service is None:
            app.state.service.close()

    app = FastAPI(
        title="Newsdesk",
        version="0.1.0",
        description=(
            "Answers from a news archive with cited passages.\n\n"
            "Reads are open unless NEWSDESK_REQUIRE_KEY_FOR_READS is set; writes (articles, re-index) need "
            "`Authorization: Bearer KEY` with a key from NEWSDESK_API_KEYS. Every error is "
            '`{"error": code, "message": text}`.'
        ),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    for exc_class in (NewsdeskError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(exc_class, handle_error)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    def rate_limit(request: Request) -> None:
        limiter.hit(_client(request))

    def read_access(request: Request, _: Bearer) -> None:
        keys.check(request.headers.get("authorization"), "reading (NEWSDESK_REQUIRE_KEY_FOR_READS is set)")

    def write_access(request: Request, _: Bearer) -> None:
        keys.check(request.headers.get("authorization"), "changing the index")

    # the bearer scheme appears on read routes in the OpenAPI document only when reads need a key
    read_guards = [Depends(rate_limit), *([Depends(read_access)] if settings.require_key_for_reads else [])]
    reads = APIRouter(prefix="/v1", dependencies=read_guards)
    writes = APIRouter(prefix="/v1", dependencies=[Depends(rate_limit), Depends(write_access)])
    read_errors = _errors(*((401, 403) if settings.require_key_for_reads else ()), 413, 422, 429, 503)
    write_errors = _errors(401, 403, 413, 422, 429, 503, 507)

    # ------------------------------------------------------------------ answers

    @reads.post("/ask", response_model=AskResponse, tags=["answers"], responses=read_errors)
    async def ask(body: AskRequest, service: Service) -> AskResponse:
        """Answer a question from the archive, with [n] citations that resolve to quoted passages."""
        filters = body.filters.to_search() if body.filters else None
        async with service.admission:
            answer = await run_in_threadpool(service.ask, body.question, body.history, filters, body.k, body.as_of)
        metrics.record_answer(answer, settings)
        return _answer_out(answer)

    @reads.post(
        "/ask/stream",
        response_class=StreamingResponse,
        tags=["answers"],
        responses={
            **read_errors,
            200: {
                "description": "Server-Sent Events: `token` (text as it is written), then `citations`, then `done` "
                "(the final answer, as /v1/ask returns it); `error` if something fails mid-way.",
                "content": {
                    "text/event-stream": {
                        "example": 'event: token\ndata: {"text":"Xiaomi\'s plant ..."}\n\n'
                        'event: citations\ndata: {"citations":[...]}\n\n'
                        'event: done\ndata: {"answer":"...","abstained":false,"citations":[...]}\n\n'
                    }
                },
            },
        },
    )
    async def ask_stream(body: AskRequest, service: Service) -> StreamingResponse:
        """Answer a question as a stream of Server-Sent Events."""
        question = service.validate_question(body.question)  # a bad question is a 422, before the stream starts
        filters = body.filters.to_search() if body.filters else None
        events = iterate_in_threadpool(service.ask_stream(question, body.history, filters, body.k, body.as_of))
        return StreamingResponse(
            _sse(events, service, metrics, settings),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @reads.get("/search", response_model=SearchResponse, tags=["answers"], responses=read_errors)
    async def search(
        service: Service,
        q: Annotated[str, Query(min_length=1, pattern=NOT_BLANK, description="what to look for")],
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
        return SearchResponse(query=q.strip(), passages=passages)

    # ------------------------------------------------------------------ articles

    @writes.post(
        "/articles",
        response_model=IngestResponse,
        tags=["articles"],
        responses={**write_errors, 202: {"model": Job, "description": _DESCRIPTIONS[202]}},
    )
    async def add_articles(
        service: Service,
        body: Annotated[
            ArticleIn | list[ArticleIn] | UrlIn,
            Body(
                description='one article, a list of articles, or {"url": ...} for a web page or RSS/Atom feed',
                openapi_examples=ARTICLES_EXAMPLES,
            ),
        ],
    ) -> IngestResponse | Response:
        """Index articles now (new ones are added, changed ones replaced, unchanged ones skipped). Articles with
        more text than NEWSDESK_WRITE_JOB_BYTES are indexed in the background: 202 and a job to follow."""
        if isinstance(body, UrlIn):
            await run_in_threadpool(check_url, body.url, settings.allow_private_urls)
            guard = url_guard(settings.allow_private_urls)
            items: Iterator[Article | Failure] = load_url(
                body.url, settings.max_article_bytes, guard, settings.fetch_timeout
            )
        else:
            articles = body if isinstance(body, list) else [body]
            items = iter([_article(a) for a in articles])
            if sum(len(a.body.encode()) + len((a.title or "").encode()) for a in articles) > settings.write_job_bytes:
                job = await run_in_threadpool(service.start_adding, items)  # 507 now, not from a job later
                return JSONResponse(job.model_dump(mode="json"), status_code=202, headers=_job_location(job))
        report = await run_in_threadpool(service.add_articles, items)
        return IngestResponse(**report.model_dump())

    @writes.delete("/articles/{article_id}", status_code=204, tags=["articles"], responses=_errors(404) | write_errors)
    async def delete_article(article_id: str, service: Service) -> Response:
        """Remove an article and its passages from the index."""
        await run_in_threadpool(service.delete, article_id)
        return Response(status_code=204)

    @reads.get(
        "/articles/{article_id}", response_model=ArticleOut, tags=["articles"], responses=_errors(404) | read_errors
    )
    async def get_article(article_id: str, service: Service) -> ArticleOut:
        """One indexed article's fields."""
        return ArticleOut(**await run_in_threadpool(service.article, article_id))

    @reads.get("/articles", response_model=ArticlePage, tags=["articles"], responses=read_errors)
    async def list_articles(
        service: Service,
        source: Annotated[str | None, Query(description="only this outlet (case-insensitive)")] = None,
        since: Annotated[IsoDate | None, Query(description="published on or after this date")] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> ArticlePage:
        """Indexed articles, newest first, a page at a time."""
        page = await run_in_threadpool(service.list_articles, source, since, limit, offset)
        return ArticlePage(
            items=[ArticleOut(**r) for r in page.items],
            total=page.total,
            limit=limit,
            offset=offset,
            next_offset=offset + limit if offset + limit < page.total else None,
        )

    # ------------------------------------------------------------------ re-index

    @writes.post(
        "/reindex",
        status_code=202,
        response_model=Job,
        tags=["jobs"],
        responses=_errors(409) | write_errors,
    )
    async def reindex(service: Service, response: Response) -> Job:
        """Sync the corpus folder into the index in the background; follow the job at /v1/jobs/{id}."""
        job = await run_in_threadpool(service.start_reindex)  # 507 now, not from a job that fails later
        response.headers["Location"] = f"/v1/jobs/{job.id}"
        return job

    @reads.get("/jobs/{job_id}", response_model=Job, tags=["jobs"], responses=_errors(404) | read_errors)
    async def get_job(job_id: str, service: Service) -> Job:
        """A job's state (running, succeeded, failed), progress and, when done, its report."""
        return service.jobs.get(job_id)

    @reads.get("/stats", response_model=StatsResponse, tags=["ops"], responses=read_errors)
    async def stats(service: Service) -> StatsResponse:
        """What is indexed, with which model, and when it was last synced."""
        current = await run_in_threadpool(service.stats)
        running = service.jobs.running
        return StatsResponse(**current.model_dump(), reindex_job=running.id if running else None)

    app.include_router(reads)
    app.include_router(writes)

    # ------------------------------------------------------------------ operations

    @app.get("/healthz", response_model=Health, tags=["ops"])
    async def healthz() -> Health:
        """The process is alive."""
        return Health(status="ok")

    @app.get("/readyz", response_model=Ready, tags=["ops"], responses=_errors(503))
    async def readyz(service: Service) -> Ready:
        """The model is loaded, the index answers and a search over it works."""
        articles, chunks = await run_in_threadpool(service.readiness)
        return Ready(status="ready", articles=articles, chunks=chunks)

    @app.get(
        "/metrics",
        response_class=PlainTextResponse,
        tags=["ops"],
        responses={200: {"content": {"text/plain": {"example": METRICS_EXAMPLE}}}},
    )
    async def prometheus() -> Response:
        """Prometheus metrics: requests and latencies by route, answers by mode, abstentions, fallbacks, index size."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    # ------------------------------------------------------------------ the page

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    app.openapi = _openapi_with_limits(app, settings)  # type: ignore[method-assign]
    return app


def app_from_env() -> FastAPI:
    """For `uvicorn --factory bot.api:app_from_env`: settings from NEWSDESK_* variables and .env."""
    return create_app(Settings())


# ------------------------------------------------------------------ helpers


def _answer_out(answer: Answer) -> AskResponse:
    return AskResponse(**answer.model_dump(exclude=set(Answer.model_fields) - set(AskResponse.model_fields)))


def _job_location(job: Job) -> dict[str, str]:
    return {"Location": f"/v1/jobs/{job.id}"}


def _article(item: ArticleIn) -> Article | Failure:
    fields = item.model_dump(exclude_none=True)
    try:
        return make_article(fields, origin="api", key="api:" + text_hash(item.body))
    except SourceError as exc:
        return Failure(origin=f"api:{item.title or item.id or 'article'}", reason=str(exc))


async def _sse(
    events: AsyncIterator[StreamEvent], service: Newsdesk, metrics: Metrics, settings: Settings
) -> AsyncIterator[str]:
    """StreamEvents as SSE frames; a failure part-way ends the stream with an `error` event, not a broken socket."""
    try:
        async with service.admission:
            async for event in events:
                if event.type == "done" and event.answer is not None:
                    metrics.record_answer(event.answer, settings)
                    yield format_sse_event(event="done", data_str=_answer_out(event.answer).model_dump_json()).decode()
                    return
                if event.type == "error":
                    payload = {"error": "answer_failed", "message": event.message or "the answer failed; ask again"}
                    yield format_sse_event(event="error", data_str=json.dumps(payload)).decode()
                    return
                fields = event.model_dump(mode="json", exclude={"type", "answer"})
                data = json.dumps({name: value for name, value in fields.items() if value is not None})
                yield format_sse_event(event=event.type, data_str=data).decode()
    except NewsdeskError as exc:
        yield format_sse_event(event="error", data_str=json.dumps({"error": exc.code, "message": exc.message})).decode()
    except Exception:
        log.exception("the answer stream failed")
        payload = {"error": "internal_error", "message": "the answer failed part-way; it has been logged, ask again"}
        yield format_sse_event(event="error", data_str=json.dumps(payload)).decode()


def _openapi_with_limits(app: FastAPI, settings: Settings) -> Callable[[], dict[str, Any]]:
    """The generated document, plus the limits that come from settings (they are not known at import)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes, tags=None
        )
        question = schema["components"]["schemas"]["AskRequest"]["properties"]["question"]
        question["maxLength"] = settings.max_question_chars
        for parameter in schema["paths"]["/v1/search"]["get"]["parameters"]:
            if parameter["name"] == "q":
                parameter["schema"]["maxLength"] = settings.max_question_chars
                parameter["example"] = SEED_QUESTION
        app.openapi_schema = schema
        return schema

    return openapi
