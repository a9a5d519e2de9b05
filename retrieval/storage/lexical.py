"""BM25 over the chunks, kept on disk in SQLite (FTS5) and updated in place: a sync touches only what changed.

One SQLite file (WAL) beside Chroma holds, for every chunk: its text and metadata (so no process keeps the
archive's texts in memory), its BM25 terms in an FTS5 index (FTS5 keeps the postings in segments that it
merges as rows are added and deleted), and its sentences' terms. Scores are BM25 as bm25s computed them
before (Lucene variant, k1=1.5, b=0.75, the same tokens), but computed when a question comes from the term
frequencies, the document lengths and the collection statistics, so adding a chunk changes no other row.

Two scores come from the same terms: one over whole chunks, and one over each sentence of a chunk (with the
chunk's header: title, outlet, date). A chunk's sentence score is its best sentence's, which tells which chunk
of an article holds the passage a question paraphrases.

What the hot path needs stays in memory (a LexicalView): each row's chunk id, length, article, outlet and date,
a few bytes a chunk; and, filled as questions ask for them, each term's postings and each row's sentence terms
(bounded caches). Rows are never reused (AUTOINCREMENT): a chunk written again gets a new row, so a cached row
never goes stale and a search holding an older view never mistakes one chunk for another.

FTS5 tokenizes a chunk's terms as the decimal ids of a vocabulary table: our tokens (PyStemmer stems of
bm25s's token pattern, stopwords removed) are indexed exactly, whatever FTS5's own tokenizers would do.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

import numpy as np

from retrieval.core.errors import StorageError
from retrieval.core.text import sentence_spans, tokenize
from retrieval.core.types import SYNC_FIELDS, ChunkMeta
from retrieval.storage import provenance, stories

log = logging.getLogger(__name__)

SEPARATOR = "\x1e"  # in a lexical text, between the header (title, outlet, date) and the chunk text
FORMAT = 4  # bump when the schema or what is stored changes: the file is rebuilt from Chroma
K1, B = 1.5, 0.75  # bm25s's defaults, which the re-ranking trees were trained on
POSTINGS_CACHE_ENTRIES = 8_000_000  # (row, tf) pairs kept in memory across terms: about 64 MB at most
SENTENCE_CACHE_ROWS = 40_000
SENTENCE_CACHE_ENTRIES = 6_000_000  # (sentence, term) entries of those rows: about 75 MB at most (1x: 3M in all)
PASSAGE_CACHE_ROWS = 4_096


Metadata = ChunkMeta


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


# ----------------------------------------------------------------- the file

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chunks(
    row INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    article_id TEXT NOT NULL,
    source TEXT NOT NULL,
    published_at TEXT NOT NULL,
    story_id TEXT NOT NULL,
    url TEXT NOT NULL,
    chunk_index INTEGER NOT NULL,
    length INTEGER NOT NULL,
    n_sentences INTEGER NOT NULL,
    sync TEXT NOT NULL,
    meta TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
CREATE INDEX IF NOT EXISTS chunks_text_hash ON chunks(json_extract(sync, '$.text_hash'));
CREATE INDEX IF NOT EXISTS chunks_unlabelled ON chunks(article_id) WHERE json_extract(sync, '$.story_id') IS NULL;
CREATE INDEX IF NOT EXISTS chunks_replacing ON chunks(article_id, json_extract(sync, '$.replaces'))
    WHERE json_extract(sync, '$.replaces') IS NOT NULL;
CREATE INDEX IF NOT EXISTS chunks_version ON chunks(
    article_id, json_extract(sync, '$.content_hash'), json_extract(sync, '$.n_chunks'), json_extract(sync, '$.index')
);
CREATE TABLE IF NOT EXISTS bodies(
    row INTEGER PRIMARY KEY,
    text TEXT NOT NULL,
    terms TEXT NOT NULL,
    sentences BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS vocabulary(
    id INTEGER PRIMARY KEY,
    term TEXT NOT NULL UNIQUE,
    sentence_df INTEGER NOT NULL DEFAULT 0
);
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_terms USING fts5(
    terms, content='bodies', content_rowid='row', tokenize='unicode61', detail='full'
);
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_postings USING fts5vocab(chunk_terms, 'instance');
CREATE TABLE IF NOT EXISTS story_bands(key TEXT NOT NULL, chunk_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS story_bands_key ON story_bands(key);
CREATE INDEX IF NOT EXISTS story_bands_chunk ON story_bands(chunk_id);
CREATE TABLE IF NOT EXISTS state(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS applied(record TEXT PRIMARY KEY, seq INTEGER NOT NULL);
"""
# the last two indexes let a sync find duplicates of a text, and articles that are not one whole version, without
# reading every chunk (they are built once when a file of an earlier version of this code is opened)
_INCOMPLETE = """
SELECT article_id FROM chunks INDEXED BY chunks_version GROUP BY article_id HAVING
    count(json_extract(sync, '$.content_hash')) != count(*)
    OR min(json_extract(sync, '$.content_hash')) IS NOT max(json_extract(sync, '$.content_hash'))
    OR count(json_extract(sync, '$.n_chunks')) != count(*)
    OR min(json_extract(sync, '$.n_chunks')) IS NOT max(json_extract(sync, '$.n_chunks'))
    OR max(json_extract(sync, '$.n_chunks')) != count(*)
    OR min(json_extract(sync, '$.index')) != 0 OR max(json_extract(sync, '$.index')) != count(*) - 1
    OR count(DISTINCT json_extract(sync, '$.index')) != count(*)
"""
# chunks holds what every process reads whole (ids, filter columns, metadata) and bodies what is read a row at a
# time (texts, terms), so reading the first never pages through the second
_STATS = ("chunks", "chunk_tokens", "sentences", "sentence_tokens")
# Seconds a statement waits for a lock another connection holds. Readers never wait for a writer here (WAL), and
# writes are one short transaction each; a file that stays locked (damaged under a running process, another
# process stuck in a write) is an error after this, which the API answers with 503, not a minute's wait.
BUSY_WAIT = 10.0
PROBE_WAIT = 1.0  # the same, for the readiness probe


