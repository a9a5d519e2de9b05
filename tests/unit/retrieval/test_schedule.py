"""The scheduled-ingest loop and its inputs: durations, sources files, failures that do not stop it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from retrieval.core.dates import parse_duration
from retrieval.core.errors import IndexUnavailable
from retrieval.core.types import IngestReport
from retrieval.ingest.schedule import read_sources_file, run_every


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("1h", 3600), ("1h30m", 5400), ("2d", 172800), ("45", 45), (" 1.5m ", 90)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "10x", "m30", "0s", "0.2"])
def test_bad_durations_say_how_to_write_one(text: str) -> None:
    with pytest.raises(ValueError, match="30m|1s"):
        parse_duration(text)


def test_sources_file_skips_comments_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "feeds.txt"
    path.write_text("# news\nhttps://example.com/rss.xml\n\n  feeds/local.xml  \n# end\n")
    assert read_sources_file(path) == ["https://example.com/rss.xml", "feeds/local.xml"]


def test_empty_or_missing_sources_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing yet\n")
    with pytest.raises(ValueError, match="lists no feeds"):
        read_sources_file(empty)
    with pytest.raises(ValueError, match="cannot read"):
        read_sources_file(tmp_path / "missing.txt")


def test_a_failing_run_is_logged_and_the_loop_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    outcomes: list[Exception | None] = [None, IndexUnavailable("the Chroma server is down"), RuntimeError("boom"), None]
    seen: list[IngestReport] = []

    def job() -> IngestReport:
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome
        return IngestReport(added=["a"])

    summary = run_every(job, interval=0.01, max_runs=4, on_report=seen.append)
    assert summary.runs == 4 and summary.failures == 2 and len(seen) == 2
    assert summary.errors == ["the Chroma server is down", "RuntimeError: boom"]
    assert "scheduled ingest run 2 failed: the Chroma server is down" in caplog.text


def test_stop_ends_the_wait_at_once() -> None:
    stop = threading.Event()
    runs: list[int] = []

    def job() -> IngestReport:
        runs.append(1)
        threading.Timer(0.05, stop.set).start()
        return IngestReport()

    summary = run_every(job, interval=3600, stop=stop)  # would wait an hour without the stop
    assert summary.runs == 1 and runs == [1]


def test_ctrl_c_propagates_out_of_the_loop() -> None:
    def job() -> IngestReport:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_every(job, interval=1)
