"""The `newsdesk` command: ingest | ask | brief | search | stats | serve | bot | eval."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.text import Text

from bot.cli_common import AS_OF_HELP, as_of_option, console, fail, load_settings, open_service, out
from bot.cli_eval import eval_app
from bot.cli_ingest import ingest
from retrieval.core.errors import NewsdeskError
from retrieval.core.types import Question, outlet_name

app = typer.Typer(help="Newsdesk: questions answered from a news archive, with cited passages.", no_args_is_help=True)
app.command()(ingest)
app.add_typer(eval_app, name="eval")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="the question")],
    as_json: Annotated[bool, typer.Option("--json", help="print the answer as JSON")] = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help=AS_OF_HELP)] = None,
) -> None:
    """Answer a question from the indexed articles, with citations."""
    when = as_of_option(as_of)
    service = open_service(load_settings())
    try:
        answer = service.ask(Question(question=question, as_of=when))
    except NewsdeskError as exc:
        raise fail(exc.message) from exc
    if as_json:
        fields = {"answer", "abstained", "citations", "mode", "related", "evidence_dates", "as_of"}
        print(json.dumps(answer.model_dump(include=fields), ensure_ascii=False))
        return
    from bot.text import answer_to_text

    out.print(Text(answer_to_text(answer)), soft_wrap=True)


@app.command()
def brief(
    since: Annotated[
        str | None, typer.Option(help="from: a duration back (1d, 12h, 2w), a day (YYYY-MM-DD) or words (Monday)")
    ] = None,
    until: Annotated[str | None, typer.Option(help="to, inclusive (YYYY-MM-DD; default as-of)")] = None,
    topic: Annotated[str | None, typer.Option(help="only stories about this topic")] = None,
    limit: Annotated[int, typer.Option(min=1, max=20, help="stories at most")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="print the brief as JSON")] = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help=AS_OF_HELP)] = None,
) -> None:
    """The main stories of a window (default the past 7 days), each with one cited sentence and its outlets."""
    from retrieval.core import dates
    from retrieval.service import Newsdesk

    moment = as_of_option(as_of) or dates.now()
    try:
        first = Newsdesk.read_since(since, moment)
        last = dates.day(until) if until else None
        if until and last is None:
            raise ValueError(f"{until!r} is not a day: use YYYY-MM-DD")
    except ValueError as exc:
        raise fail(str(exc), code=2) from exc
    service = open_service(load_settings())
    try:
        result = service.brief(first, last, topic, limit, moment)
    except NewsdeskError as exc:
        raise fail(exc.message) from exc
    if as_json:
        print(result.model_dump_json())
        return
    from bot.text import brief_to_text

    out.print(Text(brief_to_text(result)), soft_wrap=True)


@app.command()
def search(
    query: Annotated[str, typer.Argument()],
    k: Annotated[int, typer.Option(min=1, max=50, help="how many passages (1-50, as the HTTP API)")] = 5,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help=AS_OF_HELP)] = None,
) -> None:
    """The top passages for a query, without an answer (a story told by several outlets once)."""
    when = as_of_option(as_of)
    service = open_service(load_settings())
    try:
        passages = service.search(query, k, as_of=when)
    except NewsdeskError as exc:
        raise fail(exc.message) from exc
    if as_json:
        print(json.dumps([p.model_dump() for p in passages], ensure_ascii=False))
        return
    for i, p in enumerate(passages, 1):
        where = f" ({outlet_name(p.source, p.via)}, {(p.published_at or '')[:10]})"
        out.print(Text.assemble((f"{i}. {p.title}", "bold"), where), soft_wrap=True)
        out.print(Text(p.text), soft_wrap=True)
        if p.also_reported_by:
            others = ", ".join(outlet_name(o.source, o.via) for o in p.also_reported_by)
            out.print(Text(f"also reported by {len(p.also_reported_by)}: {others}", style="dim"), soft_wrap=True)
        out.print()


@app.command()
def stats(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """What is indexed."""
    service = open_service(load_settings())
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

    settings = load_settings()
    service = open_service(settings, writable=ingest_first)  # an index that cannot be opened stops here, not in uvicorn
    if ingest_first:
        try:
            service.ingest([str(settings.corpus_dir)], prune=True)
        except NewsdeskError as exc:
            raise fail(exc.message, "Ingest failed: ") from exc
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

    settings = load_settings()
    if settings.discord_token is None:
        console.print(
            "[red]NEWSDESK_DISCORD_TOKEN is not set.[/red] Create a bot in the Discord developer portal and set "
            'its token (see the README\'s "Discord bot" section).'
        )
        raise typer.Exit(2)
    service = open_service(settings)
    service.start_background()
    from bot.discord.run import run_bot

    try:
        asyncio.run(run_bot(service, settings))
    except KeyboardInterrupt:
        pass
    except NewsdeskError as exc:
        raise fail(exc.message) from exc
    finally:
        service.close()


def main() -> None:  # pragma: no cover
    app()