@dataclass(frozen=True)
class Row:
    """A chunk as stored: its id, text, metadata and the lexical text (header + SEPARATOR + text) BM25 sees."""

    id: str
    text: str
    meta: Metadata
    lexical_text: str


class LexicalStore:
    """The SQLite file. Any thread may read (one connection per thread, WAL); writes are serialised by the
    caller (the service's write lock) and each is one transaction, so a kill leaves the file as it was
    before or after it, never between."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._generation = 0
        self._postings: OrderedDict[tuple[int, str], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._postings_size = 0
        self._sentences: OrderedDict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None] = (
            OrderedDict()
        )
        self._sentences_size = 0
        self._term_ids: dict[str, int] = {}
        self._df: dict[int, float] = {}  # term id -> sentence document frequency, as of the last view
        self._passages: OrderedDict[int, tuple[str, str, Metadata]] = OrderedDict()
        try:
            db = self._db()
            db.executescript(_SCHEMA)
            if self.get("format") is None and self._count() == 0:
                self.put({"format": str(FORMAT)})
            elif self.get("format") != str(FORMAT):
                raise DamagedIndex(f"the lexical index was written in format {self.get('format')}, not {FORMAT}")
        except sqlite3.Error as exc:
            raise DamagedIndex(f"{path}: {exc}") from exc

    # ------------------------------------------------------------- connections and small state

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(
                self._target(), timeout=BUSY_WAIT, isolation_level=None, check_same_thread=False, uri=True
            )
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL: a kill -9 loses nothing committed; a power cut may
            # lose the last transactions, which the next sync redoes (the file records no marker for them)
            self._local.db = db
        return db

    def _target(self) -> str:
        """The file's URI. In a directory this process cannot write (a read-only mount), SQLite can open a WAL
        file only while its -wal and -shm files exist; once the last writer has closed (and removed them) nothing
        can change the file, so it is opened as immutable."""
        uri = f"file:{quote(str(self.path.resolve()))}"
        if self.path.exists() and not os.access(self.path.parent, os.W_OK):
            live = Path(f"{self.path}-shm").exists() and Path(f"{self.path}-wal").exists()
            return f"{uri}?mode=ro" if live else f"{uri}?mode=ro&immutable=1"
        return uri

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    def get(self, key: str) -> str | None:
        row = self._db().execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, values: dict[str, str | None]) -> None:
        db = self._db()
        try:
            with _transaction(db):
                self._put(db, values)
        except sqlite3.OperationalError as exc:
            raise self._unwritable(exc) from exc

    @staticmethod
    def _put(db: sqlite3.Connection, values: dict[str, str | None]) -> None:
        for key, value in values.items():
            if value is None:
                db.execute("DELETE FROM state WHERE key = ?", (key,))
            else:
                db.execute("INSERT OR REPLACE INTO state(key, value) VALUES (?, ?)", (key, value))

    def _count(self) -> int:
        return int(self._db().execute("SELECT count(*) FROM chunks").fetchone()[0])

    def stats(self) -> Stats:
        values = dict(self._db().execute("SELECT key, value FROM state WHERE key LIKE 'stat_%'").fetchall())
        return Stats(*(int(values.get(f"stat_{name}", 0)) for name in _STATS))

    # ------------------------------------------------------------- reading

    def view(self) -> LexicalView:
        """Every row's id and the columns search filters on (no texts), read in one query."""
        db = self._db()
        with _transaction(db, write=False):
            rows = db.execute(
                "SELECT row, id, article_id, source, published_at, story_id, url, chunk_index, length, n_sentences, "
                "json_extract(sync, '$.origin'), json_extract(sync, '$.feed') FROM chunks"
            ).fetchall()
            stats = self.stats()
        size = (rows[-1][0] + 1) if rows else 0
        ids: list[str | None] = [None] * size
        article, source, published = [""] * size, [""] * size, [""] * size
        story, url = [""] * size, [""] * size
        shared: dict[str, str] = {}  # an article's chunks share one string per value (rows repeat them)
        index = np.zeros(size, dtype=np.int64)
        length = np.zeros(size, dtype=np.float32)
        sentences = np.zeros(size, dtype=np.int64)
        local = np.zeros(size, dtype=bool)
        for row, cid, aid, src, when, sid, link, position, n, n_s, origin, feed in rows:
            ids[row] = cid
            local[row] = not provenance.outside({"origin": origin, "feed": feed})
            article[row], source[row], published[row] = (shared.setdefault(v, v) for v in (aid, src, when))
            story[row], url[row] = shared.setdefault(sid or aid, sid or aid), shared.setdefault(link, link)
            index[row], length[row], sentences[row] = position, n, n_s
        with self._lock:
            self._generation += 1
            generation = self._generation
            self._postings.clear()
            self._postings_size = 0
            self._df = {}
        return LexicalView(
            self, ids, length, article, source, published, story, url, index, sentences, stats, generation, local
        )

    def postings(self, view: LexicalView, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows, term frequencies) of the chunks holding the term, among the view's rows."""
        key = (view.generation, term)
        with self._lock:
            found = self._postings.get(key)
            if found is not None:
                self._postings.move_to_end(key)
                return found
        term_id = self.term_ids([term]).get(term)
        if term_id is None:
            rows = np.zeros(0, dtype=np.int32)
            tf = np.zeros(0, dtype=np.float32)
        else:
            got = self._db().execute(
                "SELECT doc, count(*) FROM chunk_postings WHERE term = ? GROUP BY doc", (str(term_id),)
            ).fetchall()
            pairs = np.array(got, dtype=np.int64).reshape(-1, 2)
            keep = pairs[:, 0] < view.size
            keep[keep] &= view.live[pairs[keep, 0]]  # rows written after the view: the next view has them
            rows, tf = pairs[keep, 0].astype(np.int32), pairs[keep, 1].astype(np.float32)  # 8 bytes a posting
        with self._lock:
            if key[0] == self._generation:
                self._postings[key] = (rows, tf)
                self._postings_size += len(rows)
                while self._postings_size > POSTINGS_CACHE_ENTRIES and len(self._postings) > 1:
                    _, (old, _) = self._postings.popitem(last=False)
                    self._postings_size -= len(old)
        return rows, tf

    def term_ids(self, terms: Sequence[str]) -> dict[str, int]:
        """Ids of those terms that are in the vocabulary (ids never change once given)."""
        known = {t: self._term_ids[t] for t in terms if t in self._term_ids}
        missing = [t for t in dict.fromkeys(terms) if t not in known]
        if missing:
            marks = ",".join("?" * len(missing))
            for term, term_id in self._db().execute(
                f"SELECT term, id FROM vocabulary WHERE term IN ({marks})", missing
            ).fetchall():
                known[term] = self._term_ids[term] = int(term_id)
        return known

    def sentence_df(self, term_ids: np.ndarray) -> np.ndarray:
        """How many sentence documents hold each term (remembered until the next view: writes change them)."""
        known = self._df
        missing = [int(t) for t in term_ids if int(t) not in known]
        if missing:
            marks = ",".join("?" * len(missing))
            found = dict(
                self._db().execute(f"SELECT id, sentence_df FROM vocabulary WHERE id IN ({marks})", missing).fetchall()
            )
            known.update({t: float(found.get(t, 0)) for t in missing})
        return np.array([known[int(t)] for t in term_ids], dtype=np.float64)

    def sentence_terms(self, rows: list[int]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None]:
        """For each row: (term ids, sentence of each, term frequency, sentence lengths); None for a row gone."""
        found: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None] = {}
        with self._lock:
            cache = self._sentences
            for row in rows:
                if row in cache:
                    cache.move_to_end(row)
                    found[row] = cache[row]
        missing = [row for row in rows if row not in found]
        for start in range(0, len(missing), 500):
            part = missing[start : start + 500]
            marks = ",".join("?" * len(part))
            got = dict(self._db().execute(f"SELECT row, sentences FROM bodies WHERE row IN ({marks})", part).fetchall())
            for row in part:
                found[row] = _decode_sentences(got[row]) if row in got else None
        if missing:
            with self._lock:
                for row in missing:
                    if row not in self._sentences:
                        self._sentences[row] = found[row]
                        self._sentences_size += _entries(found[row])
                while len(self._sentences) > 1 and (
                    len(self._sentences) > SENTENCE_CACHE_ROWS or self._sentences_size > SENTENCE_CACHE_ENTRIES
                ):
                    self._sentences_size -= _entries(self._sentences.popitem(last=False)[1])
        return [found[row] for row in rows]

    def text_of(self, row: int) -> str | None:
        got = self._db().execute("SELECT text FROM bodies WHERE row = ?", (row,)).fetchone()
        return None if got is None else str(got[0])

    def rows(self, ids: Sequence[str]) -> dict[str, tuple[str, Metadata]]:
        """Text and metadata of those chunks that are stored."""
        out: dict[str, tuple[str, Metadata]] = {}
        db = self._db()
        for start in range(0, len(ids), 500):
            part = list(ids[start : start + 500])
            marks = ",".join("?" * len(part))
            query = f"SELECT c.id, b.text, c.meta FROM chunks c JOIN bodies b ON b.row = c.row WHERE c.id IN ({marks})"
            for cid, text, meta in db.execute(query, part):
                out[cid] = (text, json.loads(meta))
        return out

    def rows_at(self, rows: Sequence[int]) -> dict[int, tuple[str, str, Metadata]]:
        """(chunk id, text, metadata) of those rows that hold a chunk. Rows never change once written, so the
        last few thousand read are remembered (the passages questions keep showing)."""
        out: dict[int, tuple[str, str, Metadata]] = {}
        with self._lock:
            for row in rows:
                if row in self._passages:
                    self._passages.move_to_end(row)
                    out[row] = self._passages[row]
        missing = [row for row in rows if row not in out]
        if missing:
            marks = ",".join("?" * len(missing))
            query = (
                "SELECT c.row, c.id, b.text, c.meta FROM chunks c JOIN bodies b ON b.row = c.row "
                f"WHERE c.row IN ({marks})"
            )
            got = {row: (cid, text, json.loads(meta)) for row, cid, text, meta in self._db().execute(query, missing)}
            out.update(got)
            with self._lock:
                self._passages.update(got)
                while len(self._passages) > PASSAGE_CACHE_ROWS:
                    self._passages.popitem(last=False)
        return out

    def text(self, chunk_id: str) -> str | None:
        got = (
            self._db()
            .execute("SELECT b.text FROM chunks c JOIN bodies b ON b.row = c.row WHERE c.id = ?", (chunk_id,))
            .fetchone()
        )
        return None if got is None else str(got[0])

    def meta(self, chunk_id: str) -> Metadata | None:
        got = self._db().execute("SELECT meta FROM chunks WHERE id = ?", (chunk_id,)).fetchone()
        return None if got is None else cast(Metadata, json.loads(got[0]))

    def ids(self) -> list[str]:
        return [str(r[0]) for r in self._db().execute("SELECT id FROM chunks ORDER BY row")]

    def count(self) -> int:
        return self._count()

    def articles(self) -> int:
        return int(self._db().execute("SELECT count(DISTINCT article_id) FROM chunks").fetchone()[0])

    def all_metadata(
        self, article_ids: Sequence[str] | None = None, keys: Sequence[str] | None = None
    ) -> dict[str, Metadata]:
        """Chunk id -> metadata, of every chunk or of those articles' chunks; with `keys`, only those fields
        (SYNC_FIELDS are kept apart, so a sync's manifest does not parse every chunk's whole metadata)."""
        db = self._db()
        if article_ids is None and keys is not None and tuple(keys) == SYNC_FIELDS:
            return {cid: json.loads(fields) for cid, fields in db.execute("SELECT id, sync FROM chunks")}
        if article_ids is None and keys is not None:
            return {cid: _only(m, keys) for cid, m in self.all_metadata().items()}
        if article_ids is None:
            return {cid: json.loads(meta) for cid, meta in db.execute("SELECT id, meta FROM chunks")}
        out: dict[str, Metadata] = {}
        for start in range(0, len(article_ids), 500):
            part = list(article_ids[start : start + 500])
            marks = ",".join("?" * len(part))
            rows = db.execute(f"SELECT id, meta FROM chunks WHERE article_id IN ({marks})", part)
            out.update((cid, json.loads(meta)) for cid, meta in rows)
        return out

    def sync_metadata(
        self, article_ids: Iterable[str], text_hashes: Iterable[str], roots: Iterable[str] = ()
    ) -> dict[str, Metadata]:
        """Chunk id -> SYNC_FIELDS, in row order, of what a sync must know about: the given articles, the
        articles with one of these text hashes (duplicates), those under these folders (pruning), every
        article that is not one whole version (repairs), those without a story yet and those replacing others
        (with what they replace). Each is found through an index: the chunks of other articles are not read."""
        db = self._db()
        wanted = set(article_ids)
        for column, values in (("text_hash", list(set(text_hashes))), ("origin_root", list(set(roots)))):
            for start in range(0, len(values), 500):
                part = values[start : start + 500]
                marks = ",".join("?" * len(part))
                query = f"SELECT DISTINCT article_id FROM chunks WHERE json_extract(sync, '$.{column}') IN ({marks})"
                wanted.update(aid for (aid,) in db.execute(query, part))
        wanted.update(aid for (aid,) in db.execute(_INCOMPLETE))
        # stories: articles not labelled yet (an index from before stories), and replacements with what they
        # replace (a crash may have left both)
        query = "SELECT DISTINCT article_id FROM chunks WHERE json_extract(sync, '$.story_id') IS NULL"
        wanted.update(aid for (aid,) in db.execute(query))
        query = (
            "SELECT article_id, json_extract(sync, '$.replaces') FROM chunks "
            "WHERE json_extract(sync, '$.replaces') IS NOT NULL"
        )
        for aid, replaces in db.execute(query):
            if replaces:
                wanted.add(aid)
                wanted.update(old for old in str(replaces).split(",") if old)
        found: list[tuple[int, str, str]] = []
        ordered = sorted(wanted)
        for start in range(0, len(ordered), 500):
            part = ordered[start : start + 500]
            marks = ",".join("?" * len(part))
            found.extend(db.execute(f"SELECT row, id, sync FROM chunks WHERE article_id IN ({marks})", part))
        found.sort()
        return {cid: json.loads(fields) for _, cid, fields in found}

    def story_candidates(self, keys: Sequence[str]) -> dict[str, Metadata]:
        """First chunks (id -> metadata) of the articles sharing an LSH band key with a signature."""
        if not keys:
            return {}
        marks = ",".join("?" * len(keys))
        query = f"SELECT DISTINCT chunk_id FROM story_bands WHERE key IN ({marks})"
        ids = [cid for (cid,) in self._db().execute(query, list(keys))]
        return {cid: meta for cid, (_, meta) in self.rows(ids).items()}

    def iter_texts(self) -> Iterator[tuple[str, str]]:
        """Every chunk's (id, text), streamed in row order."""
        last = 0
        while True:
            page = self._db().execute(
                "SELECT c.row, c.id, b.text FROM chunks c JOIN bodies b ON b.row = c.row WHERE c.row > ? "
                "ORDER BY c.row LIMIT 2000",
                (last,),
            ).fetchall()
            yield from ((cid, text) for _, cid, text in page)
            if len(page) < 2000:
                return
            last = page[-1][0]

    # ------------------------------------------------------------- writing

    def write(
        self,
        rows: Sequence[Row],
        remove: Iterable[str] = (),
        state: dict[str, str | None] | None = None,
        applied: Sequence[tuple[str, int]] = (),
    ) -> None:
        """Upsert these chunks and delete those ids, in one transaction, with `state` updates and the change-log
        records (id, seq) this write applies, if given."""
        prepared = [(row, ChunkTerms.of(row.lexical_text)) for row in rows]
        db = self._db()
        try:
            self._write(db, prepared, remove, state)
            if applied:  # after the rows: a kill in between only means the records are applied again
                self.mark_applied(applied)
        except sqlite3.OperationalError as exc:
            self._term_ids.clear()
            raise self._unwritable(exc) from exc
        except BaseException:
            self._term_ids.clear()  # ids handed out inside the rolled-back transaction are not in the file
            raise

    def _unwritable(self, exc: sqlite3.OperationalError) -> Exception:
        """A write SQLite refused: StorageError (507) when the file cannot be written (read-only, a full disk, an
        I/O error), the error itself otherwise."""
        text = str(exc).lower()
        if any(word in text for word in ("readonly", "read-only", "disk is full", "i/o error", "unable to open")):
            return StorageError(
                f"the lexical index {self.path} cannot be written ({exc}); make it (and its folder) writable, or "
                "free some space, then retry (questions are still answered meanwhile)"
            )
        return exc

    def _write(
        self,
        db: sqlite3.Connection,
        prepared: list[tuple[Row, ChunkTerms]],
        remove: Iterable[str],
        state: dict[str, str | None] | None,
    ) -> None:
        rows = [row for row, _ in prepared]
        with _transaction(db):
            change = Stats()
            gone = [*{row.id for row in rows}, *remove]
            for start in range(0, len(gone), 500):
                change = change.plus(self._delete(db, gone[start : start + 500]), -1)
            for row, terms in prepared:
                change = change.plus(self._insert(db, row, terms))
            stats = self.stats().plus(change)
            self._put(db, {f"stat_{name}": str(value) for name, value in zip(_STATS, stats.astuple(), strict=True)})
            if state:
                self._put(db, state)

    def _delete(self, db: sqlite3.Connection, ids: Sequence[str]) -> Stats:
        marks = ",".join("?" * len(ids))
        found = db.execute(
            "SELECT c.row, b.terms, c.length, b.sentences, c.n_sentences FROM chunks c JOIN bodies b ON b.row = c.row "
            f"WHERE c.id IN ({marks})",
            list(ids),
        ).fetchall()
        removed = Stats()
        df: Counter[int] = Counter()
        for row, terms, length, sentences, n_sentences in found:
            db.execute("INSERT INTO chunk_terms(chunk_terms, rowid, terms) VALUES('delete', ?, ?)", (row, terms))
            decoded = _decode_sentences(sentences)
            df.update(_sentence_df(decoded))
            removed = removed.plus(Stats(1, int(length), int(n_sentences), int(decoded[3].sum())))
        if found:
            db.executemany("DELETE FROM bodies WHERE row = ?", [(row,) for row, *_ in found])
            db.execute(f"DELETE FROM chunks WHERE id IN ({marks})", list(ids))
            db.execute(f"DELETE FROM story_bands WHERE chunk_id IN ({marks})", list(ids))
            db.executemany("UPDATE vocabulary SET sentence_df = sentence_df - ? WHERE id = ?",
                           [(n, t) for t, n in df.items()])  # fmt: skip
        return removed

    def _insert(self, db: sqlite3.Connection, row: Row, terms: ChunkTerms) -> Stats:
        ids = self._vocabulary(db, [*terms.tokens, *(t for s in terms.sentences for t in s)])
        header = [ids[t] for t in terms.header]
        sentences = [header + [ids[t] for t in s] for s in terms.sentences]
        blob = _encode_sentences(len(header), [[ids[t] for t in s] for s in terms.sentences], header)
        token_text = " ".join(str(ids[t]) for t in terms.tokens)
        meta = row.meta
        cursor = db.execute(
            "INSERT INTO chunks(id, article_id, source, published_at, story_id, url, chunk_index, length, n_sentences, "
            "sync, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (row.id, str(meta.get("article_id") or ""), str(meta.get("source") or ""),
             str(meta.get("published_at") or ""), str(meta.get("story_id") or ""), str(meta.get("url") or ""),
             int(meta.get("index") or 0), len(terms.tokens), len(sentences),
             json.dumps(_only(meta, SYNC_FIELDS)), json.dumps(meta)),
        )  # fmt: skip
        db.execute(
            "INSERT INTO bodies(row, text, terms, sentences) VALUES (?, ?, ?, ?)",
            (cursor.lastrowid, row.text, token_text, blob),
        )
        db.execute("INSERT INTO chunk_terms(rowid, terms) VALUES (?, ?)", (cursor.lastrowid, token_text))
        signature = stories.decode(str(meta["minhash"])) if meta.get("minhash") else None
        if signature is not None:
            db.executemany("INSERT INTO story_bands(key, chunk_id) VALUES (?, ?)",
                           [(key, row.id) for key in stories.band_keys(signature)])  # fmt: skip
        df: Counter[int] = Counter()
        for sentence in sentences:
            df.update(set(sentence))
        db.executemany("UPDATE vocabulary SET sentence_df = sentence_df + ? WHERE id = ?",
                       [(n, t) for t, n in df.items()])  # fmt: skip
        return Stats(1, len(terms.tokens), len(sentences), sum(len(s) for s in sentences))

    def _vocabulary(self, db: sqlite3.Connection, terms: list[str]) -> dict[str, int]:
        distinct = list(dict.fromkeys(terms))
        known = self.term_ids(distinct)
        new = [t for t in distinct if t not in known]
        if new:
            db.executemany("INSERT OR IGNORE INTO vocabulary(term) VALUES (?)", [(t,) for t in new])
            known.update(self.term_ids(new))
        return known

    def probe(self, quick: bool = False) -> None:
        """Read one row of every table a search reads, past the caches (raises what a damaged file raises).
        `quick`: a locked file is an error after PROBE_WAIT seconds, not after the usual wait for a lock."""
        db = self._db()
        if quick:
            db.execute(f"PRAGMA busy_timeout = {int(PROBE_WAIT * 1000)}")
        try:
            term = db.execute("SELECT id FROM vocabulary LIMIT 1").fetchone()
            db.execute("SELECT row, id, meta FROM chunks LIMIT 1").fetchall()
            db.execute("SELECT row, text, sentences FROM bodies LIMIT 1").fetchall()
            if term is not None:
                db.execute("SELECT doc FROM chunk_postings WHERE term = ? LIMIT 1", (str(term[0]),)).fetchall()
        finally:
            if quick:
                db.execute(f"PRAGMA busy_timeout = {int(BUSY_WAIT * 1000)}")

    def applied(self, records: Sequence[str]) -> set[str]:
        """Which of these change-log records this file has applied already."""
        found: set[str] = set()
        for start in range(0, len(records), 500):
            part = list(records[start : start + 500])
            marks = ",".join("?" * len(part))
            query = f"SELECT record FROM applied WHERE record IN ({marks})"
            found.update(r for (r,) in self._db().execute(query, part))
        return found

    def mark_applied(self, records: Sequence[tuple[str, int]], forget_before: int | None = None) -> None:
        """Note change-log records as applied (and forget those older than `forget_before`, ns)."""
        db = self._db()
        with _transaction(db):
            db.executemany("INSERT OR REPLACE INTO applied(record, seq) VALUES (?, ?)", list(records))
            if forget_before is not None:
                db.execute("DELETE FROM applied WHERE seq < ?", (forget_before,))

    def note_whole(self) -> None:
        """Note the file's size and time beside it, after a check passed or this process's own committed writes
        to a file it had checked: the next process that finds them unchanged skips the page check (which reads
        the whole file: about 0.3 s at 10x). The log is folded into the file first, so closing it changes
        nothing. Any later write, damage or copy changes them, and the next open checks again."""
        try:
            self._db().execute("PRAGMA wal_checkpoint(TRUNCATE)")
            Path(f"{self.path}.checked.json").write_text(json.dumps(self._file_key()))
        except (OSError, sqlite3.Error) as exc:  # the check then simply runs at the next open
            log.info("could not note the lexical file as checked (%s)", exc)

    def noted_whole(self) -> bool:
        try:
            return bool(json.loads(Path(f"{self.path}.checked.json").read_text()) == self._file_key())
        except (OSError, ValueError):
            return False

    def _file_key(self) -> list[int]:
        main = self.path.stat()
        wal = Path(f"{self.path}-wal")
        wal_size = wal.stat().st_size if wal.exists() else 0
        wal_time = wal.stat().st_mtime_ns if wal_size else 0  # an empty log, or none: nothing in it
        return [main.st_size, main.st_mtime_ns, main.st_ino, wal_size, wal_time]

    def check(self) -> str | None:
        """Why the file is not whole (SQLite's check of its pages and tables), or None."""
        try:
            db = self._db()
            problem = db.execute("PRAGMA quick_check").fetchone()[0]
            if problem != "ok":
                return str(problem)
            stats = self.stats()
            if stats.chunks != self._count():
                return f"the statistics count {stats.chunks} chunks where the file holds {self._count()}"
        except sqlite3.Error as exc:
            return f"{type(exc).__name__}: {exc}"
        return None


