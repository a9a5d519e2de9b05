"""Articles: add (now, or as a background job when long), delete, read one, list a page at a time."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from bot.api.deps import API, ServiceDep, SettingsDep
from bot.api.openapi import errors
from bot.api.schemas.articles import ARTICLES_EXAMPLES, ArticleIn, ArticleOut, ArticlePage, IngestResponse, UrlIn
from bot.api.schemas.common import IsoDate
from bot.api.schemas.wire import Job

reads = APIRouter(prefix=API, tags=["articles"])
writes = APIRouter(prefix=API, tags=["articles"])

ACCEPTED = "Accepted: the articles are long, so they are indexed in the background; follow the job at `Location`"
ArticlesBody = Annotated[
    ArticleIn | list[ArticleIn] | UrlIn,
    Body(
        description='one article, a list of articles, or {"url": ...} for a web page or RSS/Atom feed',
        openapi_examples=ARTICLES_EXAMPLES,
    ),
]


@writes.post("/articles", response_model=IngestResponse, responses={202: {"model": Job, "description": ACCEPTED}})
async def add_articles(service: ServiceDep, settings: SettingsDep, body: ArticlesBody) -> IngestResponse | Response:
    """Index articles now (new ones are added, changed ones replaced, unchanged ones skipped). Articles with
    more text than NEWSDESK_WRITE_JOB_BYTES are indexed in the background: 202 and a job to follow."""
    if isinstance(body, UrlIn):  # the guard (403), a download slot (429), then the sync: all the facade's
        return IngestResponse(**(await run_in_threadpool(service.add_url, body.url)).model_dump())
    articles = body if isinstance(body, list) else [body]
    items = iter([service.api_article(a.model_dump(exclude_none=True)) for a in articles])
    if sum(len(a.body.encode()) + len((a.title or "").encode()) for a in articles) > settings.write_job_bytes:
        # 507 now rather than from a job that fails later; 429 when the bounded job queue is full
        job = await run_in_threadpool(service.start_adding, items)
        location = {"Location": f"/v1/jobs/{job.id}"}
        return JSONResponse(job.model_dump(mode="json"), status_code=202, headers=location)
    report = await run_in_threadpool(service.add_articles, items)
    return IngestResponse(**report.model_dump())


@writes.delete("/articles/{article_id}", status_code=204, responses=errors(404, 409))
async def delete_article(article_id: str, service: ServiceDep) -> Response:
    """Remove an article and its passages from the index: one that came from outside (the API, a web page, a
    feed). An article of the corpus folder is the source of record (409): remove its file and re-index."""
    await run_in_threadpool(service.delete, article_id, outside=True)
    return Response(status_code=204)


@reads.get("/articles/{article_id}", response_model=ArticleOut, responses=errors(404))
async def get_article(article_id: str, service: ServiceDep) -> ArticleOut:
    """One indexed article's fields."""
    return ArticleOut(**await run_in_threadpool(service.article, article_id))


@reads.get("/articles", response_model=ArticlePage)
async def list_articles(
    service: ServiceDep,
    source: Annotated[str | None, Query(description="only this outlet (case-insensitive)")] = None,
    since: Annotated[IsoDate | None, Query(description="published on or after this date")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ArticlePage:
    """Indexed articles, newest first, a page at a time."""
    page = await run_in_threadpool(service.list_articles, source, since, limit, offset)
    return ArticlePage(
        items=[ArticleOut(**row) for row in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
        next_offset=offset + limit if offset + limit < page.total else None,
    )

