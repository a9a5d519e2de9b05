"""Request and response models of the HTTP API."""

from __future__ import annotations

from pydantic import BaseModel, Field

from retrieval.types import Citation, SearchFilters, Turn


class AskRequest(BaseModel):
    question: str = Field(examples=["What annual output is planned for Xiaomi's own plant?"])
    history: list[Turn] | None = None
    filters: SearchFilters | None = None
    k: int | None = Field(default=None, ge=1, le=50)


class AskResponse(BaseModel):
    answer: str
    abstained: bool
    citations: list[Citation]
    mode: str
    timings: dict[str, float] = Field(default_factory=dict)


class ErrorResponse(BaseModel):
    error: str
    message: str
