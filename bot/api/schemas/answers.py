"""Request and response models of the answer routes (ask, stream, search), with their OpenAPI examples."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.api.schemas.common import (
    AS_OF_HELP,
    CITATION_EXAMPLE,
    NOT_BLANK,
    PASSAGE_EXAMPLE,
    QUESTION_LIMIT,
    SEED_QUESTION,
    AsOf,
    IsoDate,
)
from bot.api.schemas.wire import Citation, EvidenceDates, Passage, SentenceCounts, Turn
from retrieval.core import types as engine


class Filters(BaseModel):
    """Which articles a question may draw on."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"sources": ["Reuters"], "since": "2022-01-01"}]}
    )

    sources: list[str] | None = Field(default=None, max_length=50, description="outlets, matched case-insensitively")
    since: IsoDate | None = Field(default=None, description="earliest publication date, inclusive")
    until: IsoDate | None = Field(default=None, description="latest publication date, inclusive")

    def to_search(self) -> engine.SearchFilters:
        return search_filters(self.sources, self.since, self.until)


def search_filters(sources: list[str] | None, since: date | None, until: date | None) -> engine.SearchFilters:
    return engine.SearchFilters(
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

    # the length limit (NEWSDESK_MAX_QUESTION_CHARS) is checked by the service, with a message that names it;
    # the OpenAPI document shows it as maxLength
    question: str = Field(
        min_length=1, pattern=NOT_BLANK, description="the question, in plain words", json_schema_extra=QUESTION_LIMIT
    )
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

    def to_question(self) -> engine.Question:
        """The engine's question (the facade validates it: length, history, date range)."""
        return engine.Question(
            question=self.question,
            history=[engine.Turn(role=turn.role, content=turn.content) for turn in self.history or []],
            filters=self.filters.to_search() if self.filters else None,
            k=self.k,
            as_of=self.as_of,
        )


class AskResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "answer": "Xiaomi's own plant is planned to make 300,000 vehicles a year [1].",
                    "abstained": False,
                    "citations": [CITATION_EXAMPLE],
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
        json_schema_extra={"examples": [{"query": SEED_QUESTION, "passages": [PASSAGE_EXAMPLE]}]}
    )

    query: str
    passages: list[Passage]


