"""What an LLM reads: the passages' best sentences with their neighbours, under a token budget.

Prefill dominates on a CPU (a 1.5B model reads 100-200 prompt tokens a second on 2 cores), so the prompt
carries evidence, not whole chunks. Each passage's sentences are scored against the question by wording
(idf-weighted share of the question's terms, as the extractive answerer scores them) with a small prior
for the search's rank. Each passage first gets its best sentence, in search order while the budget lasts,
so the outlets and dates the search ranked highest are heard; the rest goes to the best remaining sentences. Each
chosen sentence brings its neighbours when they fit, and a passage's sentences are shown in their order,
with "…" where some were left out. Excerpts are verbatim, so what the model quotes is in the passage.

A budget of 0 shows every passage whole (the prompt before this module existed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from retrieval.answer.sentences import lexical_scores
from retrieval.core.text import sentence_spans, tokenize
from retrieval.core.types import Passage

CHARS_PER_TOKEN = 3.4  # English news text in Qwen's vocabulary, as measured on the benchmark's prompts
HEADER_TOKENS = 20  # "[n] Title (Outlet, date)" and the blank line


@dataclass(frozen=True)
class Excerpt:
    number: int  # the passage's number (1-based): what the model cites
    passage: Passage
    text: str  # verbatim sentences of the passage, "…" between the ones not next to each other


def tokens(text: str) -> int:
    return int(len(text) / CHARS_PER_TOKEN) + 1


def excerpts(question: str, passages: Sequence[Passage], budget: int, neighbours: int = 1) -> list[Excerpt]:
    """The excerpts of `passages` an LLM is shown for `question`, within about `budget` tokens in all."""
    if budget <= 0:
        return [Excerpt(n, p, p.text.strip()) for n, p in enumerate(passages, start=1)]
    spans = [sentence_spans(p.text) for p in passages]
    flat = [(i, k) for i, ss in enumerate(spans) for k in range(len(ss))]
    if not flat:
        return []
    texts = [passages[i].text[spans[i][k][0] : spans[i][k][1]] for i, k in flat]
    wording = lexical_scores(question, [frozenset(t) for t in tokenize(texts)])
    score = {ik: wording[j] + 0.05 / (1 + ik[0]) for j, ik in enumerate(flat)}
    chosen: set[tuple[int, int]] = set()
    used = 0

    def take(i: int, k: int, with_neighbours: bool) -> bool:
        nonlocal used
        window = [(i, m) for m in range(k - neighbours, k + neighbours + 1) if 0 <= m < len(spans[i])]
        window = window if with_neighbours else [(i, k)]
        new = [ik for ik in window if ik not in chosen]
        cost = sum(tokens(passages[i].text[spans[i][m][0] : spans[i][m][1]]) for _, m in new)
        cost += HEADER_TOKENS if not any(c[0] == i for c in chosen) else 0
        if used + cost > budget:
            return False
        chosen.update(new)
        used += cost
        return True

    best_of: dict[int, int] = {}
    for i, ss in enumerate(spans):
        if ss:
            best_of[i] = max(range(len(ss)), key=lambda k: score[(i, k)])  # noqa: B023 (used at once)
    for i in sorted(best_of):  # each passage's best sentence, in search order, while the budget lasts
        if not take(i, best_of[i], True):
            take(i, best_of[i], False)
    for i, k in sorted(score, key=lambda ik: -score[ik]):
        if (i, k) not in chosen and score[(i, k)] > 0:
            take(i, k, True) or take(i, k, False)
    shown = []
    for i, passage in enumerate(passages):
        ks = sorted(k for j, k in chosen if j == i)
        if not ks:
            continue
        parts: list[str] = []
        for pos, k in enumerate(ks):
            if pos and k != ks[pos - 1] + 1:
                parts.append("…")
            parts.append(passage.text[spans[i][k][0] : spans[i][k][1]])
        shown.append(Excerpt(i + 1, passage, " ".join(parts)))
    return shown
