"""What the `newsdesk` commands share: the settings (checked, with logging set up), the consoles, the one way an
error is printed, and opening the service."""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from typing import TYPE_CHECKING

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from retrieval.core import dates
from retrieval.core.config import Settings
from retrieval.core.errors import NewsdeskError

if TYPE_CHECKING:
    from retrieval.service import Newsdesk

log = logging.getLogger("newsdesk")
# Article text (titles, passages, answers) is printed as Text, never parsed as markup or emoji codes: a title
# holding "[/bold]" would crash the command, and ":x:" would become an emoji.
console = Console(stderr=True, emoji=False)
out = Console(emoji=False)
NOISY_LOGGERS = ("httpx", "chromadb", "bm25s", "urllib3", "trafilatura")


def load_settings() -> Settings:
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


def as_of_option(value: str | None) -> datetime | None:
    try:
        return dates.parse_as_of(value)
    except ValueError as exc:
        raise fail(str(exc), code=2) from exc


def fail(message: str, prefix: str = "", code: int = 1) -> typer.Exit:
    """Print an error (its text literally) and return the exit to raise."""
    console.print(Text.assemble((prefix, "red"), (message, "" if prefix else "red")), soft_wrap=True)
    return typer.Exit(code)


def open_service(settings: Settings, writable: bool = False) -> Newsdesk:
    """writable: for a command that changes the index, a data directory that cannot be written is an error at
    once (a reading command opens it read-only)."""
    from retrieval.service import Newsdesk

    try:
        return Newsdesk(settings, allow_read_only=not writable)
    except NewsdeskError as exc:
        raise fail(exc.message, "Cannot open the index: ") from exc
