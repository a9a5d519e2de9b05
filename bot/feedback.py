"""What the Discord bot answered, the 👍/👎 votes on it, and the threads that hold conversations (SQLite).

One small SQLite file under the data dir. Calls are short and synchronous; the bot runs them in a worker
thread so the event loop never waits on the disk.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from retrieval.core.errors import StorageError
from retrieval.core.types import Answer, Citation, Turn

log = logging.getLogger(__name__)

FILENAME = "feedback.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    user_id INTEGER,
    guild_id INTEGER,
    channel_id INTEGER,
    thread_id INTEGER,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    mode TEXT NOT NULL,
    citations TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_by_thread ON answers (thread_id, created_at);
CREATE TABLE IF NOT EXISTS votes (
    answer_id TEXT NOT NULL REFERENCES answers (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL,
    vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    voted_at TEXT NOT NULL,
    PRIMARY KEY (answer_id, user_id)
);
CREATE TABLE IF NOT EXISTS conversations (
    thread_id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    user_id INTEGER,
    question TEXT NOT NULL
);
"""


class Where(BaseModel):
    """Who asked, and where on Discord."""

    user_id: int | None = None
    guild_id: int | None = None
    channel_id: int | None = None
    thread_id: int | None = None  # set when the answer belongs to a conversation thread


class FeedbackCounts(BaseModel):
    answers: int = 0
    up: int = 0
    down: int = 0


class RecordedAnswer(BaseModel):
    id: str
    created_at: str
    where: Where
    question: str
    answer: str
    abstained: bool
    mode: str
    citations: list[Citation]
    up: int = 0
    down: int = 0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class FeedbackStore:
    """Thread-safe: one connection, used under a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(
                f"cannot open the feedback log {path}: {exc}; make NEWSDESK_DATA_DIR writable or point it elsewhere"
            ) from exc
        self._lock = threading.Lock()

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> FeedbackStore:
        return cls(data_dir / FILENAME)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StorageError(f"the feedback log {self.path} cannot be written: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # ------------------------------------------------------------- answers and votes

    def record_answer(self, question: str, answer: Answer, where: Where) -> str:
        """Store an answer as it was shown; returns its id (what the feedback buttons carry)."""
        answer_id = uuid.uuid4().hex
        citations = json.dumps([c.model_dump() for c in answer.citations], ensure_ascii=False)
        with self._transaction() as db:
            db.execute(
                "INSERT INTO answers (id, created_at, user_id, guild_id, channel_id, thread_id, question, answer,"
                " abstained, mode, citations) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (answer_id, _now(), where.user_id, where.guild_id, where.channel_id, where.thread_id, question,
                 answer.answer, int(answer.abstained), answer.mode, citations),
            )  # fmt: skip
        return answer_id

    def vote(self, answer_id: str, user_id: int, up: bool) -> bool:
        """Record (or change) one user's vote on an answer; False when the answer is not in the log."""
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone() is None:
                return False
            db.execute(
                "INSERT INTO votes (answer_id, user_id, vote, voted_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (answer_id, user_id) DO UPDATE SET vote = excluded.vote, voted_at = excluded.voted_at",
                (answer_id, user_id, 1 if up else -1, _now()),
            )
        return True

    def counts(self) -> FeedbackCounts:
        with self._lock:
            answers = self._conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
            up, down = self._conn.execute(
                "SELECT COALESCE(SUM(vote = 1), 0), COALESCE(SUM(vote = -1), 0) FROM votes"
            ).fetchone()
        return FeedbackCounts(answers=answers, up=up, down=down)

    def get(self, answer_id: str) -> RecordedAnswer | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT id, created_at, user_id, guild_id, channel_id, thread_id, question, answer, abstained, mode,"
                " citations, (SELECT COUNT(*) FROM votes WHERE answer_id = a.id AND vote = 1),"
                " (SELECT COUNT(*) FROM votes WHERE answer_id = a.id AND vote = -1) FROM answers a WHERE id = ?",
                (answer_id,),
            ).fetchone()
        if row is None:
            return None
        return RecordedAnswer(
            id=row[0],
            created_at=row[1],
            where=Where(user_id=row[2], guild_id=row[3], channel_id=row[4], thread_id=row[5]),
            question=row[6],
            answer=row[7],
            abstained=bool(row[8]),
            mode=row[9],
            citations=[Citation(**c) for c in json.loads(row[10])],
            up=row[11],
            down=row[12],
        )

    # ------------------------------------------------------------- conversations

    def start_conversation(self, thread_id: int, user_id: int | None, question: str) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO conversations (thread_id, created_at, user_id, question) VALUES (?, ?, ?, ?)",
                (thread_id, _now(), user_id, question),
            )

    def is_conversation(self, thread_id: int) -> bool:
        with self._lock:
            row = self._conn.execute("SELECT 1 FROM conversations WHERE thread_id = ?", (thread_id,)).fetchone()
        return row is not None

    def history(self, thread_id: int, max_turns: int = 8) -> list[Turn]:
        """The last exchanges of a conversation thread, oldest first, as user/assistant turns."""
        exchanges = max(1, max_turns // 2)
        with self._lock:
            rows = self._conn.execute(
                "SELECT question, answer FROM answers WHERE thread_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?",
                (thread_id, exchanges),
            ).fetchall()
        turns: list[Turn] = []
        for question, answer in reversed(rows):
            turns += [Turn(role="user", content=question), Turn(role="assistant", content=answer)]
        return turns
