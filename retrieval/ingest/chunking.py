"""Article -> Chunks: windows of whole sentences, with overlap, that fit the embedding model's window.

Sentences are split with a small regex splitter rather than nltk/pysbd: it needs no data download, keeps
exact character offsets (chunks must be verbatim slices of the body, so quotes and facts match) and is
fast enough that chunking costs next to nothing beside embedding.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence

from retrieval.core.text import sentence_spans
from retrieval.core.types import Article, Chunk

TokenCounter = Callable[[Sequence[str]], list[int]]
CHUNKING_VERSION = 1  # bump when the same settings would cut chunks differently (evaluation indexes key on it)

_SPECIAL_TOKENS = 2  # [CLS] and [SEP]
_MAX_HEADER_TOKENS = 48


def _split_long(text: str, span: tuple[int, int], budget: int, count: TokenCounter) -> list[tuple[int, int]]:
    """A sentence longer than the window is cut at word boundaries: the one place a sentence is cut."""
    words = [(m.start() + span[0], m.end() + span[0]) for m in re.finditer(r"\S+", text[span[0] : span[1]])]
    sizes = count([text[s:e] for s, e in words])
    pieces: list[tuple[int, int]] = []
    first, used = 0, 0
    for i, size in enumerate(sizes):
        if used + size > budget and i > first:
            pieces.append((words[first][0], words[i - 1][1]))
            first, used = i, 0
        used += size
    pieces.append((words[first][0], words[-1][1]))
    return pieces


def header_for(article: Article) -> str:
    parts = [article.title]
    if article.source:
        parts.append(article.source)
    if article.published_at:
        parts.append(article.published_at[:10])
    return " | ".join(parts)


def chunk_article(
    article: Article, count: TokenCounter, max_tokens: int = 256, overlap_sentences: int = 1
) -> list[Chunk]:
    header = header_for(article)
    header_tokens = count([header])[0]
    if header_tokens > _MAX_HEADER_TOKENS:
        header = header[: len(header) * _MAX_HEADER_TOKENS // header_tokens]
        header_tokens = count([header])[0]
    budget = max_tokens - _SPECIAL_TOKENS - header_tokens - 1  # -1: the newline between header and text
    body = article.body
    spans = sentence_spans(body)
    sizes = count([body[s:e] for s, e in spans])
    units: list[tuple[tuple[int, int], int]] = []
    for span, size in zip(spans, sizes, strict=True):
        if size > budget:
            pieces = _split_long(body, span, budget, count)
            units.extend(zip(pieces, count([body[s:e] for s, e in pieces]), strict=True))
        else:
            units.append((span, size))

    windows: list[tuple[int, int]] = []  # unit index ranges [i, j)
    i = 0
    while i < len(units):
        j, used = i, 0
        while j < len(units) and used + units[j][1] <= budget:
            used += units[j][1]
            j += 1
        windows.append((i, j))
        if j >= len(units):
            break
        # start the next window `overlap` units back, but always move forward and keep room for new text
        back = j
        while back > i + 1 and j - back < overlap_sentences and sum(u[1] for u in units[back - 1 : j]) <= budget // 2:
            back -= 1
        i = back

    chunks: list[Chunk] = []
    for index, (a, b) in enumerate(windows):
        text = body[units[a][0][0] : units[b - 1][0][1]]
        digest = hashlib.sha1(text.encode()).hexdigest()[:10]
        chunks.append(
            Chunk(
                id=f"{article.id}:{index}:{digest}",
                article_id=article.id,
                index=index,
                text=text,
                embed_text=f"{header}\n{text}",
            )
        )
    return chunks
