"""Request and response models of the HTTP API, with the examples shown in its OpenAPI document."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from retrieval import dates
from retrieval.types import (
    Citation,
    EvidenceDates,
    IngestReport,
    Passage,
    SearchFilters,
    SentenceCounts,
    Stats,
    Turn,
)

# at least one character that str.strip() keeps (it also strips \x1c-\x1f, which regex \s does not match)
NOT_BLANK = r"[^\s\x1c-\x1f]"
SEED_QUESTION = "What annual output is planned for Xiaomi's own plant?"

_CITATION_EXAMPLE: dict[str, Any] = {
    "n": 1,
    "article_id": "3f1c2a9b8d7e6f50",
    "title": "Xiaomi to build its own EV plant in Beijing",
    "source": "Reuters",
    "url": "https://www.reuters.com/business/autos-transportation/xiaomi-ev-plant/",
    "published_at": "2022-09-03",
    "quote": "The plant will have an annual production capacity of 300,000 vehicles.",
}
_PASSAGE_EXAMPLE: dict[str, Any] = {
    "chunk_id": "3f1c2a9b8d7e6f50:0:8c1d",
    "article_id": "3f1c2a9b8d7e6f50",
    "title": "Xiaomi to build its own EV plant in Beijing",
    "source": "Reuters",
    "url": "https://www.reuters.com/business/autos-transportation/xiaomi-ev-plant/",
    "published_at": "2022-09-03",
    "text": "The plant will have an annual production capacity of 300,000 vehicles.",
    "score": 0.032787,
}
_ARTICLE_EXAMPLE: dict[str, Any] = {
    "id": "3f1c2a9b8d7e6f50",
    "title": "Xiaomi to build its own EV plant in Beijing",
    "source": "Reuters",
    "url": "https://www.reuters.com/business/autos-transportation/xiaomi-ev-plant/",
    "published_at": "2022-09-03",
    "author": "Staff",
    "category": "technology",
    "origin": "corpus/2022-09-03-xiaomi-apple-ev-plans.md",
    "chunks": 3,
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

ARTICLE_IN_EXAMPLE: dict[str, Any] = {
    "title": "Xiaomi to build its own EV plant in Beijing",
    "body": "Xiaomi plans a plant with an annual production capacity of 300,000 vehicles.",
    "source": "Reuters",
    "url": "https://www.reuters.com/business/autos-transportation/xiaomi-ev-plant/",
    "published_at": "2022-09-03",
}
ARTICLES_EXAMPLES: dict[str, Any] = {
    "one": {"summary": "one article", "value": ARTICLE_IN_EXAMPLE},
    "many": {
        "summary": "several articles",
        "value": [{"title": "A", "body": "First story."}, {"title": "B", "body": "Second story."}],
    },
    "url": {"summary": "a web page or RSS/Atom feed", "value": {"url": "https://example.com/news/story.html"}},
}


class Filters(BaseModel):
    """Which articles a question may draw on."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"sources": ["Reuters"], "since": "2022-01-01"}]}
    )

    sources: list[str] | None = Field(default=None, max_length=50, description="outlets, matched case-insensitively")
    since: IsoDate | None = Field(default=None, description="earliest publication date, inclusive")
    until: IsoDate | None = Field(default=None, description="latest publication date, inclusive")

    def to_search(self) -> SearchFilters:
        return search_filters(self.sources, self.since, self.until)


def search_filters(sources: list[str] | None, since: date | None, until: date | None) -> SearchFilters:
    return SearchFilters(
        sources=sources or None,
        since=since.isoformat() if since else None,
        until=until.isoformat() if until else None,
    )


class AskRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"question": SEED_QUESTION},
                {
                    "question": "And when was that announced?",
                    "history": [
                        {"role": "user", "content": SEED_QUESTION},
                        {"role": "assistant", "content": "An annual output of 300,000 vehicles [1]."},
                    ],
                    "filters": {"since": "2022-01-01"},
                    "k": 8,
                },
            ]
        },
    )

    # the length limit (NEWSDESK_MAX_QUESTION_CHARS) is checked by the service, with a message that names it
    question: str = Field(min_length=1, pattern=NOT_BLANK, description="the question, in plain words")
    history: list[Turn] | None = Field(default=None, max_length=50, description="earlier turns of the conversation")
    filters: Filters | None = None
    k: int | None = Field(default=None, ge=1, le=50, description="passages to retrieve (default NEWSDESK_TOP_K)")
    as_of: AsOf | None = Field(default=None, description=AS_OF_HELP)

    @field_validator("k", mode="before")
    @classmethod
    def _whole_number(cls, value: object) -> object:
        """5 and 5.0, as JSON Schema's integer allows, but not true."""
        if isinstance(value, bool):
            raise ValueError("expected a whole number, not true or false")
        return value


class AskResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "answer": "Xiaomi's own plant is planned to make 300,000 vehicles a year [1].",
                    "abstained": False,
                    "citations": [_CITATION_EXAMPLE],
                    "mode": "extractive",
                    "related": [],
                    "timings": {"retrieve_ms": 21.4, "answer_ms": 6.2},
                }
            ]
        }
    )

    answer: str
    abstained: bool = Field(description="true when the corpus does not hold the answer")
    citations: list[Citation] = Field(description="what each [n] in the answer points to, with the quoted passage")
    mode: str = Field(description="which answerer wrote it: extractive, or the LLM's name")
    related: list[Passage] = Field(default_factory=list, description="closest passages, when it abstained")
    timings: dict[str, float] = Field(default_factory=dict)
    sentences: SentenceCounts = Field(
        default_factory=SentenceCounts,
        description="how the answer's sentences got their citations: cited by the writer, attributed to the "
        "passage that supports them, or dropped because no passage does",
    )
    prompt_tokens: int | None = Field(default=None, description="tokens the LLM read (none offline)")
    evidence_dates: EvidenceDates | None = Field(
        default=None, description="the first and last publication day of the cited passages"
    )
    as_of: str | None = Field(default=None, description="the day the question's time words were read against")


class SearchResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"query": SEED_QUESTION, "passages": [_PASSAGE_EXAMPLE]}]}
    )

    query: str
    passages: list[Passage]


class ArticleIn(BaseModel):
    """One article to index. Without `id` or `url`, its id is derived from the text."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [ARTICLE_IN_EXAMPLE]},
    )

    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._:-]{1,128}$")
    title: str | None = Field(default=None, max_length=1_000)
    body: str = Field(min_length=1, pattern=NOT_BLANK, description="the article text")
    source: str | None = Field(default=None, max_length=200, description="the outlet")
    url: str | None = Field(default=None, max_length=2_000, description="where it was published (not fetched)")
    published_at: str | None = Field(default=None, max_length=64, description="ISO 8601 date or date-time")
    author: str | None = Field(default=None, max_length=500)
    category: str | None = Field(default=None, max_length=200)


class UrlIn(BaseModel):
    """A web page (its main text is extracted) or an RSS/Atom feed (each entry is indexed)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"url": "https://example.com/news/story.html"}]}
    )

    url: str = Field(pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#]+", max_length=2_000)


class ArticleOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_ARTICLE_EXAMPLE]})

    id: str
    title: str | None = None
    source: str | None = None
    url: str | None = None
    published_at: str | None = None
    author: str | None = None
    category: str | None = None
    origin: str | None = Field(default=None, description="where it was read from: a corpus file, a URL, or 'api'")
    chunks: int = Field(description="passages it was split into")


class ArticlePage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [_ARTICLE_EXAMPLE], "total": 1, "limit": 50, "offset": 0, "next_offset": None}]
        }
    )

    items: list[ArticleOut]
    total: int = Field(description="articles matching the filters")
    limit: int
    offset: int
    next_offset: int | None = Field(description="offset of the next page, or null on the last one")


class IngestResponse(IngestReport):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "added": ["3f1c2a9b8d7e6f50"],
                    "updated": [],
                    "removed": [],
                    "skipped": [],
                    "duplicates": [],
                    "failed": [],
                    "chunks_embedded": 3,
                    "seconds": 0.41,
                }
            ]
        }
    )


class StatsResponse(Stats):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "articles": 609,
                    "chunks": 7012,
                    "embedder": "onnx:all-MiniLM-L6-v2",
                    "answer_mode": "extractive",
                    "last_sync": "2024-05-01T12:00:00+00:00",
                    "sentence_vectors": 52438,
                    "sentence_vectors_pending": 0,
                    "sentence_vectors_filling": False,
                    "reindex_job": None,
                }
            ]
        }
    )

    reindex_job: str | None = Field(default=None, description="id of the re-index running now, if any")


class Health(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: str


class Ready(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ready", "articles": 609, "chunks": 7012}]})

    status: str
    articles: int
    chunks: int


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
