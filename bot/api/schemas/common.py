"""What the API's models share: the not-blank pattern, dates, the seed question, the error shape, and the mark
that asks for a limit from settings in the OpenAPI document."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from retrieval.core import dates

# at least one character that str.strip() keeps (it also strips \x1c-\x1f, which regex \s does not match)
NOT_BLANK = r"[^\s\x1c-\x1f]"
SEED_QUESTION = "What annual output is planned for Xiaomi's own plant?"
# A schema (a field's, a parameter's) holding {LIMIT: "a_setting"} gets maxLength = that setting's value in the
# OpenAPI document (bot.api.openapi): limits come from settings, which are not known at import.
LIMIT = "x-newsdesk-max-length"
QUESTION_LIMIT: dict[str, Any] = {LIMIT: "max_question_chars"}

CITATION_EXAMPLE: dict[str, Any] = {
    "n": 1,
    "article_id": "3f1c2a9b8d7e6f50",
    "title": "Xiaomi to build its own EV plant in Beijing",
    "source": "Reuters",
    "url": "https://www.reuters.com/business/autos-transportation/xiaomi-ev-plant/",
    "published_at": "2022-09-03",
    "quote": "The plant will have an annual production capacity of 300,000 vehicles.",
}
PASSAGE_EXAMPLE: dict[str, Any] = {
    "chunk_id": "3f1c2a9b8d7e6f50:0:8c1d",
    "article_id": "3f1c2a9b8d7e6f50",
    "title": "Xiaomi to build its own EV plant in Beijing",
    "source": "Reuters",
    "url": "https://www.reuters.com/business/autos-transportation/xiaomi-ev-plant/",
    "published_at": "2022-09-03",
    "text": "The plant will have an annual production capacity of 300,000 vehicles.",
    "score": 0.032787,
}
def _iso_day(value: object) -> object:
    """Only YYYY-MM-DD, as the document promises (no timestamps, no week dates)."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return value
    raise ValueError("use a date like 2024-03-31 (YYYY-MM-DD)")


IsoDate = Annotated[date, BeforeValidator(_iso_day)]


def _as_of(value: object) -> object:
    """A day (its end, UTC) or an ISO 8601 date-time (without a zone: UTC)."""
    if value is None or isinstance(value, datetime):
        return value
    return dates.parse_as_of(str(value))


AsOf = Annotated[datetime, BeforeValidator(_as_of)]
AS_OF_HELP = (
    "the time the question is asked at, YYYY-MM-DD or an ISO 8601 date-time (default now): "
    '"last week", "latest" and "in February" are read against it, and nothing published later is used'
)


class ErrorResponse(BaseModel):
    """Every error has this shape; `message` says what to do next."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"error": "invalid_input", "message": "the question is empty: ask something about the news"}]
        }
    )

    error: str
    message: str
    job_id: str | None = Field(default=None, description="with job_running: the re-index that is running")
