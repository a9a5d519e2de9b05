"""Jobs: start a re-index of the corpus folder (one at a time, whichever face starts it), follow any job."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool

from bot.api.deps import API, ServiceDep
from bot.api.openapi import errors
from bot.api.schemas.wire import Job, wire

reads = APIRouter(prefix=API, tags=["jobs"])
writes = APIRouter(prefix=API, tags=["jobs"])


@writes.post("/reindex", status_code=202, response_model=Job, responses=errors(409))
async def reindex(service: ServiceDep, response: Response) -> Job:
    """Sync the corpus folder into the index in the background; follow the job at /v1/jobs/{id}."""
    job = await run_in_threadpool(service.start_reindex)  # 507 now, not from a job that fails later
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return wire(Job, job)


@reads.get("/jobs/{job_id}", response_model=Job, responses=errors(404))
async def get_job(job_id: str, service: ServiceDep) -> Job:
    """A job's state (running, succeeded, failed), progress and, when done, its report."""
    return wire(Job, service.jobs.get(job_id))
