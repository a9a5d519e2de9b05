"""Settings: one class, read from NEWSDESK_* environment variables and .env, checked once at start."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_PLACEHOLDERS = {"changeme", "change-me", "your-token-here", "xxx", "token", "secret"}


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSDESK_", env_file=".env", extra="ignore")

    # where things live
    data_dir: Path = Path("./data")
    corpus_dir: Path = Path("./corpus")
    model_cache_dir: Path = Field(default_factory=lambda: Path.home() / ".cache" / "newsdesk")
    chroma_url: str | None = None
    chroma_timeout: float = Field(default=30.0, gt=0, le=600)  # seconds per request to a Chroma server
    collection: str = "newsdesk"

    # embedding and chunking
    # see retrieval.embed.embedder.EMBEDDERS; None (unset): the kind the index records, DEFAULT_EMBEDDER for a new one
    embedder: Literal["onnx", "onnx-int8", "onnx-int8-full-range", "torch"] | None = None
    embed_batch_size: int = Field(default=8, ge=1, le=512)
    chunk_tokens: int = Field(default=256, ge=32, le=256)
    chunk_overlap_sentences: int = Field(default=1, ge=0, le=5)
    max_article_bytes: int = Field(default=5_000_000, ge=1_000)
    ingest_batch_articles: int = Field(default=32, ge=1, le=1000)

    # search and answers
    top_k: int = Field(default=8, ge=1, le=50)
    max_question_chars: int = Field(default=2000, ge=10)
    # a follow-up's earlier turns: at most this many, and this many characters in all (else 422)
    max_history_turns: int = Field(default=50, ge=0)
    max_history_chars: int = Field(default=20_000, ge=0)
    abstain_threshold: float = 0.5231  # calibrated by bench/answer.py on MultiHop-RAG dev questions
    vector_cache_size: int = Field(default=20_000, ge=0)  # question and sentence vectors kept (LRU), ~2 kB each
    sentence_vectors: bool = True  # embed answer sentences ahead of the questions, in the background (serve, bot)
    rerank: bool = True  # re-rank the search's first candidates with the learned trees (retrieval.search.rerank)
    max_concurrent_answers: int | None = Field(default=None, ge=1)  # answers/searches at once, all faces (None: auto)
    max_queued_answers: int = Field(default=16, ge=0)  # answers waiting for a slot beyond which /readyz says 503

    # LLM (optional): "openai:MODEL", "ollama:MODEL" or "llamacpp:/path/model.gguf"
    llm: str | None = None
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout: float = Field(default=30.0, gt=0)
    llm_retries: int = Field(default=1, ge=0, le=5)
    llm_temperature: float = Field(default=0.0, ge=0, le=2)
    llm_max_tokens: int = Field(default=160, ge=16, le=4096)  # an answer and a few sentences of evidence
    llm_context_tokens: int = Field(default=4096, ge=512, le=131072)  # llamacpp only
    # the passages' excerpts an LLM reads, in tokens (0 = whole passages); see retrieval/answer/context.py
    llm_prompt_tokens: int = Field(default=320, ge=0, le=100_000)
    # with an LLM, decline without asking it when the extractive confidence is below this (-inf: always ask);
    # chosen by bench/llm_gate.py (5 folds x 5 seeds over the dev questions)
    llm_abstain_threshold: float | None = 0.536

    # HTTP API
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    require_key_for_reads: bool = False
    max_body_bytes: int = Field(default=2_000_000, ge=1_000)
    rate_limit_per_minute: int = Field(default=120, ge=0)
    allow_private_urls: bool = False
    fetch_timeout: float = Field(default=30.0, gt=0, le=3600)  # seconds one URL download may take in all
    # one feed: entries read at most, and seconds for all its entries' pages (then their feed content is used)
    max_feed_entries: int = Field(default=100, ge=1)
    feed_timeout: float = Field(default=60.0, gt=0, le=3600)
    # URL and feed writes fetched at once by the API; beyond, 429 with Retry-After (they would hold its threads)
    max_concurrent_fetches: int = Field(default=4, ge=1)
    # proxies whose X-Forwarded-For names the client (comma-separated addresses or networks, * = any); none
    # by default: the rate limit then counts the connecting address, whatever the headers say
    trusted_proxies: str = ""
    request_read_timeout: float = Field(default=30.0, gt=0, le=600)  # seconds a client has to send a request
    # POST /v1/articles with more article text than this (bytes) is indexed as a background job: 202 and a job
    # id. 100 kB is about 5 s of embedding on two cores; a 1.9 MB article took 145 s in one request
    write_job_bytes: int = Field(default=100_000, ge=0)
    # article jobs waiting or running at once, and the text they may hold between them; beyond either, 429 with
    # Retry-After. Jobs are kept in memory: those unfinished when the process stops are lost (send them again)
    max_write_jobs: int = Field(default=4, ge=1)
    max_write_job_queue_bytes: int = Field(default=20_000_000, ge=1_000)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        entries = [part.strip() for part in value.split(",") if part.strip()]
        for entry in (e for e in entries if e != "*"):
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise ValueError(
                    f"NEWSDESK_TRUSTED_PROXIES holds {entry!r}, which is not an IP address or network; "
                    "list the proxies' addresses (e.g. 10.0.0.5,172.16.0.0/12), or * to trust any"
                ) from exc
        return ",".join(entries)

    # Discord
    discord_token: SecretStr | None = None
    discord_guild_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    discord_channel_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    discord_reindex_role: str | None = None
    discord_follow_role: str | None = None  # may /follow, /unfollow and schedule daily briefs besides Manage Channels
    follow_post_seconds: float = Field(default=10.0, gt=0)  # how often the Discord bot sends the follows' new posts
    discord_cooldown_seconds: float = Field(default=5.0, ge=0)

    log_level: str = "INFO"

    @field_validator("api_keys", "discord_guild_ids", "discord_channel_ids", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("llm")
    @classmethod
    def _llm_spec(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        provider, sep, target = value.partition(":")
        if not sep or not target or provider not in {"openai", "ollama", "llamacpp"}:
            raise ValueError(
                "NEWSDESK_LLM must be 'openai:MODEL', 'ollama:MODEL' or 'llamacpp:/path/model.gguf' "
                f"(got {value!r}); unset it for offline extractive answers"
            )
        return value

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Settings:
        secrets: list[tuple[str, SecretStr | None]] = [
            ("NEWSDESK_DISCORD_TOKEN", self.discord_token),
            ("NEWSDESK_LLM_API_KEY", self.llm_api_key),
            *[("NEWSDESK_API_KEYS", key) for key in self.api_keys],
        ]
        for name, secret in secrets:
            if secret is not None and secret.get_secret_value().strip().lower() in _PLACEHOLDERS:
                raise ValueError(f"{name} still holds a placeholder value; set a real secret or unset it")
        return self

    @property
    def llm_provider(self) -> str | None:
        return self.llm.partition(":")[0] if self.llm else None

    @property
    def llm_target(self) -> str | None:
        return self.llm.partition(":")[2] if self.llm else None


def default(name: str) -> Any:
    """A setting's default: the engine's own defaults are read from here, so each is written once."""
    return Settings.model_fields[name].default
