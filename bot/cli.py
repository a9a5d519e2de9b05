"""The `newsdesk` command: ingest | ask | search | stats | serve | bot | eval."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from bot.cli_eval import eval_app
from retrieval.config import Settings
from retrieval.errors import NewsdeskError

if TYPE_CHECKING:
    from retrieval.service import Newsdesk
    from retrieval.types import IngestReport

app = typer.Typer(help="Newsdesk: questions answered from a news archive, with cited passages.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
console = Console(stderr=True)
out = Console()


def _settings() -> Settings:
    try:
        settings = Settings()
    except ValidationError as exc:
        console.print(f"[red]Configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    for noisy in ("httpx", "chromadb", "bm25s", "urllib3", "trafilatura"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return settings


def _service(settings: Settings) -> Newsdesk:
    from retrieval.service import Newsdesk

    try:
        return Newsdesk(settings)
    except NewsdeskError as exc:
        console.print(f"[red]Cannot open the index:[/red] {exc.message}")
        raise typer.Exit(1) from exc


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
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    targets = targets or ([] if feeds else [str(settings.corpus_dir)])
    service = _service(settings)
    if interval is not None:
        _ingest_every(service, targets, feeds, prune, interval, as_json)
        return
    show_bar = console.is_terminal and not as_json
    try:
        with Progress(
            TextColumn("embedding articles"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            console=console, disable=not show_bar,
        ) as bar:  # fmt: skip
            task = bar.add_task("ingest", total=None)
            report = service.ingest(
                targets, feeds, prune, progress=lambda done, total: bar.update(task, completed=done, total=total)
            )
    except NewsdeskError as exc:
        console.print(f"[red]Ingest failed:[/red] {exc.message}")
        raise typer.Exit(1) from exc
    _print_report(report, as_json)
    if report.failed and not (report.added or report.updated or report.skipped or report.removed):
        raise typer.Exit(1)


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
        out.print(f"[yellow]not indexed[/yellow] {failure.origin}: {failure.reason}")
    for dup in report.duplicates:
        out.print(f"[dim]duplicate[/dim] {dup}")
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
) -> None:
    """Answer a question from the indexed articles, with citations."""
    service = _service(_settings())
    try:
        answer = service.ask(question)
    except NewsdeskError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from exc
    if as_json:
        print(json.dumps(answer.model_dump(include={"answer", "abstained", "citations", "mode"}), ensure_ascii=False))
        return
    from bot.text import answer_to_text

    out.print(answer_to_text(answer), markup=False, highlight=False)


@app.command()
def search(
    query: Annotated[str, typer.Argument()],
    k: Annotated[int, typer.Option(help="how many passages")] = 5,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The top passages for a query, without an answer."""
    service = _service(_settings())
    passages = service.search(query, k)
    if as_json:
        print(json.dumps([p.model_dump() for p in passages], ensure_ascii=False))
        return
    for i, p in enumerate(passages, 1):
        out.print(f"[bold]{i}. {p.title}[/bold] ({p.source or 'unknown outlet'}, {(p.published_at or '')[:10]})")
        out.print(p.text, markup=False, highlight=False)
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
            out.print(f"{key:26} {value}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port")] = None,
    ingest_first: Annotated[bool, typer.Option("--ingest/--no-ingest", help="sync corpus/ before serving")] = False,
) -> None:
    """Serve the HTTP API (and the Discord bot too when NEWSDESK_DISCORD_TOKEN is set)."""
    import uvicorn

    from bot.api import create_app

    settings = _settings()
    if ingest_first:
        _service(settings).ingest([str(settings.corpus_dir)], prune=True)
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port, log_level="info")


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
    from bot.discord_bot import run_bot

    try:
        asyncio.run(run_bot(service, settings))
    except KeyboardInterrupt:
        pass
    except NewsdeskError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from exc
    finally:
        service.close()


def main() -> None:  # pragma: no cover
    app()
