"""`newsdesk ingest`: sync articles into the index, once or on a schedule, with progress and a report."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from bot.cli_common import console, fail, load_settings, log, open_service, out
from retrieval.core.errors import NewsdeskError

if TYPE_CHECKING:
    from retrieval.core.types import IngestReport
    from retrieval.core.types import Progress as ProgressCallback
    from retrieval.service import Newsdesk


def ingest(
    targets: Annotated[list[str] | None, typer.Argument(help="files, folders or web page URLs")] = None,
    feed: Annotated[list[str] | None, typer.Option("--feed", help="RSS/Atom feed URL or file (repeatable)")] = None,
    prune: Annotated[bool, typer.Option(help="remove articles that are gone from the given folders")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    every: Annotated[
        str | None, typer.Option(help="keep going: sync again every 90s / 30m / 1h ... until Ctrl-C")
    ] = None,
    sources_file: Annotated[
        Path | None, typer.Option("--sources-file", help="a file listing feeds, one URL or path a line (# comments)")
    ] = None,
) -> None:
    """Sync articles into the index: add new, replace changed, skip unchanged (and prune removed)."""
    from retrieval.core.dates import parse_duration
    from retrieval.service import Newsdesk

    settings = load_settings()
    feeds = list(feed or [])
    try:
        interval = parse_duration(every) if every else None
        if sources_file is not None:
            feeds += Newsdesk.feeds_in(sources_file)
    except ValueError as exc:
        raise fail(str(exc), code=2) from exc
    targets = targets or ([] if feeds else [str(settings.corpus_dir)])
    service = open_service(settings, writable=True)
    if interval is not None:
        _ingest_every(service, targets, feeds, prune, interval, as_json)
        return
    show_bar = console.is_terminal and not as_json
    count = len(targets) + len(feeds)
    log.info("reading %d source%s: %s", count, "" if count == 1 else "s", ", ".join([*targets, *feeds]))
    try:
        with Progress(
            TextColumn("embedding articles"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            console=console, disable=not show_bar,
        ) as bar:  # fmt: skip
            task = bar.add_task("ingest", total=None)
            progress: ProgressCallback = (
                (lambda done, total: bar.update(task, completed=done, total=total)) if show_bar else _log_progress()
            )
            report = service.ingest(targets, feeds, prune, progress=progress)
    except NewsdeskError as exc:
        raise fail(exc.message, "Ingest failed: ") from exc
    _print_report(report, as_json)
    if report.failed and not (report.added or report.updated or report.skipped or report.removed):
        raise typer.Exit(1)


def _log_progress(every_seconds: float = 5.0) -> ProgressCallback:
    """Without a terminal (a pipe, a log file, a container) the bar is off: a progress line now and then."""
    last = -every_seconds

    def progress(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if done >= total or now - last >= every_seconds:
            last = now
            log.info("%d/%d articles embedded", done, total)

    return progress


def _print_report(report: IngestReport, as_json: bool) -> None:
    if as_json:
        out.print_json(report.model_dump_json())
        return
    table = Table(title="Ingest report")
    for name in ("added", "updated", "removed", "skipped", "duplicates", "failed"):
        table.add_column(name)
    table.add_row(*[str(v) for v in report.summary().values()])
    out.print(table)
    for failure in report.failed:
        out.print(Text.assemble(("not indexed", "yellow"), f" {failure.origin}: {failure.reason}"), soft_wrap=True)
    for dup in report.duplicates:
        out.print(Text.assemble(("duplicate", "dim"), f" {dup}"), soft_wrap=True)
    out.print(f"{report.chunks_embedded} chunks embedded in {report.seconds:.1f}s")


def _ingest_every(
    service: Newsdesk, targets: list[str], feeds: list[str], prune: bool, interval: float, as_json: bool
) -> None:
    """The scheduled loop: a sync now and every `interval` s; SIGTERM or Ctrl-C stops it cleanly."""
    import signal
    import threading

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # Ctrl-C stops the loop even when the process was started with SIGINT ignored (a parent that ignores it, as
    # a test runner or a shell's background job may, passes that on, and Python then installs no handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    console.print(f"syncing every {interval:.0f}s; Ctrl-C to stop")
    try:
        summary = service.ingest_every(
            targets, feeds, prune, interval, stop, on_report=lambda report: _print_report(report, as_json)
        )
    except KeyboardInterrupt:
        console.print("stopped (Ctrl-C); the next run completes anything this one left half-done")
        return
    console.print(f"stopped after {summary.runs} runs ({summary.failures} failed)")
