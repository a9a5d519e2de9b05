"""Retrieval evaluation on a MultiHop-RAG style benchmark: the official metric and the runner.

The metric reproduces the paper's `retrieval_evaluate.py` exactly, including its non-standard MAP@10:
at each rank it adds (gold facts first matched by that chunk) / rank and divides by min(#facts, 10).
Spaces and newlines are removed from chunks and facts; a chunk is relevant when it holds a whole fact.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from retrieval.core.config import Settings
from retrieval.core.errors import InvalidInput
from retrieval.core.statistics import percentile
from retrieval.core.types import IngestReport
from retrieval.embed.embedder import DEFAULT_EMBEDDER, EMBEDDERS, FP32_VECTORS
from retrieval.ingest.chunking import CHUNKING_VERSION
from retrieval.search.hybrid import Searcher, SearchOptions
from retrieval.service import Newsdesk

log = logging.getLogger(__name__)

NULL_QUERY = "null_query"
METRICS = ("Hits@4", "Hits@10", "MRR@10", "MAP@10")


def squash(text: str) -> str:
    """The paper's normalisation: every space and newline removed (nothing else)."""
    return text.replace(" ", "").replace("\n", "")


@dataclass(frozen=True)
class QueryScore:
    hits_at_4: float
    hits_at_10: float
    mrr_at_10: float
    map_at_10: float


def score_query(retrieved: Sequence[str], facts: Sequence[str]) -> QueryScore:
    """Score one query's ranked chunk texts against its gold facts, as the paper's script does."""
    gold = [squash(f) for f in facts]
    chunks = [squash(t) for t in retrieved[:10]]
    found: list[str] = []
    first_rank: int | None = None
    hit4 = False
    ap_sum = 0.0
    for rank, chunk in enumerate(chunks, start=1):
        if not any(fact in chunk for fact in gold):
            continue
        if first_rank is None:
            first_rank = rank
        hit4 = hit4 or rank <= 4
        newly = 0
        for fact in gold:
            if fact in chunk and fact not in found:
                newly += 1
                found.append(fact)
        ap_sum += newly / rank
    return QueryScore(
        hits_at_4=float(hit4),
        hits_at_10=float(first_rank is not None),
        mrr_at_10=1.0 / first_rank if first_rank else 0.0,
        map_at_10=ap_sum / min(len(gold), 10) if gold else 0.0,
    )


class Figures(BaseModel):
    queries: int
    hits_at_4: float = Field(serialization_alias="Hits@4")
    hits_at_10: float = Field(serialization_alias="Hits@10")
    mrr_at_10: float = Field(serialization_alias="MRR@10")
    map_at_10: float = Field(serialization_alias="MAP@10")

    @classmethod
    def mean(cls, scores: Sequence[QueryScore]) -> Figures:
        n = len(scores)

        def avg(values: list[float]) -> float:
            return round(sum(values) / n, 4) if n else 0.0

        return cls(
            queries=n,
            hits_at_4=avg([s.hits_at_4 for s in scores]),
            hits_at_10=avg([s.hits_at_10 for s in scores]),
            mrr_at_10=avg([s.mrr_at_10 for s in scores]),
            map_at_10=avg([s.map_at_10 for s in scores]),
        )

    def row(self) -> list[float]:
        return [self.hits_at_4, self.hits_at_10, self.mrr_at_10, self.map_at_10]


class Breakdown(BaseModel):
    """Figures over all scored queries, and per question type."""

    overall: Figures
    by_type: dict[str, Figures]

    def as_json(self) -> dict[str, object]:
        return {
            **self.overall.model_dump(by_alias=True),
            "by_type": {t: f.model_dump(by_alias=True) for t, f in self.by_type.items()},
        }


class Evidence(BaseModel):
    fact: str
    title: str | None = None
    source: str | None = None
    url: str | None = None
    published_at: str | None = None


class BenchmarkQuery(BaseModel):
    query: str
    question_type: str = "unknown"
    answer: str | None = None
    evidence_list: list[Evidence] = Field(default_factory=list)

    @property
    def scored(self) -> bool:
        return self.question_type != NULL_QUERY and bool(self.evidence_list)


