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
import sqlite3
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np

from retrieval.core.types import SYNC_FIELDS, ChunkMeta
from retrieval.storage import provenance, stories
from retrieval.storage.bm25 import (
    SEPARATOR,
    ChunkTerms,
    DamagedIndex,
    LexicalView,
    Stats,
    decode_sentences,
    encode_sentences,
    entries,
    sentence_df_of,
)
from retrieval.storage.lexical_file import STATS_FIELDS, transaction
from retrieval.storage.lexical_queries import LexicalQueries, only_fields

__all__ = ["SEPARATOR", "DamagedIndex", "LexicalStore", "LexicalView", "Row"]

POSTINGS_CACHE_ENTRIES = 8_000_000  # (row, tf) pairs kept in memory across terms: about 64 MB at most
SENTENCE_CACHE_ROWS = 40_000
SENTENCE_CACHE_ENTRIES = 6_000_000  # (sentence, term) entries of those rows: about 75 MB at most (1x: 3M in all)
PASSAGE_CACHE_ROWS = 4_096

Metadata = ChunkMeta


@dataclass(frozen=True)
class Row:
    """A chunk as stored: its id, text, metadata and the lexical text (header + SEPARATOR + text) BM25 sees."""

    id: str
    text: str
    meta: Metadata
    lexical_text: str


class LexicalStore(LexicalQueries):
    """The chunks' rows in the file: read (the view, postings, sentence terms, texts, with bounded caches) and
    written (one transaction a write). Any thread may read; writes are serialised by the caller."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
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

    # ------------------------------------------------------------- reading

    def view(self) -> LexicalView:
        """Every row's id and the columns search filters on (no texts), read in one query."""
        db = self._db()
        with transaction(db, write=False):
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
        publisher = [""] * size
        for row, cid, aid, src, when, sid, link, position, n, n_s, origin, feed in rows:
            ids[row] = cid
            where = {"origin": origin, "feed": feed}
            local[row] = not provenance.outside(where)
            vouched = provenance.publisher(where, src)
            publisher[row] = shared.setdefault(vouched, vouched)
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
            self, ids, length, article, source, published, story, url, index, sentences, stats, generation, local,
            publisher,
        )  # fmt: skip

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
                found[row] = decode_sentences(got[row]) if row in got else None
        if missing:
            with self._lock:
                for row in missing:
                    if row not in self._sentences:
                        self._sentences[row] = found[row]
                        self._sentences_size += entries(found[row])
                while len(self._sentences) > 1 and (
                    len(self._sentences) > SENTENCE_CACHE_ROWS or self._sentences_size > SENTENCE_CACHE_ENTRIES
                ):
                    self._sentences_size -= entries(self._sentences.popitem(last=False)[1])
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

    def story_candidates(self, keys: Sequence[str]) -> dict[str, Metadata]:
        """First chunks (id -> metadata) of the articles sharing an LSH band key with a signature."""
        if not keys:
            return {}
        marks = ",".join("?" * len(keys))
        query = f"SELECT DISTINCT chunk_id FROM story_bands WHERE key IN ({marks})"
        ids = [cid for (cid,) in self._db().execute(query, list(keys))]
        return {cid: meta for cid, (_, meta) in self.rows(ids).items()}

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

    def _write(
        self,
        db: sqlite3.Connection,
        prepared: list[tuple[Row, ChunkTerms]],
        remove: Iterable[str],
        state: dict[str, str | None] | None,
    ) -> None:
        rows = [row for row, _ in prepared]
        with transaction(db):
            change = Stats()
            gone = [*{row.id for row in rows}, *remove]
            for start in range(0, len(gone), 500):
                change = change.plus(self._delete(db, gone[start : start + 500]), -1)
            for row, terms in prepared:
                change = change.plus(self._insert(db, row, terms))
            stats = self.stats().plus(change)
            totals = zip(STATS_FIELDS, stats.astuple(), strict=True)
            self._put(db, {f"stat_{name}": str(value) for name, value in totals})
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
            decoded = decode_sentences(sentences)
            df.update(sentence_df_of(decoded))
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
        blob = encode_sentences(len(header), [[ids[t] for t in s] for s in terms.sentences], header)
        token_text = " ".join(str(ids[t]) for t in terms.tokens)
        meta = row.meta
        cursor = db.execute(
            "INSERT INTO chunks(id, article_id, source, published_at, story_id, url, chunk_index, length, n_sentences, "
            "sync, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (row.id, str(meta.get("article_id") or ""), str(meta.get("source") or ""),
             str(meta.get("published_at") or ""), str(meta.get("story_id") or ""), str(meta.get("url") or ""),
             int(meta.get("index") or 0), len(terms.tokens), len(sentences),
             json.dumps(only_fields(meta, SYNC_FIELDS)), json.dumps(meta)),
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
