"""One error hierarchy for the engine; each error knows its HTTP status and a stable code."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from retrieval.core.types import Job


class NewsdeskError(Exception):
    status_code = 500
    code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(NewsdeskError):
    status_code = 422
    code = "invalid_input"


class NotFound(NewsdeskError):
    status_code = 404
    code = "not_found"


class Conflict(NewsdeskError):
    status_code = 409
    code = "conflict"


class Busy(NewsdeskError):
    """Bounded work is at its bound (write jobs, downloads): retry after `retry_after` seconds."""

    status_code = 429
    code = "busy"

    def __init__(self, message: str, retry_after: int = 30) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


class IndexUnavailable(NewsdeskError):
    status_code = 503
    code = "index_unavailable"


class StorageError(NewsdeskError):
    """The data directory cannot be written (read-only, disk full)."""

    status_code = 507
    code = "storage_error"


class Overloaded(NewsdeskError):
    """More questions wait for an answer slot than can be served in time: readiness says so (503)."""

    status_code = 503
    code = "overloaded"


class IndexDamaged(NewsdeskError):
    """A file of the index is damaged; the message names it and says how to rebuild the index from the corpus."""

    status_code = 503
    code = "index_damaged"


class EmbedderMismatch(NewsdeskError):
    """The index holds vectors of another embedder than this process's (NEWSDESK_EMBEDDER): searching it would
    compare unlike vectors. The message names the setting that fits the index and the re-index command."""

    status_code = 409
    code = "embedder_mismatch"


class JobsFull(Busy):
    code = "too_many_jobs"


class JobRunning(Conflict):
    code = "job_running"

    def __init__(self, job: Job) -> None:
        super().__init__(f"a re-index is already running (job {job.id}); follow it at GET /v1/jobs/{job.id}")
        self.job_id = job.id
        self.job = job
        self.headers = {"Location": f"/v1/jobs/{job.id}"}


class SourceError(Exception):
    """One source could not be read; the message says why and what to do."""


class Forbidden(NewsdeskError):
    status_code = 403
    code = "forbidden"
