"""Response models of the operations routes (stats, health, readiness), with their OpenAPI examples."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bot.api.schemas.wire import Stats


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
