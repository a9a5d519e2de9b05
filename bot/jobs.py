"""Background jobs, each in its own thread, with progress readable while it runs: re-indexes (one at a time)
and long article writes."""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from retrieval.errors import Conflict, NewsdeskError, NotFound
from retrieval.ingest import Progress
from retrieval.types import IngestReport

log = logging.getLogger(__name__)

JobState = Literal["running", "succeeded", "failed"]
JobKind = Literal["reindex", "articles"]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class JobProgress(BaseModel):
    done: int = Field(default=0, description="articles embedded so far")
    total: int | None = Field(default=None, description="articles to embed (known once the sources are read)")


class Job(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "5c0ffee0ab12",
                    "kind": "reindex",
                    "state": "running",
                    "progress": {"done": 96, "total": 609},
                    "started_at": "2024-05-01T12:00:00+00:00",
                    "finished_at": None,
                    "report": None,
                    "error": None,
                }
            ]
        }
    )

    id: str
    kind: JobKind = Field(default="reindex", description="reindex, or articles (a long POST /v1/articles)")
    state: JobState = "running"
    progress: JobProgress = Field(default_factory=JobProgress)
    started_at: str = Field(default_factory=_now)
    finished_at: str | None = None
    report: IngestReport | None = None
    error: str | None = None


class JobRunning(Conflict):
    code = "job_running"

    def __init__(self, job: Job) -> None:
        super().__init__(f"a re-index is already running (job {job.id}); follow it at GET /v1/jobs/{job.id}")
        self.job_id = job.id
        self.headers = {"Location": f"/v1/jobs/{job.id}"}


class JobManager:
    """Keeps the last `keep` jobs in memory. One re-index at a time (`start` refuses a second while one runs);
    article jobs (long POST /v1/articles) run beside it, each waiting its turn for the index in its own thread."""

    def __init__(self, keep: int = 50, on_finish: Callable[[Job], None] | None = None) -> None:
        self.keep = keep
        self.on_finish = on_finish
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._running: Job | None = None
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self, work: Callable[[Progress], IngestReport], kind: JobKind = "reindex") -> Job:
        with self._lock:
            if kind == "reindex" and self._running is not None:
                raise JobRunning(self._running)
            job = Job(id=uuid.uuid4().hex[:12], kind=kind)
            if kind == "reindex":
                self._running = job
            self._jobs[job.id] = job
            finished = [old for old, kept in self._jobs.items() if kept.state != "running"]
            for old in finished[: max(0, len(self._jobs) - self.keep)]:  # the oldest finished ones go first
                del self._jobs[old]
        thread = threading.Thread(target=self._run, args=(job, work), name=f"{kind}-{job.id}", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return job

    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise NotFound(f"no job with id {job_id!r} (jobs are kept in memory until the server restarts)")
            return job.model_copy(deep=True)

    @property
    def running(self) -> Job | None:
        with self._lock:
            return self._running.model_copy(deep=True) if self._running else None

    def join(self, timeout: float | None = None) -> None:
        """Wait for running jobs (used at shutdown and by tests)."""
        for thread in list(self._threads):
            thread.join(timeout)

    def _run(self, job: Job, work: Callable[[Progress], IngestReport]) -> None:
        def progress(done: int, total: int) -> None:
            with self._lock:
                job.progress = JobProgress(done=done, total=total)

        try:
            report = work(progress)
        except NewsdeskError as exc:  # a sync stopped part-way carries the report of what it saved
            saved = getattr(exc, "report", None)
            self._finish(job, "failed", report=saved if isinstance(saved, IngestReport) else None, error=exc.message)
        except Exception as exc:
            log.exception("%s job %s failed", job.kind, job.id)
            self._finish(job, "failed", error=f"{type(exc).__name__}: {exc}")
        else:
            self._finish(job, "succeeded", report=report)

    def _finish(self, job: Job, state: JobState, report: IngestReport | None = None, error: str | None = None) -> None:
        with self._lock:
            job.state = state
            job.report = report
            job.error = error
            job.finished_at = _now()
            if report is not None and job.progress.total is None:
                job.progress = JobProgress(done=0, total=0)
            if self._running is job:
                self._running = None
        log.info("%s job %s %s", job.kind, job.id, state)
        if self.on_finish is not None:
            self.on_finish(job)
