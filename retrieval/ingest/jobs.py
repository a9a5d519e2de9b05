"""Background jobs, each in its own thread, with progress readable while it runs: re-indexes (one at a time in
the process, whichever face starts one) and long article writes. The facade owns the one `Jobs` of a process.

Article jobs are bounded: at most `max_article_jobs` unfinished at once, holding at most `max_article_bytes` of
text between them; beyond either, `start` refuses with JobsFull (HTTP 429 and Retry-After). Jobs live in memory
only: a job that has not finished when the process stops (SIGTERM, a crash) is lost, and its 202 means "accepted
for now", not "saved". A client that sees the job gone (404) or failed sends the articles again: a write is a
sync, so what was indexed already is skipped."""

from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable

from retrieval.core.errors import JobRunning, JobsFull, NewsdeskError, NotFound
from retrieval.core.types import IngestReport, Job, JobKind, JobProgress, JobState, Progress, utc_now

log = logging.getLogger(__name__)

class Jobs:
    """Keeps the last `keep` jobs in memory. One re-index at a time (`start` refuses a second while one runs);
    article jobs (long POST /v1/articles) run beside it, each waiting its turn for the index in its own thread."""

    def __init__(self, keep: int = 50, max_article_jobs: int = 4, max_article_bytes: int = 20_000_000) -> None:
        self.keep = keep
        self.max_article_jobs = max_article_jobs
        self.max_article_bytes = max_article_bytes
        self._sizes: dict[str, int] = {}  # unfinished article jobs -> the bytes of text they hold
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._running: Job | None = None
        self._finished: Counter[JobState] = Counter()
        self._changed = threading.Condition()  # guards the jobs; notified when one finishes
        self._threads: list[threading.Thread] = []

    def start(
        self,
        work: Callable[[Progress], IngestReport],
        kind: JobKind = "reindex",
        started_by: str | None = None,
        on_progress: Progress | None = None,
        size: int = 0,
    ) -> Job:
        """Run `work` in a thread; JobRunning when `kind` is reindex and a re-index is running already; JobsFull
        when an article job (`size`: the bytes of text it holds) would pass the bounds.
        `on_progress(done, total)` is called from the job's thread as the work goes."""
        with self._changed:
            if kind == "reindex" and self._running is not None:
                raise JobRunning(self._running.model_copy(deep=True))
            if kind == "articles":
                held = sum(self._sizes.values())
                if len(self._sizes) >= self.max_article_jobs or (self._sizes and held + size > self.max_article_bytes):
                    raise JobsFull(
                        f"{len(self._sizes)} article jobs holding {held:,} bytes of text are waiting or running "
                        f"(the limits are {self.max_article_jobs} jobs and {self.max_article_bytes:,} bytes: "
                        "NEWSDESK_MAX_WRITE_JOBS, NEWSDESK_MAX_WRITE_JOB_QUEUE_BYTES); retry later"
                    )
            job = Job(id=uuid.uuid4().hex[:12], kind=kind, started_by=started_by)
            if kind == "reindex":
                self._running = job
            if kind == "articles":
                self._sizes[job.id] = size
            self._jobs[job.id] = job
            finished = [old for old, kept in self._jobs.items() if kept.state != "running"]
            for old in finished[: max(0, len(self._jobs) - self.keep)]:  # the oldest finished ones go first
                del self._jobs[old]
            started = job.model_copy(deep=True)
        thread = threading.Thread(target=self._run, args=(job, work, on_progress), name=f"{kind}-{job.id}", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return started

    def get(self, job_id: str) -> Job:
        with self._changed:
            return self._find(job_id).model_copy(deep=True)

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        """The job once it has finished (or as it is when the timeout passes)."""
        with self._changed:
            job = self._find(job_id)
            self._changed.wait_for(lambda: job.state != "running", timeout)
            return job.model_copy(deep=True)

    @property
    def running(self) -> Job | None:
        with self._changed:
            return self._running.model_copy(deep=True) if self._running else None

    def finished_counts(self) -> dict[JobState, int]:
        """Jobs finished since the process started, by outcome."""
        with self._changed:
            return dict(self._finished)

    def join(self, timeout: float | None = None) -> None:
        """Wait for running jobs (used at shutdown and by tests)."""
        for thread in list(self._threads):
            thread.join(timeout)

    def _find(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(f"no job with id {job_id!r} (jobs are kept in memory until the server restarts)")
        return job

    def _run(self, job: Job, work: Callable[[Progress], IngestReport], on_progress: Progress | None) -> None:
        def progress(done: int, total: int) -> None:
            with self._changed:
                job.progress = JobProgress(done=done, total=total)
            if on_progress is not None:
                try:
                    on_progress(done, total)
                except Exception:  # a face that stopped listening must not stop the job
                    log.warning("%s job %s: the progress listener failed", job.kind, job.id, exc_info=True)

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
        with self._changed:
            job.state = state
            job.report = report
            job.error = error
            job.finished_at = utc_now()
            if report is not None and job.progress.total is None:
                job.progress = JobProgress(done=0, total=0)
            if self._running is job:
                self._running = None
            self._sizes.pop(job.id, None)
            self._finished[state] += 1
            self._changed.notify_all()
        log.info("%s job %s %s", job.kind, job.id, state)
