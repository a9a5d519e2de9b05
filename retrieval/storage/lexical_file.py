"""The lexical index's SQLite file (WAL) beside Chroma: its schema, connections, small state, the change-log
records it applied, and its integrity (SQLite's page check, and a note of the size and time it was last found
whole). What is stored in it, and how it is read and written, is retrieval/storage/lexical.py."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from retrieval.core.errors import StorageError
from retrieval.storage.bm25 import DamagedIndex, Stats

log = logging.getLogger(__name__)

FORMAT = 4  # bump when the schema or what is stored changes: the file is rebuilt from Chroma

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
# chunks holds what every process reads whole (ids, filter columns, metadata) and bodies what is read a row at a
# time (texts, terms), so reading the first never pages through the second
STATS_FIELDS = ("chunks", "chunk_tokens", "sentences", "sentence_tokens")
# Seconds a statement waits for a lock another connection holds. Readers never wait for a writer here (WAL), and
# writes are one short transaction each; a file that stays locked (damaged under a running process, another
# process stuck in a write) is an error after this, which the API answers with 503, not a minute's wait.
BUSY_WAIT = 10.0
PROBE_WAIT = 1.0  # the same, for the readiness probe


class LexicalFile:
    """The SQLite file: its schema, one connection per thread (WAL), the small state it keeps, which change-log
    records it applied, and whether it is whole. Any thread may read; writes are serialised by the caller (the
    service's write lock) and each is one transaction, so a kill leaves the file as it was before or after it,
    never between."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._lock = threading.Lock()
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
            with transaction(db):
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
        return Stats(*(int(values.get(f"stat_{name}", 0)) for name in STATS_FIELDS))

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
        with transaction(db):
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


class transaction:
    def __init__(self, db: sqlite3.Connection, write: bool = True) -> None:
        self.db, self.write = db, write

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE" if self.write else "BEGIN")
        return self.db

    def __exit__(self, kind: Any, *_: Any) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")
