"""BM25 as the lexical file scores it: a chunk's terms, the maths, the sentence term blobs, and the view a
search reads (LexicalView: every row's columns in memory, scored against the file's postings).

Scores are BM25 as bm25s computed them (Lucene variant, k1=1.5, b=0.75, the same tokens), computed when a
question comes from the term frequencies, the document lengths and the collection statistics. Two scores come
from the same terms: one over whole chunks, and one over each sentence of a chunk (with the chunk's header:
title, outlet, date)."""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from retrieval.core.text import sentence_spans, tokenize
from retrieval.storage import provenance

if TYPE_CHECKING:
    from retrieval.storage.lexical import LexicalStore

SEPARATOR = "\x1e"  # in a lexical text, between the header (title, outlet, date) and the chunk text
K1, B = 1.5, 0.75  # bm25s's defaults, which the re-ranking trees were trained on


class DamagedIndex(ValueError):
    """The lexical index file is not what was written (a damaged disk, a hand edit, another program)."""


@dataclass(frozen=True)
class ChunkTerms:
    """What BM25 needs of one chunk: its header's and whole text's tokens, and each sentence's body tokens."""

    header: list[str]
    tokens: list[str]  # header + body
    sentences: list[list[str]]  # body tokens of each sentence (each sentence document is header + these)

    @classmethod
    def of(cls, lexical_text: str) -> ChunkTerms:
        head, sep, body = lexical_text.partition(SEPARATOR)
        if not sep:
            head, body = "", head
        spans = sentence_spans(body) or [(0, len(body))]
        header, whole, *sentences = tokenize([head, body, *(body[s:e] for s, e in spans)])
        return cls(header, header + whole, sentences)


def _idf(df: np.ndarray, n: float) -> np.ndarray:
    return np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)


def _bm25(tf: np.ndarray, length: np.ndarray, average: float) -> np.ndarray:
    return (tf / (K1 * ((1 - B) + B * length / average) + tf)).astype(np.float32)


# ----------------------------------------------------------------- the view a search reads


@dataclass(frozen=True)
class Stats:
    chunks: int = 0
    chunk_tokens: int = 0
    sentences: int = 0
    sentence_tokens: int = 0

    def plus(self, other: Stats, sign: int = 1) -> Stats:
        return Stats(*(a + sign * b for a, b in zip(self.astuple(), other.astuple(), strict=True)))

    def astuple(self) -> tuple[int, int, int, int]:
        return (self.chunks, self.chunk_tokens, self.sentences, self.sentence_tokens)