class _transaction:
    def __init__(self, db: sqlite3.Connection, write: bool = True) -> None:
        self.db, self.write = db, write

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE" if self.write else "BEGIN")
        return self.db

    def __exit__(self, kind: Any, *_: Any) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")


def _encode_sentences(header: int, bodies: list[list[int]], header_ids: list[int]) -> bytes:
    """[header length, header ids..., then per sentence: its length, its ids...] as int32."""
    values = [header, *header_ids]
    for body in bodies:
        values.append(len(body))
        values.extend(body)
    return np.asarray(values, dtype=np.int32).tobytes()


def _decode_sentences(blob: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
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


def _entries(decoded: tuple[np.ndarray, ...] | None) -> int:
    return 0 if decoded is None else len(decoded[0])


def _sentence_df(decoded: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]) -> Counter[int]:
    terms = decoded[0]
    return Counter(terms.tolist())  # (term, sentence) pairs are unique: each counts one sentence


def contents(store: LexicalStore) -> dict[str, Any]:
    """Everything the file says, independent of row numbers and term ids: what two files built from the same
    chunks must agree on, whatever order and history built them (used by the crash and property tests)."""
    db = store._db()
    terms = {int(i): str(t) for i, t in db.execute("SELECT id, term FROM vocabulary")}
    chunks: dict[str, Any] = {}
    row_ids: dict[int, str] = {}
    for row, cid, text, meta, length, token_text, blob in db.execute(
        "SELECT c.row, c.id, b.text, c.meta, c.length, b.terms, b.sentences "
        "FROM chunks c JOIN bodies b ON b.row = c.row"
    ):
        row_ids[int(row)] = cid
        ids, which, tf, lengths = _decode_sentences(blob)
        sentences = sorted((int(s), terms[int(t)], int(n)) for t, s, n in zip(ids, which, tf, strict=True))
        tokens = sorted(terms[int(t)] for t in token_text.split())
        chunks[cid] = (text, json.loads(meta), int(length), tokens, sentences, lengths.tolist())
    postings: dict[str, list[tuple[str, int]]] = {}
    for term, doc, count in db.execute("SELECT term, doc, count(*) FROM chunk_postings GROUP BY term, doc"):
        postings.setdefault(terms[int(term)], []).append((row_ids.get(int(doc), f"missing row {doc}"), int(count)))
    sentence_df = {terms[int(i)]: int(n) for i, n in db.execute("SELECT id, sentence_df FROM vocabulary") if n}
    return {
        "chunks": chunks,
        "postings": {t: sorted(p) for t, p in postings.items()},
        "sentence_df": sentence_df,
        "stats": store.stats(),
    }


def _only(meta: Metadata, keys: Sequence[str]) -> Metadata:
    """Those of the fields that the metadata has, in the order of `keys`."""
    fields: Mapping[str, Any] = meta
    return cast(Metadata, {k: fields[k] for k in keys if k in fields})
