"""Request and response models of the article routes, with their OpenAPI examples."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.api.schemas.common import NOT_BLANK
from bot.api.schemas.wire import IngestReport
from retrieval.core.dates import published
from retrieval.core.errors import SourceError

ARTICLE_EXAMPLE: dict[str, Any] = {
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

    @field_validator("published_at")
    @classmethod
    def _a_date(cls, value: str | None) -> str | None:
        """An unreadable date is refused, not dropped: an undated article is in scope for every as_of."""
        try:
            published(value)
        except SourceError as exc:
            raise ValueError(str(exc)) from None
        return value


class UrlIn(BaseModel):
    """A web page (its main text is extracted) or an RSS/Atom feed (each entry is indexed)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"url": "https://example.com/news/story.html"}]}
    )

    url: str = Field(pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#]+", max_length=2_000)


class ArticleOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ARTICLE_EXAMPLE]})

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
            "examples": [{"items": [ARTICLE_EXAMPLE], "total": 1, "limit": 50, "offset": 0, "next_offset": None}]
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


