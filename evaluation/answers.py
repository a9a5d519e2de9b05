"""Answer evaluation on a MultiHop-RAG style benchmark: citation validity, abstention, answer hit rate.

- citation validity: share of answers that pass the citation check against the passages they were written
  from (must be 1.0);
- abstention recall: share of null queries (unanswerable) that were declined; false abstention rate: share
  of answerable queries that were declined;
- hit rate, per question type: the gold answer, normalised (SQuAD-style), appears as whole words in the answer;
  for a gold Yes or No the answer's first word must be it (an answer cannot score by saying both);
- with an LLM: the share of answerable questions whose answer the model wrote and the chain kept
  (`llm_kept`), how the answers' sentences got their citations (`sentences`: cited by the model, attributed,
  dropped), the prompt's size (`prompt_tokens`, p50) and the time to the first token and to the end;
- token-overlap accuracy, for reference: the paper's qa_evaluate.py (any shared lower-cased
  whitespace token between answer and gold), over every query; a declined answer counts as the
  benchmark's own "Insufficient information.".
"""

from __future__ import annotations

import random
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from evaluation.passages import read_query_list
from retrieval.answer import citations
from retrieval.answer.chain import Outcome
from retrieval.core.errors import InvalidInput
from retrieval.core.statistics import percentile
from retrieval.core.text import ARTICLES, ASCII_WORD
from retrieval.core.types import Question

NULL_QUERY = "null_query"
ANSWERABLE_TYPES = ("inference_query", "comparison_query", "temporal_query")
DECLINED = "Insufficient information."  # the benchmark's gold answer for null queries


class AnswerQuery(BaseModel):
    query: str
    question_type: str = "unknown"
    answer: str | None = None

    @property
    def answerable(self) -> bool:
        return self.question_type != NULL_QUERY


def load_answer_queries(path: Path) -> list[AnswerQuery]:
    """Every query of a benchmark file (null queries included): a JSON list of {query, question_type, answer}."""
    raw = read_query_list(path)
    try:
        return [AnswerQuery.model_validate(item) for item in raw]
    except ValidationError as exc:
        raise InvalidInput(
            f"the queries file {path} does not look like MultiHop-RAG queries (each needs 'query', "
            f"'question_type' and 'answer'): {exc.errors()[0]['msg']}"
        ) from exc


def normalise(text: str) -> str:
    """SQuAD-style: lower case, no punctuation, no articles (a, an, the), single spaces; markers dropped."""
    text = unicodedata.normalize("NFKC", citations.strip_markers(text)).lower().replace("’", "'")
    return " ".join(w for w in ASCII_WORD.findall(text) if w not in ARTICLES)


def answer_hit(answer: str, gold: str) -> bool:
    """The normalised gold answer appears in the normalised answer, as whole words; a gold Yes/No must lead."""
    wanted, said = normalise(gold), normalise(answer)
    if wanted in ("yes", "no"):
        return said.split(" ", 1)[0] == wanted
    return bool(wanted) and f" {wanted} " in f" {said} "


def token_overlap(prediction: str, gold: str) -> bool:
    """The paper's qa_evaluate.py: any shared token after lower-casing and splitting on whitespace."""
    return bool(set(prediction.lower().split()) & set(gold.lower().split()))


@dataclass(frozen=True)
class Judged:
    query: AnswerQuery
    outcome: Outcome
    valid: bool
    latency_ms: float

    @property
    def abstained(self) -> bool:
        return self.outcome.answer.abstained

    @property
    def hit(self) -> bool:
        return not self.abstained and answer_hit(self.outcome.answer.answer, self.query.answer or "")

    @property
    def overlap(self) -> bool:
        prediction = DECLINED if self.abstained else citations.strip_markers(self.outcome.answer.answer)
        return token_overlap(prediction, self.query.answer or "")


