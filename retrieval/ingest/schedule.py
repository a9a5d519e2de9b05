"""Scheduled ingestion: run the same sync again and again, every so often, until told to stop.

Every run is a sync (unchanged articles are skipped, changed ones replaced), so re-reading a feed never
duplicates its entries. A run that fails (a feed down, the Chroma server restarting) is logged and the
loop goes on; the next run completes whatever the failed one left half-done.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.core.types import IngestReport

log = logging.getLogger(__name__)

def read_sources_file(path: Path) -> list[str]:
    """Feeds to follow, one URL or file path a line; blank lines and lines starting with # are skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ValueError(f"cannot read the sources file {path} ({exc.strerror or exc})") from exc
    feeds = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    if not feeds:
        raise ValueError(f"the sources file {path} lists no feeds; put one feed URL or file path on each line")
    return feeds


@dataclass
class LoopSummary:
    runs: int = 0
    failures: int = 0
    last_report: IngestReport | None = None
    errors: list[str] = field(default_factory=list)


def run_every(
    job: Callable[[], IngestReport],
    interval: float,
    stop: threading.Event | None = None,
    max_runs: int | None = None,
    on_report: Callable[[IngestReport], None] | None = None,
) -> LoopSummary:
    """Run `job` now and then every `interval` seconds (start to start) until `stop` is set or `max_runs`.

    A failing run is logged and counted; the loop goes on. KeyboardInterrupt (Ctrl-C) ends the loop
    at once; the sync is crash-safe, so a run cut short is completed by the next one.
    """
    stop = stop or threading.Event()
    summary = LoopSummary()
    while not stop.is_set():
        started = time.monotonic()
        try:
            report = job()
        except Exception as exc:  # noqa: BLE001 - one bad run must not end the schedule
            summary.failures += 1
            message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            summary.errors.append(message)
            log.error("scheduled ingest run %d failed: %s; next try in %.0fs", summary.runs + 1, message, interval)
        else:
            summary.last_report = report
            log.info("scheduled ingest run %d: %s", summary.runs + 1, report.summary())
            if on_report is not None:
                on_report(report)
        summary.runs += 1
        if max_runs is not None and summary.runs >= max_runs:
            break
        stop.wait(max(0.0, interval - (time.monotonic() - started)))
    return summary
