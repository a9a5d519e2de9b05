"""Prometheus metrics of the HTTP API: one registry per app, so several apps (tests) never share counters; the
service's own figures (index, caches, jobs started by any face) are read from its read models at scrape time."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from retrieval.core.config import Settings
from retrieval.core.types import Answer

if TYPE_CHECKING:
    from retrieval.service import Newsdesk

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class _ServiceFigures(Collector):
    """Figures read from the service's read models at scrape time, so they are never stale (none before the
    service is built): index size, the vector cache, the answer sentences embedded ahead, finished jobs."""

    def __init__(self, service: Callable[[], Newsdesk | None]) -> None:
        self.service = service

    def collect(self) -> Iterator[Metric]:
        service = self.service()
        if service is None:
            return
        articles, chunks = service.index_size()
        yield GaugeMetricFamily("newsdesk_index_articles", "Articles in the index", value=articles)
        yield GaugeMetricFamily("newsdesk_index_chunks", "Chunks (passages) in the index", value=chunks)
        hits, misses, entries = service.vector_cache_stats()
        lookups = CounterMetricFamily(
            "newsdesk_vector_cache_lookups", "Question and sentence vectors looked up, by result", labels=["result"]
        )
        lookups.add_metric(["hit"], hits)
        lookups.add_metric(["miss"], misses)
        yield lookups
        yield GaugeMetricFamily("newsdesk_vector_cache_entries", "Vectors remembered now", value=entries)
        sentences = service.sentence_vector_counts()
        if sentences is not None:
            stored, pending = sentences
            ahead, pending_help = "Answer sentences embedded ahead of the questions", "Answer sentences still to embed"
            yield GaugeMetricFamily("newsdesk_sentence_vectors", ahead, value=stored)
            yield GaugeMetricFamily("newsdesk_sentence_vectors_pending", pending_help, value=pending)
        jobs = CounterMetricFamily("newsdesk_reindex_jobs", "Re-index jobs by outcome", labels=["state"])
        for state, count in sorted(service.jobs.finished_counts().items()):
            jobs.add_metric([state], count)
        yield jobs


class Metrics:
    def __init__(self, service: Callable[[], Newsdesk | None]) -> None:
        """`service`: the service once it is built (None before)."""
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "newsdesk_http_requests", "HTTP requests by route and status", ["method", "route", "status"],
            registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "newsdesk_http_request_duration_seconds", "HTTP request latency by route (until the last byte)",
            ["method", "route"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.answers = Counter("newsdesk_answers", "Answers given, by mode", ["mode"], registry=self.registry)
        self.abstentions = Counter(
            "newsdesk_abstentions", "Questions the corpus did not answer", registry=self.registry
        )
        self.llm_fallbacks = Counter(
            "newsdesk_llm_fallbacks", "Answers that fell back to extractive because the LLM failed",
            registry=self.registry,
        )  # fmt: skip
        self.answer_sentences = Counter(
            "newsdesk_answer_sentences", "Answer sentences by how they got their citation (cited by the writer, "
            "attributed to the passage that supports them, dropped as unsupported)", ["how"], registry=self.registry,
        )  # fmt: skip
        self.registry.register(_ServiceFigures(service))

    def record_answer(self, answer: Answer, settings: Settings) -> None:
        # "extractive (llm timeout)" counts as extractive here; the fallback has its own counter
        self.answers.labels(mode=answer.mode.split(" (", 1)[0]).inc()
        if answer.abstained:
            self.abstentions.inc()
        for how, count in answer.sentences.model_dump().items():
            self.answer_sentences.labels(how=how).inc(count)
        if is_llm_fallback(answer, settings):
            self.llm_fallbacks.inc()


def is_llm_fallback(answer: Answer, settings: Settings) -> bool:
    """An LLM is configured, yet the answer came from the extractive answerer: the LLM failed or timed out."""
    return settings.llm is not None and answer.mode.startswith("extractive")


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template (not the raw path: bounded label values)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = scope.get("route")
            label = str(getattr(route, "path", "unmatched"))
            method = str(scope.get("method", ""))
            self.metrics.requests.labels(method=method, route=label, status=str(status)).inc()
            self.metrics.latency.labels(method=method, route=label).observe(time.perf_counter() - started)