class AnswerReport(BaseModel):
    queries: int
    mode: str
    citation_validity: float
    abstention_recall: float
    false_abstention_rate: float
    hit_rate: dict[str, float]
    token_overlap_accuracy: float
    modes: dict[str, int] = Field(default_factory=dict)
    latency_ms: dict[str, float] = Field(default_factory=dict)
    llm_kept: float | None = None  # with an LLM: answerable questions answered in the model's words
    sentences: dict[str, int] = Field(default_factory=dict)  # cited / attributed / dropped, over all answers
    prompt_tokens: float | None = None  # p50, with an LLM


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def report(judged: Sequence[Judged], mode: str) -> AnswerReport:
    nulls = [j for j in judged if not j.query.answerable]
    answerable = [j for j in judged if j.query.answerable]
    modes: dict[str, int] = {}
    for j in judged:
        modes[j.outcome.answer.mode] = modes.get(j.outcome.answer.mode, 0) + 1
    hit_rate = {}
    for kind in ANSWERABLE_TYPES:
        of_kind = [j for j in answerable if j.query.question_type == kind]
        hit_rate[kind] = _ratio(sum(j.hit for j in of_kind), len(of_kind))
    latencies = [j.latency_ms for j in judged]
    timings = [j.outcome.answer.timings for j in judged]
    first_tokens = [t["first_token_ms"] for t in timings if "first_token_ms" in t]
    prompts = [float(j.outcome.answer.prompt_tokens) for j in judged if j.outcome.answer.prompt_tokens]
    llm = mode if not mode.startswith("extractive") else None
    kept = sum(j.outcome.answer.mode == llm and not j.abstained for j in answerable)
    sentences = {
        key: sum(getattr(j.outcome.answer.sentences, key) for j in judged) for key in ("cited", "attributed", "dropped")
    }
    return AnswerReport(
        queries=len(judged),
        mode=mode,
        citation_validity=_ratio(sum(j.valid for j in judged), len(judged)),
        abstention_recall=_ratio(sum(j.abstained for j in nulls), len(nulls)),
        false_abstention_rate=_ratio(sum(j.abstained for j in answerable), len(answerable)),
        hit_rate=hit_rate,
        token_overlap_accuracy=_ratio(sum(j.overlap for j in judged), len(judged)),
        modes=modes,
        latency_ms={
            "p50": round(percentile(latencies, 50), 1),
            "p95": round(percentile(latencies, 95), 1),
            "total_p50": round(percentile(latencies, 50), 1),
            "total_p95": round(percentile(latencies, 95), 1),
            **({"first_token_p50": round(percentile(first_tokens, 50), 1)} if first_tokens else {}),
        },
        llm_kept=_ratio(kept, len(answerable)) if llm else None,
        sentences=sentences,
        prompt_tokens=round(percentile(prompts, 50), 1) if prompts else None,
    )


Answerer = Callable[[Question], Outcome]  # the facade's answer()
Progress = Callable[[int, int], None]


def judge(answer: Answerer, queries: Sequence[AnswerQuery], progress: Progress | None = None) -> list[Judged]:
    """Answer every query and check each answer against the passages it was written from."""
    judged = []
    for done, item in enumerate(queries, start=1):
        started = time.perf_counter()
        outcome = answer(Question(question=item.query))
        latency = (time.perf_counter() - started) * 1000
        valid = not citations.problems(outcome.answer, outcome.passages)
        judged.append(Judged(item, outcome, valid, latency))
        if progress:
            progress(done, len(queries))
    return judged


def stratified_folds(types: Sequence[str], k: int, seed: int) -> list[list[int]]:
    """k folds of the indices of `types` (each question's type), each type spread evenly over the folds."""
    rng = random.Random(seed)
    out: list[list[int]] = [[] for _ in range(k)]
    for kind in sorted(set(types)):
        members = [i for i, t in enumerate(types) if t == kind]
        rng.shuffle(members)
        for j, i in enumerate(members):
            out[j % k].append(i)
    return out


@dataclass(frozen=True)
class Scored:
    """One question's best evidence score (abstention off) and whether it is answerable."""

    answerable: bool
    score: float


def decline_rates(scored: Sequence[Scored], threshold: float) -> dict[str, float]:
    """Null queries and answerable ones that a threshold on the evidence score declines."""
    nulls = [s for s in scored if not s.answerable]
    answerable = [s for s in scored if s.answerable]
    return {
        "abstention_recall": _ratio(sum(s.score < threshold for s in nulls), len(nulls)),
        "false_abstention_rate": _ratio(sum(s.score < threshold for s in answerable), len(answerable)),
    }
