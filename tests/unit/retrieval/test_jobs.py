"""The facade's job policy: one re-index at a time in the process, article jobs beside it, progress and
outcomes readable, a failing job reported, never raised into the caller."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from retrieval.core.errors import JobRunning, StorageError
from retrieval.core.types import IngestReport, Progress
from retrieval.ingest.jobs import Jobs


def _held(release: threading.Event, steps: int = 3) -> tuple[threading.Event, Callable[[Progress], IngestReport]]:
    """A job body that reports progress, then waits for `release`."""
    started = threading.Event()

    def work(progress: Progress) -> IngestReport:
        for done in range(1, steps + 1):
            progress(done, steps)
        started.set()
        assert release.wait(30)
        return IngestReport(skipped=["a"])

    return started, work


def test_a_second_reindex_is_refused_while_one_runs_and_article_jobs_run_beside_it() -> None:
    jobs = Jobs()
    release = threading.Event()
    started, work = _held(release)
    first = jobs.start(work, started_by="alice")
    assert started.wait(30)
    with pytest.raises(JobRunning) as refused:
        jobs.start(lambda progress: IngestReport(), started_by="bob")
    assert refused.value.job_id == first.id and refused.value.status_code == 409
    assert refused.value.job.started_by == "alice" and refused.value.job.progress.done == 3

    beside = jobs.start(lambda progress: IngestReport(added=["b"]), kind="articles")
    assert jobs.wait(beside.id, 30).state == "succeeded"
    running = jobs.running
    assert running is not None and running.id == first.id

    release.set()
    done = jobs.wait(first.id, 30)
    assert done.state == "succeeded" and done.report is not None and done.report.skipped == ["a"]
    assert done.finished_at and jobs.running is None
    assert jobs.start(lambda progress: IngestReport()).id != first.id  # free again
    jobs.join(30)
    assert jobs.finished_counts() == {"succeeded": 3}


def test_a_failing_job_is_reported_with_what_it_saved_and_a_broken_listener_does_not_stop_it() -> None:
    jobs = Jobs()

    def fails(progress: Progress) -> IngestReport:
        progress(1, 2)
        error = StorageError("the disk is full")
        error.report = IngestReport(added=["saved"])  # type: ignore[attr-defined]
        raise error

    def broken_listener(done: int, total: int) -> None:
        raise RuntimeError("the face stopped listening")

    job = jobs.wait(jobs.start(fails, on_progress=broken_listener).id, 30)
    assert job.state == "failed" and job.error == "the disk is full"
    assert job.report is not None and job.report.added == ["saved"] and job.progress.done == 1
    crashed = jobs.wait(jobs.start(lambda progress: 1 / 0).id, 30)  # type: ignore[arg-type,return-value]
    assert crashed.state == "failed" and (crashed.error or "").startswith("ZeroDivisionError")
    assert jobs.finished_counts() == {"failed": 2}


def test_jobs_are_kept_up_to_a_limit_and_an_unknown_id_is_not_found() -> None:
    jobs = Jobs(keep=2)
    ids = [jobs.wait(jobs.start(lambda progress: IngestReport(), kind="articles").id, 30).id for _ in range(4)]
    jobs.start(lambda progress: IngestReport(), kind="articles")
    jobs.join(30)
    assert jobs.get(ids[-1]).state == "succeeded"
    with pytest.raises(Exception, match="no job with id") as missing:
        jobs.get(ids[0])
    assert getattr(missing.value, "status_code", None) == 404
