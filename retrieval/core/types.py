"""The data that flows through the engine, as pydantic models."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal, TypedDict

from pydantic import BaseModel, Field, field_validator

from retrieval.core import dates


class Article(BaseModel):
    """One news article, as read from a source."""

    id: str
    title: str
    body: str
    source: str | None = None
    url: str | None = None
    published_at: str | None = None  # ISO 8601 date or datetime
    author: str | None = None
    category: str | None = None
    origin: str = ""  # where it was read from: a path or a URL
    origin_root: str | None = None  # the folder source it came from, for --prune
    feed: str | None = None  # the RSS/Atom feed it was an entry of (a URL or a file)


class ChunkMeta(TypedDict, total=False):
    """A chunk's metadata as the index stores it (written by retrieval.ingest.sync.chunk_metadata and the story
    labels); Chroma keeps no None values, so every key may be missing when read back."""

    article_id: str
    index: int  # the chunk's position in its article
    n_chunks: int  # how many chunks the article's version has
    content_hash: str  # the article's version (everything indexed about it)
    text_hash: str  # the article's body alone: duplicates share it
    title: str
    source: str | None
    url: str | None
    published_at: str | None  # ISO 8601
    published_day: int | None  # 20230927: for Chroma's $gte/$lte (retrieval.core.dates.day_number)
    author: str | None
    category: str | None
    origin: str  # the path or URL it was read from
    origin_root: str | None  # the folder source it came from, for --prune
    feed: str | None  # the RSS/Atom feed it was an entry of
    story_id: str  # near-duplicate articles share it (retrieval.storage.stories)
    minhash: str | None  # the first chunk's: the article's encoded MinHash signature
    replaces: str | None  # the first chunk's: the older versions (article ids, comma-separated) it replaces


ARTICLE_FIELDS = ("title", "source", "url", "published_at", "author", "category", "origin", "origin_root")
# what a sync reads of each chunk's metadata (Index.sync_view): whole versions, duplicates, pruned folders
SYNC_FIELDS = (
    "article_id", "index", "n_chunks", "content_hash", "text_hash", "origin", "origin_root",
    "story_id", "minhash", "replaces", "source", "published_at", "title", "url",  # read to place stories
    "feed",  # with origin, origin_root and url: who may replace whom (retrieval.ingest.sync.may_replace)
)  # fmt: skip


class Chunk(BaseModel):
    """A window of whole sentences of one article, the unit that is embedded and searched."""

    id: str
    article_id: str
    index: int
    text: str  # verbatim sentences from the article body
    embed_text: str  # header (title, source, date) + text: what the model sees


def outlet_name(source: str | None, via: str | None = None) -> str:
    """An outlet's name as faces show it: "Reuters", or "Reuters (via the API)" for an article from outside the
    corpus, which names its outlet itself (retrieval.storage.provenance.via)."""
    name = (source or "").strip() or "unknown outlet"
    return f"{name} (via {via})" if via else name


def outlet_label(source: str | None, via: str | None = None) -> str | None:
    """outlet_name, or None for a corpus article that names no outlet (a face shows nothing there)."""
    return outlet_name(source, via) if source or via else None


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


class Answer(BaseModel):
    answer: str
    abstained: bool
    citations: list[Citation] = Field(default_factory=list)
    mode: str = "extractive"
    related: list[Passage] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=dict)
    sentences: SentenceCounts = Field(default_factory=SentenceCounts)
    prompt_tokens: int | None = None  # what the LLM read (None offline)
    evidence_dates: EvidenceDates | None = None  # None when no citation is dated
    as_of: str | None = None  # the reference time the question was read against (ISO 8601)


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

    def summary(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "updated": len(self.updated),
            "removed": len(self.removed),
            "skipped": len(self.skipped),
            "duplicates": len(self.duplicates),
            "failed": len(self.failed),
        }


class SearchFilters(BaseModel):
    sources: list[str] | None = None
    since: str | None = None  # ISO date, inclusive
    until: str | None = None  # ISO date, inclusive

    @field_validator("since", "until")
    @classmethod
    def _a_day(cls, value: str | None) -> str | None:
        if value and dates.day(value) is None:
            raise ValueError(f"{value!r} is not a date: use YYYY-MM-DD")
        return value


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class Question(BaseModel):
    """One question as it flows through the ask pipeline, whichever face asked it."""

    question: str
    history: list[Turn] = Field(default_factory=list)
    filters: SearchFilters | None = None
    k: int | None = None
    as_of: datetime | None = None  # the time "last week", "latest" and "in February" are read against; None = now


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


class StreamEvent(BaseModel):
    """One event of ask_stream: answer text as it is written, then the checked citations, then done.

    The streamed tokens are provisional (an LLM's raw markers); the `done` event carries the final,
    citation-checked Answer, which is what every interface must show in the end.
    """

    type: Literal["token", "citations", "done"]
    text: str | None = None
    citations: list[Citation] | None = None
    answer: Answer | None = None


Progress = Callable[[int, int], None]  # (articles done, articles to embed)


JobState = Literal["running", "succeeded", "failed"]
JobKind = Literal["reindex", "articles"]


def utc_now() -> str:
    """Now, as an ISO 8601 instant to the second (a job's start and finish)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class JobProgress(BaseModel):
    done: int = Field(default=0, description="articles embedded so far")
    total: int | None = Field(default=None, description="articles to embed (known once the sources are read)")


class Job(BaseModel):
    """A background job (a re-index, a long article write) as the engine keeps it."""

    id: str
    kind: JobKind = Field(default="reindex", description="reindex, or articles (a long POST /v1/articles)")
    state: JobState = "running"
    progress: JobProgress = Field(default_factory=JobProgress)
    started_at: str = Field(default_factory=utc_now)
    started_by: str | None = Field(default=None, description="who started it, when the face knows (a Discord member)")
    finished_at: str | None = None
    report: IngestReport | None = None
    error: str | None = None


# ------------------------------------------------------------------ briefs and follows (retrieval/news)


class BriefStory(BaseModel):
    """One story of a brief: its cited sentence, the outlets and articles that carry it in the window."""

    rank: int
    story_id: str
    title: str
    sentence: str  # verbatim from the cited article (published inside the window), or the model's, stated by a quote
    citation: Citation
    written: bool = False  # the LLM wrote the sentence (checked: a quote of the cited passage states it)
    outlets: list[str] = Field(default_factory=list)  # the outlets that carry the story in the window
    articles: int = 1  # the story's articles in the window
    latest: str  # the day (YYYY-MM-DD) of its newest article in the window


class Brief(BaseModel):
    """The main stories of a time window, ranked by outlets, then articles, then recency."""

    since: str | None  # YYYY-MM-DD, inclusive (None: open)
    until: str  # YYYY-MM-DD, inclusive (never after as_of)
    as_of: str  # the reference time the window was read against (ISO 8601)
    topic: str | None = None
    window: str  # the window as words: "this week (2023-10-02 to 2023-10-08)"
    stories: list[BriefStory] = Field(default_factory=list)
    latest_news: str | None = None  # when the window is empty: the latest day with news (on the topic) before it
    message: str  # one line a face can show above the stories, or alone when there are none
    timings: dict[str, float] = Field(default_factory=dict)


class Follow(BaseModel):
    """A standing query: the articles of every later sync are matched against its topic."""

    id: str
    topic: str
    kind: Literal["discord", "api"] = "api"
    guild_id: int | None = None
    channel_id: int | None = None  # where matches are posted (discord)
    created_by: str | None = None
    created_at: str = Field(default_factory=utc_now)


class FollowMatch(BaseModel):
    """A newly indexed article that matched a follow."""

    follow_id: str
    article_id: str
    story_id: str
    title: str
    source: str | None = None
    url: str | None = None
    published_at: str | None = None
    sentence: str  # verbatim from the article: the line a post quotes
    score: float
    matched_at: str = Field(default_factory=utc_now)


class FollowPost(BaseModel):
    """What a face posts (or updates) for one story of one follow: one cited line, its outlets, a link."""

    follow_id: str
    story_id: str
    topic: str
    channel_id: int | None = None
    message_id: int | None = None  # set once posted; a later copy of the story edits this message
    title: str
    sentence: str
    source: str | None = None
    url: str | None = None
    published_at: str | None = None
    outlets: list[str] = Field(default_factory=list)  # every outlet that carried the story, first one first
    state: Literal["pending", "posted", "stale"] = "pending"  # stale: posted, and more outlets since


class BriefSchedule(BaseModel):
    """A daily brief to a channel at a set hour of the guild's time zone."""

    channel_id: int
    guild_id: int | None = None
    hour: int = Field(ge=0, le=23)
    timezone: str = "UTC"
    topic: str | None = None
    last_day: str | None = None  # the local day the last brief was posted for
