"""Operations: what is indexed (stats), liveness, readiness, Prometheus metrics, and the web page."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.api.deps import API, MetricsDep, ServiceDep
from bot.api.openapi import errors
from bot.api.schemas.operations import Health, Ready, StatsResponse
from retrieval.core.errors import Overloaded

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
METRICS_EXAMPLE = 'newsdesk_http_requests_total{method="POST",route="/v1/ask",status="200"} 12.0\n'

reads = APIRouter(prefix=API, tags=["ops"])
probes = APIRouter(tags=["ops"])  # never behind a key or the rate limit: load balancers and Prometheus call them


@reads.get("/stats", response_model=StatsResponse)
async def stats(service: ServiceDep) -> StatsResponse:
    """What is indexed, with which model, and when it was last synced."""
    current = await run_in_threadpool(service.stats)
    running = service.jobs.running
    return StatsResponse(**current.model_dump(), reindex_job=running.id if running else None)


@probes.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is alive."""
    return Health(status="ok")


@probes.get("/readyz", response_model=Ready, responses=errors(503))
async def readyz(service: ServiceDep) -> Ready:
    """The model is loaded, the index answers and a search over it works, and new questions would not wait
    behind too many others (else 503 saying what is wrong)."""
    overload = service.overload()
    if overload is not None:
        raise Overloaded(overload)
    articles, chunks = await run_in_threadpool(service.readiness)
    return Ready(status="ready", articles=articles, chunks=chunks)


@probes.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"example": METRICS_EXAMPLE}}}},
)
async def prometheus(metrics: MetricsDep) -> Response:
    """Prometheus metrics: requests and latencies by route, answers by mode, abstentions, fallbacks, index size."""
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


@probes.get("/", include_in_schema=False)
async def page() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html")