def read_query_list(path: Path) -> list[Any]:
    """The raw JSON list of a benchmark queries file, with errors that say what is wrong with the file."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"cannot read the queries file {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"the queries file {path} is not valid JSON (line {exc.lineno}): {exc.msg}") from exc
    if not isinstance(raw, list):
        raise InvalidInput(f"the queries file {path} must hold a JSON list of queries")
    return raw


def load_queries(path: Path) -> list[BenchmarkQuery]:
    """The scored (non-null) queries of a benchmark file: a JSON list of {query, question_type, evidence_list}."""
    raw = read_query_list(path)
    try:
        queries = [BenchmarkQuery.model_validate(item) for item in raw]
    except ValidationError as exc:
        raise InvalidInput(
            f"the queries file {path} does not look like MultiHop-RAG queries "
            f"(each needs 'query' and 'evidence_list' with 'fact'): {exc.errors()[0]['msg']}"
        ) from exc
    return [q for q in queries if q.scored]


Retriever = Callable[[str, int], list[str]]  # (query, k) -> ranked chunk texts
Progress = Callable[[int, int], None]


@dataclass
class RunResult:
    breakdown: Breakdown
    latencies_ms: list[float]


def evaluate(
    retrievers: dict[str, Retriever], queries: Sequence[BenchmarkQuery], k: int = 10, progress: Progress | None = None
) -> dict[str, RunResult]:
    """Run every query through every retriever and score each with the official metric."""
    scores: dict[str, list[tuple[str, QueryScore]]] = {name: [] for name in retrievers}
    latencies: dict[str, list[float]] = {name: [] for name in retrievers}
    for done, item in enumerate(queries, start=1):
        facts = [e.fact for e in item.evidence_list]
        for name, retrieve in retrievers.items():
            started = time.perf_counter()
            texts = retrieve(item.query, k)
            latencies[name].append((time.perf_counter() - started) * 1000)
            scores[name].append((item.question_type, score_query(texts, facts)))
        if progress:
            progress(done, len(queries))
    return {name: RunResult(breakdown(scored), latencies[name]) for name, scored in scores.items()}


def breakdown(scored: Sequence[tuple[str, QueryScore]]) -> Breakdown:
    types = sorted({t for t, _ in scored})
    return Breakdown(
        overall=Figures.mean([s for _, s in scored]),
        by_type={t: Figures.mean([s for qt, s in scored if qt == t]) for t in types},
    )


# ---------------------------------------------------------------- the runner


class RetrievalReport(BaseModel):
    hybrid: Breakdown
    dense: Breakdown
    latency_ms: dict[str, float]

    def as_json(self) -> dict[str, object]:
        return {**self.hybrid.as_json(), "baseline_dense": self.dense.as_json(), "latency_ms": self.latency_ms}


def eval_data_dir(settings: Settings, corpus: Path) -> Path:
    """One data directory per corpus file, chunking setup and kind of vectors, so a re-run reuses its index."""
    key = f"{corpus.resolve()}|{settings.chunk_tokens}|{settings.chunk_overlap_sentences}|{CHUNKING_VERSION}"
    vectors = EMBEDDERS[settings.embedder or DEFAULT_EMBEDDER]  # unset: a new index gets the default
    if vectors != FP32_VECTORS:  # fp32 indexes keep the folders they had before
        key += f"|{vectors}"
    return settings.data_dir / "eval" / f"{corpus.stem}-{hashlib.sha1(key.encode()).hexdigest()[:10]}"


def open_eval_service(
    settings: Settings, corpus: Path, data_dir: Path | None = None, progress: Progress | None = None
) -> tuple[Newsdesk, IngestReport]:
    """A Newsdesk over the benchmark corpus in its own data directory, synced (only changes are embedded)."""
    if not corpus.is_file():
        raise InvalidInput(f"the corpus file {corpus} does not exist; pass a JSON list of articles with --corpus")
    eval_settings = settings.model_copy(update={"data_dir": data_dir or eval_data_dir(settings, corpus)})
    service = Newsdesk(eval_settings)
    report = service.ingest([str(corpus)], prune=False, progress=progress)
    if report.failed and not (report.added or report.updated or report.skipped):
        raise InvalidInput(f"no article of {corpus} could be indexed: {report.failed[0].reason}")
    return service, report


def run_retrieval_eval(
    service: Newsdesk, queries: Sequence[BenchmarkQuery], k: int = 10, progress: Progress | None = None
) -> RetrievalReport:
    """The product's search and dense-only search over the same index, scored on every query."""
    dense = Searcher(service.index, service.embedder, SearchOptions.dense_only())
    results = evaluate(
        {
            "hybrid": lambda q, n: [p.text for p in service.search(q, n)],
            "dense": lambda q, n: [p.text for p in dense.search(q, n)],
        },
        queries,
        k,
        progress,
    )
    times = results["hybrid"].latencies_ms
    return RetrievalReport(
        hybrid=results["hybrid"].breakdown,
        dense=results["dense"].breakdown,
        latency_ms={"p50": round(percentile(times, 50), 2), "p95": round(percentile(times, 95), 2)},
    )
