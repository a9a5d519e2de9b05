"""The `newsdesk` command: ingest | ask | search | stats | serve | bot | eval."""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from bot.cli_eval import eval_app
from retrieval import dates
from retrieval.config import Settings
from retrieval.errors import NewsdeskError

if TYPE_CHECKING:
    from retrieval.ingest import Progress as ProgressCallback
    from retrieval.service import Newsdesk
    from retrieval.types import IngestReport

log = logging.getLogger("newsdesk")
app = typer.Typer(help="Newsdesk: questions answered from a news archive, with cited passages.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
# Article text (titles, passages, answers) is printed as Text, never parsed as markup or emoji codes: a title
# holding "[/bold]" would crash the command, and ":x:" would become an emoji.
console = Console(stderr=True, emoji=False)
out = Console(emoji=False)
NOISY_LOGGERS = ("httpx", "chromadb", "bm25s", "urllib3", "trafilatura")


def _settings() -> Settings:
    try:
        settings = Settings()
    except ValidationError as exc:
        console.print(f"[red]Configuration error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    if settings.log_level.upper() != "DEBUG":
        # a filter on the handlers, not a logger level: bm25s sets its logger to DEBUG when it is imported
        for handler in logging.getLogger().handlers:
            handler.addFilter(_quiet_libraries)
    return settings


def _quiet_libraries(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or record.name.partition(".")[0] not in NOISY_LOGGERS


AS_OF_HELP = (
    'when the question is asked, YYYY-MM-DD or ISO date-time (default now): "last week" and "latest" are read '
    "against it"
)


def _as_of(value: str | None) -> datetime | None:
    try:
        return dates.parse_as_of(value)
    except ValueError as exc:
        raise _fail(str(exc), code=2) from exc


def _fail(message: str, prefix: str = "", code: int = 1) -> typer.Exit:
    """Print an error (its text literally) and return the exit to raise."""
    console.print(Text.assemble((prefix, "red"), (message, "" if prefix else "red")), soft_wrap=True)
    return typer.Exit(code)


def _service(settings: Settings, writable: bool = False) -> Newsdesk:
    """writable: for a command that changes the index, a data directory that cannot be written is an error at
    once (a reading command opens it read-only)."""
    from retrieval.service import Newsdesk

    try:
        return Newsdesk(settings, allow_read_only=not writable)
    except NewsdeskError as exc:
        raise _fail(exc.message, "Cannot open the index: ") from exc


@app.command()
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
    from retrieval.schedule import parse_duration, read_sources_file

    settings = _settings()
    feeds = list(feed or [])
    try:
        interval = parse_duration(every) if every else None
        if sources_file is not None:
            feeds += read_sources_file(sources_file)
    except ValueError as exc:
        raise _fail(str(exc), code=2) from exc
    targets = targets or ([] if feeds else [str(settings.corpus_dir)])
    service = _service(settings, writable=True)
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
        raise _fail(exc.message, "Ingest failed: ") from exc
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

    from retrieval.schedule import run_every

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    console.print(f"syncing every {interval:.0f}s; Ctrl-C to stop")
    try:
        summary = run_every(
            lambda: service.ingest(targets, feeds, prune),
            interval,
            stop,
            on_report=lambda report: _print_report(report, as_json),
        )
    except KeyboardInterrupt:
        console.print("stopped (Ctrl-C); the next run completes anything this one left half-done")
        return
    console.print(f"stopped after {summary.runs} runs ({summary.failures} failed)")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="the question")],
    as_json: Annotated[bool, typer.Option("--json", help="print the answer as JSON")] = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help=AS_OF_HELP)] = None,
) -> None:
    """Answer a question from the indexed articles, with citations."""
    when = _as_of(as_of)
    service = _service(_settings())
    try:
        answer = service.ask(question, as_of=when)
    except NewsdeskError as exc:
        raise _fail(exc.message) from exc
    if as_json:
        fields = {"answer", "abstained", "citations", "mode", "related", "evidence_dates", "as_of"}
        print(json.dumps(answer.model_dump(include=fields), ensure_ascii=False))
        return
    from bot.text import answer_to_text

    out.print(Text(answer_to_text(answer)), soft_wrap=True)


@app.command()
def search(
    query: Annotated[str, typer.Argument()],
    k: Annotated[int, typer.Option(min=1, max=50, help="how many passages (1-50, as the HTTP API)")] = 5,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help=AS_OF_HELP)] = None,
) -> None:
    """The top passages for a query, without an answer (a story told by several outlets once)."""
    when = _as_of(as_of)
    service = _service(_settings())
    try:
        passages = service.search(query, k, as_of=when)
    except NewsdeskError as exc:
        raise _fail(exc.message) from exc
    if as_json:
        print(json.dumps([p.model_dump() for p in passages], ensure_ascii=False))
        return
    for i, p in enumerate(passages, 1):
        where = f" ({p.source or 'unknown outlet'}, {(p.published_at or '')[:10]})"
        out.print(Text.assemble((f"{i}. {p.title}", "bold"), where), soft_wrap=True)
        out.print(Text(p.text), soft_wrap=True)
        if p.also_reported_by:
            others = ", ".join(o.source or "unknown outlet" for o in p.also_reported_by)
            out.print(Text(f"also reported by {len(p.also_reported_by)}: {others}", style="dim"), soft_wrap=True)
        out.print()


@app.command()
def stats(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """What is indexed."""
    service = _service(_settings())
    result = service.stats()
    if as_json:
        print(result.model_dump_json())
    else:
        for key, value in result.model_dump().items():
            out.print(Text(f"{key:26} {value}"), soft_wrap=True)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port")] = None,
    ingest_first: Annotated[bool, typer.Option("--ingest/--no-ingest", help="sync corpus/ before serving")] = False,
) -> None:
    """Serve the HTTP API (and the Discord bot too when NEWSDESK_DISCORD_TOKEN is set)."""
    import uvicorn

    from bot.api import create_app
    from bot.server import uvicorn_options

    settings = _settings()
    service = _service(settings, writable=ingest_first)  # an index that cannot be opened stops here, not in uvicorn
    if ingest_first:
        try:
            service.ingest([str(settings.corpus_dir)], prune=True)
        except NewsdeskError as exc:
            raise _fail(exc.message, "Ingest failed: ") from exc
    try:
        uvicorn.run(
            create_app(settings, service),
            host=host or settings.host,
            port=port or settings.port,
            log_level="info",
            **uvicorn_options(settings),
        )
    finally:
        service.close()


@app.command("bot")
def discord_bot() -> None:
    """Run the Discord bot alone (needs NEWSDESK_DISCORD_TOKEN; see the README's "Discord bot")."""
    import asyncio

    settings = _settings()
    if settings.discord_token is None:
        console.print(
            "[red]NEWSDESK_DISCORD_TOKEN is not set.[/red] Create a bot in the Discord developer portal and set "
            'its token (see the README\'s "Discord bot" section).'
        )
        raise typer.Exit(2)
    service = _service(settings)
    service.start_background()
    from bot.discord.run import run_bot

    try:
        asyncio.run(run_bot(service, settings))
    except KeyboardInterrupt:
        pass
    except NewsdeskError as exc:
        raise _fail(exc.message) from exc
    finally:
        service.close()


def main() -> None:  # pragma: no cover
    app()
