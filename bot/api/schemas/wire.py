"""The HTTP API's wire models: what the OpenAPI document publishes of the engine's answers, passages, reports,
stats and jobs. They mirror the engine's types (retrieval.core.types) field for field today, but they are the
API's own: an internal rename in the engine no longer changes the public API, and the routes convert at the edge
(`wire()`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

M = TypeVar("M", bound=BaseModel)

JobState = Literal["running", "succeeded", "failed"]
JobKind = Literal["reindex", "articles"]


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def wire(model: type[M], value: BaseModel) -> M:
    """An engine object as the API's model of it (validated from its fields)."""
    return model.model_validate(value.model_dump())


class Outlet(BaseModel):
    """Another outlet's copy of the same story (a near-duplicate article)."""

    article_id: str
    source: str | None = None  # as the article names it
    url: str | None = None
    published_at: str | None = None
    via: str | None = None  # how an outside article came (retrieval.storage.provenance.via); None: the corpus's


class Passage(BaseModel):
    """A retrieved chunk with what an answer needs to cite it."""

    chunk_id: str
    article_id: str
    title: str
    source: str | None = None
    url: str | None = None
    published_at: str | None = None
    text: str
    score: float = 0.0
    story_id: str | None = None  # near-duplicate articles share it (retrieval/storage/stories.py)
    via: str | None = None  # how an outside article came (retrieval.storage.provenance.via); None: the corpus's
    also_reported_by: list[Outlet] = Field(default_factory=list)  # the story's other copies, oldest first


class Citation(BaseModel):
    n: int
    article_id: str
    title: str
    source: str | None = None
    url: str | None = None
    published_at: str | None = None
    via: str | None = None  # how an outside article came (retrieval.storage.provenance.via); None: the corpus's
    quote: str  # the first of `quotes`
    quotes: list[str] = Field(default_factory=list)  # every passage sentence that a sentence citing [n] rests on
    also_reported_by: list[Outlet] = Field(default_factory=list)  # the same story from other outlets


class SentenceCounts(BaseModel):
    """How an answer's sentences got their citations."""

    cited: int = 0  # the writer's own [n], checked
    attributed: int = 0  # no (or a wrong) marker: given the passage that supports the sentence
    dropped: int = 0  # no passage supports it: left out of the answer


class EvidenceDates(BaseModel):
    """When the cited evidence is from: the first and last publication day (YYYY-MM-DD) of the citations."""

    first: str
    last: str


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class Failure(BaseModel):
    origin: str
    reason: str


class IngestReport(BaseModel):
    added: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)
    duplicates: list[str] = Field(default_factory=list)
    failed: list[Failure] = Field(default_factory=list)
    chunks_embedded: int = 0
    seconds: float = 0.0


class Stats(BaseModel):
    articles: int
    chunks: int
    embedder: str
    vectors: str = ""  # the kind of vectors the index holds (retrieval.embed.embedder.EMBEDDERS)
    cpu: str = ""  # the machine and the CPU features that decide onnxruntime's kernels
    vectors_note: str | None = None  # an int8 index embedded on another class of CPU says so here
    answer_mode: str
    last_sync: str | None = None
    sentence_vectors: int = 0  # answer sentences embedded ahead of the questions
    sentence_vectors_pending: int = 0  # still to embed by the background filler
    sentence_vectors_filling: bool = False  # the filler is at work (serve and bot run it after each sync)


class JobProgress(BaseModel):
    done: int = Field(default=0, description="articles embedded so far")
    total: int | None = Field(default=None, description="articles to embed (known once the sources are read)")


class Job(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "5c0ffee0ab12",
                    "kind": "reindex",
                    "state": "running",
                    "progress": {"done": 96, "total": 609},
                    "started_at": "2024-05-01T12:00:00+00:00",
                    "started_by": None,
                    "finished_at": None,
                    "report": None,
                    "error": None,
                }
            ]
        }
    )

    id: str
    kind: JobKind = Field(default="reindex", description="reindex, or articles (a long POST /v1/articles)")
    state: JobState = "running"
    progress: JobProgress = Field(default_factory=JobProgress)
    started_at: str = Field(default_factory=utc_now)
    started_by: str | None = Field(default=None, description="who started it, when the face knows (a Discord member)")
    finished_at: str | None = None
    report: IngestReport | None = None
    error: str | None = None