class LexicalView:
    """One consistent picture of the index for searches: arrays indexed by row (positions), immutable.

    Writers make a new view (copy-on-write) after each change; a search keeps the one it started with. Rows
    deleted since have no postings any more and score 0; rows added since are ignored until the next view."""

    def __init__(
        self,
        store: LexicalStore,
        ids: list[str | None],
        length: np.ndarray,
        article: list[str],
        source: list[str],
        published_at: list[str],
        story_id: list[str],
        url: list[str],
        chunk_index: np.ndarray,
        sentence_counts: np.ndarray,
        stats: Stats,
        generation: int,
        local: np.ndarray | None = None,
        publisher: list[str] | None = None,
    ) -> None:
        self.store = store
        self.ids = ids  # row -> chunk id (None: no chunk at that row)
        self.position = {cid: row for row, cid in enumerate(ids) if cid is not None}
        self.length = length
        self.article_id = article
        self.source = source
        self.published_at = published_at
        self.story_id = story_id  # the article's own id when it has no story label
        self.url = url
        self.chunk_index = chunk_index
        self.sentence_sizes = sentence_counts
        self.stats = stats
        self.generation = generation
        self.live = np.array([cid is not None for cid in ids], dtype=bool)
        # read from the operator's own files, not from the API, a web page or a feed (retrieval.storage.provenance)
        self.local = local if local is not None else np.zeros(len(ids), dtype=bool)
        # who vouches for the row's article, to count outlets by (retrieval.storage.provenance.publisher)
        self.publisher = publisher if publisher is not None else [provenance.publisher({}, s) for s in source]

    def __len__(self) -> int:
        return len(self.position)

    @property
    def size(self) -> int:
        """Rows the arrays cover (live chunks and the holes deleted ones left)."""
        return len(self.ids)

    def tokens(self, query: str) -> list[str]:
        return tokenize([query])[0]

    def scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every row (0 for holes), as bm25s's get_scores gives it for the same chunks."""
        out = np.zeros(self.size, dtype=np.float32)
        if not tokens or not self.stats.chunks:
            return out
        average = self.stats.chunk_tokens / self.stats.chunks
        for term, times in Counter(tokens).items():
            rows, tf = self.store.postings(self, term)
            if not len(rows):
                continue
            weight = times * _idf(np.array([len(rows)], dtype=np.float64), self.stats.chunks)[0]
            out[rows] += weight * _bm25(tf, self.length[rows], average)
        return out

    def sentence_scores(self, tokens: list[str], chunks: np.ndarray) -> np.ndarray:
        """The BM25 score of the best sentence of each of the given chunks (rows)."""
        return self.best_sentences([tokens], chunks)[0]

    def best_sentences(self, queries: list[list[str]], chunks: np.ndarray) -> list[np.ndarray]:
        """For each query's tokens, the BM25 score of the best sentence of each of the given chunks (rows): the
        chunks' sentence terms are gathered once for all the queries."""
        out = [np.zeros(len(chunks), dtype=np.float32) for _ in queries]
        if not len(chunks) or not self.stats.sentences or not any(queries):
            return out
        parts: list[int] = []
        kept = []
        for i, f in enumerate(self.store.sentence_terms(chunks.tolist())):
            if f is not None and len(f[3]):
                parts.append(i)
                kept.append(f)
        if not parts:
            return out
        sizes = np.array([len(f[3]) for f in kept], dtype=np.int64)
        counts = np.array([len(f[0]) for f in kept], dtype=np.int64)
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        terms = np.concatenate([f[0] for f in kept])
        which = np.concatenate([f[1] for f in kept]) + np.repeat(starts, counts)
        tf = np.concatenate([f[2] for f in kept])
        lengths = np.concatenate([f[3] for f in kept])
        average = self.stats.sentence_tokens / self.stats.sentences
        tfc = _bm25(tf, lengths[which], average)  # each (sentence, term) entry's BM25 factor, whatever the query
        for query, row in zip(queries, out, strict=True):
            wanted = Counter(query)
            ids = self.store.term_ids(list(wanted))
            if not ids:
                continue
            term_ids = np.array(list(ids.values()), dtype=np.int64)
            weights = np.array([wanted[t] for t in ids], dtype=np.float32) * _idf(
                self.store.sentence_df(term_ids), self.stats.sentences
            )
            lookup = np.zeros(max(int(terms.max()), int(term_ids.max())) + 1, dtype=np.float32)
            lookup[term_ids] = weights
            per = np.bincount(which, weights=lookup[terms] * tfc, minlength=len(lengths)).astype(np.float32)
            row[parts] = np.maximum.reduceat(per, starts)
        return out

    def terms_present(self, tokens: list[str], chunks: np.ndarray) -> np.ndarray:
        """How many of the distinct tokens each of the given chunks (rows) holds, header included."""
        counts = np.zeros(len(chunks), dtype=np.float64)
        if not len(chunks):
            return counts
        for term in set(tokens):
            rows, _ = self.store.postings(self, term)  # sorted by row
            if len(rows):
                at = np.minimum(np.searchsorted(rows, chunks), len(rows) - 1)
                counts += rows[at] == chunks
        return counts

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score), best first; mask (one bool per row) filters."""
        scores = self.scores(self.tokens(query))
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(scores))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(str(self.ids[int(i)]), float(scores[i])) for i in top if scores[i] > 0]

    def trouble(self) -> str | None:
        """Why a search over this index would fail, or None: one real scoring of a word over every chunk and
        of the first chunks' sentences."""
        try:
            self.store.probe(quick=True)
            rows = np.flatnonzero(self.live)[:64]
            if len(rows):
                text = self.store.text_of(int(rows[0]))
                word = next(iter(tokenize([text or ""])[0]), "news")
                self.scores([word])
                self.sentence_scores([word], rows)
        except (sqlite3.Error, DamagedIndex, ValueError, KeyError, IndexError) as exc:
            return f"{type(exc).__name__}: {exc}"
        return None


# ----------------------------------------------------------------- sentence term blobs


def encode_sentences(header: int, bodies: list[list[int]], header_ids: list[int]) -> bytes:
    """[header length, header ids..., then per sentence: its length, its ids...] as int32."""
    values = [header, *header_ids]
    for body in bodies:
        values.append(len(body))
        values.extend(body)
    return np.asarray(values, dtype=np.int32).tobytes()


def decode_sentences(blob: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(term ids, sentence of each, term frequency, sentence lengths): each sentence document is the header
    followed by the sentence, counted as one bag of words."""
    values = np.frombuffer(blob, dtype=np.int32)
    n_header = int(values[0])
    header = values[1 : 1 + n_header]
    at = 1 + n_header
    terms: list[np.ndarray] = []
    which: list[np.ndarray] = []
    lengths: list[int] = []
    while at < len(values):
        n = int(values[at])
        tokens = np.concatenate((header, values[at + 1 : at + 1 + n]))
        terms.append(tokens)
        which.append(np.full(len(tokens), len(lengths), dtype=np.int64))
        lengths.append(len(tokens))
        at += 1 + n
    if not terms:
        empty = np.zeros(0, dtype=np.int32)
        return empty, empty, np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.float32)
    all_terms = np.concatenate(terms).astype(np.int64)
    all_which = np.concatenate(which)
    keys, tf = np.unique(all_which * (1 << 32) + all_terms, return_counts=True)
    # int32 ids and sentence numbers: these arrays fill the sentence cache, whose size grows with the archive
    terms_out, which_out = (keys % (1 << 32)).astype(np.int32), (keys >> 32).astype(np.int32)
    return terms_out, which_out, tf.astype(np.float32), np.asarray(lengths, dtype=np.float32)


def entries(decoded: tuple[np.ndarray, ...] | None) -> int:
    return 0 if decoded is None else len(decoded[0])


def sentence_df_of(decoded: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]) -> Counter[int]:
    terms = decoded[0]
    return Counter(terms.tolist())  # (term, sentence) pairs are unique: each counts one sentence