class BriefStory(BaseModel):
    """One story of a brief: one cited sentence, the outlets and articles that carry it in the window."""

    rank: int
    story_id: str
    title: str
    sentence: str = Field(
        description="verbatim from the cited article, which was published inside the window; or, with an LLM, "
        "the model's sentence, which the citation's quotes state"
    )
    citation: Citation
    written: bool = Field(default=False, description="the LLM wrote the sentence (offline: never)")
    outlets: list[str] = Field(default_factory=list, description="the outlets that carry the story in the window")
    articles: int = Field(default=1, description="the story's articles in the window")
    latest: str = Field(description="the day (YYYY-MM-DD) of its newest article in the window")


_SEED_CITATION: JsonDict = {
    "n": 1,
    "article_id": "seed-xiaomi-ev",
    "title": "Xiaomi to make its own electric cars",
    "source": "The Verge",
    "url": "https://example.com/xiaomi-ev",
    "published_at": "2023-11-28",
    "quote": "Xiaomi has been given approval to make its own electric vehicles.",
    "quotes": ["Xiaomi has been given approval to make its own electric vehicles."],
    "also_reported_by": [],
}
FOLLOW_EXAMPLE: JsonDict = {
    "id": "f3a9c2d1",
    "topic": "Xiaomi electric car",
    "kind": "api",
    "guild_id": None,
    "channel_id": None,
    "created_by": None,
    "created_at": "2024-05-01T12:00:00+00:00",
}
FOLLOW_MATCH_EXAMPLE: JsonDict = {
    "follow_id": "f3a9c2d1",
    "article_id": "seed-xiaomi-ev",
    "story_id": "seed-xiaomi-ev",
    "title": "Xiaomi to make its own electric cars",
    "source": "The Verge",
    "url": "https://example.com/xiaomi-ev",
    "published_at": "2023-11-28",
    "sentence": "Xiaomi has been given approval to make its own electric vehicles.",
    "score": 0.74,
    "matched_at": "2024-05-01T12:05:00+00:00",
}


class Brief(BaseModel):
    """The main stories of a window, ranked by outlets, then articles, then recency."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "since": "2023-11-22",
                    "until": "2023-11-28",
                    "as_of": "2023-11-28T18:00:00+00:00",
                    "topic": None,
                    "window": "2023-11-22 to 2023-11-28",
                    "stories": [
                        {
                            "rank": 1,
                            "story_id": "seed-xiaomi-ev",
                            "title": "Xiaomi to make its own electric cars",
                            "sentence": "Xiaomi has been given approval to make its own electric vehicles.",
                            "citation": _SEED_CITATION,
                            "outlets": ["The Verge"],
                            "articles": 1,
                            "latest": "2023-11-28",
                        }
                    ],
                    "latest_news": None,
                    "message": "1 story from 2023-11-22 to 2023-11-28.",
                    "timings": {"brief_ms": 21.0},
                }
            ]
        }
    )

    since: str | None
    until: str
    as_of: str
    topic: str | None = None
    window: str
    stories: list[BriefStory] = Field(default_factory=list)
    latest_news: str | None = Field(
        default=None, description="when the window has no news: the latest day with news (on the topic) before it"
    )
    message: str
    timings: dict[str, float] = Field(default_factory=dict)


class Follow(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [FOLLOW_EXAMPLE]})

    id: str
    topic: str
    kind: Literal["discord", "api"] = "api"
    guild_id: int | None = None
    channel_id: int | None = None
    created_by: str | None = None
    created_at: str


class FollowMatch(BaseModel):
    """A newly indexed article that matched a follow."""

    model_config = ConfigDict(json_schema_extra={"examples": [FOLLOW_MATCH_EXAMPLE]})

    follow_id: str
    article_id: str
    story_id: str
    title: str
    source: str | None = None
    url: str | None = None
    published_at: str | None = None
    sentence: str = Field(description="verbatim from the article")
    score: float
    matched_at: str
