"""What follows and daily briefs keep in the data directory: one SQLite file (`news.sqlite3`), with migrations.

Tables: the follows (with their topic vectors), the articles already matched against them (`seen`), the matches,
the posts (one per story per follow: pending, posted with its message id, or stale when more outlets carried
the story since), and the daily brief schedules with their outbox.

Crash safety: the matches of a sync's new articles, their posts and the articles' `seen` marks are written in
one transaction, so a crash before it leaves the articles unseen (the next catch-up matches them: a sync that
crashed before posting posts after the repair), and a crash after it leaves pending posts that the face sends
when it starts. A post is marked posted with its message id once the face has sent it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.core.errors import StorageError
from retrieval.core.types import BriefSchedule, Follow, FollowMatch, FollowPost, utc_now
from retrieval.storage import provenance

FILENAME = "news.sqlite3"


def started(data_dir: Path) -> bool:
    """Whether a follow or a daily brief was ever made in this data directory (the file is made by the first)."""
    return (data_dir / FILENAME).exists()


MIGRATIONS = (
    """
    CREATE TABLE follows (
        id TEXT PRIMARY KEY, topic TEXT NOT NULL, kind TEXT NOT NULL, guild_id INTEGER, channel_id INTEGER,
        created_by TEXT, created_at TEXT NOT NULL, vector BLOB, vector_model TEXT
    );
    CREATE UNIQUE INDEX follows_once ON follows (kind, IFNULL(channel_id, 0), lower(topic));
    CREATE TABLE seen (article_id TEXT PRIMARY KEY);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
    CREATE TABLE matches (
        follow_id TEXT NOT NULL REFERENCES follows (id) ON DELETE CASCADE, article_id TEXT NOT NULL,
        story_id TEXT NOT NULL, title TEXT NOT NULL, source TEXT, url TEXT, published_at TEXT,
        sentence TEXT NOT NULL, score REAL NOT NULL, matched_at TEXT NOT NULL, PRIMARY KEY (follow_id, article_id)
    );
    CREATE INDEX matches_by_time ON matches (follow_id, matched_at);
    CREATE TABLE posts (
        follow_id TEXT NOT NULL REFERENCES follows (id) ON DELETE CASCADE, story_id TEXT NOT NULL,
        channel_id INTEGER, message_id INTEGER, title TEXT NOT NULL, sentence TEXT NOT NULL, source TEXT,
        url TEXT, published_at TEXT, outlets TEXT NOT NULL, state TEXT NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (follow_id, story_id)
    );
    CREATE INDEX posts_to_send ON posts (state);
    """,
    """
    CREATE TABLE brief_schedules (
        channel_id INTEGER PRIMARY KEY, guild_id INTEGER, hour INTEGER NOT NULL, timezone TEXT NOT NULL,
        topic TEXT, last_day TEXT
    );
    CREATE TABLE brief_outbox (
        channel_id INTEGER NOT NULL, day TEXT NOT NULL, brief TEXT NOT NULL, posted INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (channel_id, day)
    );
    """,
    # who vouches for each outlet of a post (retrieval.storage.provenance.publisher): one writer's copies under
    # several outlet names are one outlet
    """
    ALTER TABLE posts ADD COLUMN publishers TEXT NOT NULL DEFAULT '[]';
    """,
)


@dataclass(frozen=True)
class Copy:
    """A newly indexed article as a possible further outlet of a posted story."""

    article_id: str
    story_id: str
    source: str | None
    publisher: str  # retrieval.storage.provenance.publisher

    @property
    def shown(self) -> str:
        return provenance.shown(self.source, self.publisher)


def _named(source: str | None) -> str:
    """The publisher key of an article from the operator's files (the outlet it names)."""
    return provenance.publisher({}, source)


_POST_FIELDS = "follow_id, story_id, channel_id, message_id, title, sentence, source, url, published_at, outlets, state"


class NewsFile:
    """The SQLite file; calls are short and serialised (one connection, one lock), safe from any thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._lock = threading.RLock()
            self._migrate()
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the follows file {path}: {exc}") from exc

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> NewsState:
        return NewsState(data_dir / FILENAME)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _migrate(self) -> None:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            self._db.executescript(f"BEGIN IMMEDIATE; {script}; PRAGMA user_version = {number}; COMMIT;")

    @property
    def version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _read(self, sql: str, args: Sequence[object] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            return list(self._db.execute(sql, args).fetchall())


class FollowTables(NewsFile):
    """Follows, what was matched against them, and their posts."""

    def add_follow(self, follow: Follow, vector: np.ndarray, model: str) -> Follow:
        """The new follow, or the one that already follows this topic in that place."""
        same = self._read(
            "SELECT id FROM follows WHERE kind = ? AND IFNULL(channel_id, 0) = ? AND lower(topic) = lower(?)",
            (follow.kind, follow.channel_id or 0, follow.topic),
        )
        if same:
            return self.follow(str(same[0][0])) or follow
        follow = follow.model_copy(update={"id": follow.id or uuid.uuid4().hex[:12]})
        blob = np.asarray(vector, dtype="<f4").tobytes()
        with self._write() as db:
            db.execute(
                "INSERT INTO follows VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (follow.id, follow.topic, follow.kind, follow.guild_id, follow.channel_id, follow.created_by,
                 follow.created_at, blob, model),
            )  # fmt: skip
        return follow

    def remove_follow(self, follow_id: str) -> bool:
        with self._write() as db:
            return db.execute("DELETE FROM follows WHERE id = ?", (follow_id,)).rowcount > 0

    def follow(self, follow_id: str) -> Follow | None:
        found = self.follows(where="id = ?", args=(follow_id,))
        return found[0] if found else None

    def follows(self, where: str = "1", args: Sequence[object] = ()) -> list[Follow]:
        rows = self._read(
            f"SELECT id, topic, kind, guild_id, channel_id, created_by, created_at FROM follows WHERE {where} "
            "ORDER BY created_at, id",
            args,
        )
        keys = ("id", "topic", "kind", "guild_id", "channel_id", "created_by", "created_at")
        return [Follow.model_validate(dict(zip(keys, row, strict=True))) for row in rows]

    def vectors(self, model: str) -> dict[str, np.ndarray]:
        """The follows' topic vectors made by this embedder (a follow made with another one has none here)."""
        rows = self._read("SELECT id, vector FROM follows WHERE vector_model = ?", (model,))
        return {str(fid): np.frombuffer(blob, dtype="<f4") for fid, blob in rows if isinstance(blob, bytes)}

    def set_vector(self, follow_id: str, vector: np.ndarray, model: str) -> None:
        with self._write() as db:
            blob = np.asarray(vector, dtype="<f4").tobytes()
            db.execute("UPDATE follows SET vector = ?, vector_model = ? WHERE id = ?", (blob, model, follow_id))

    # ------------------------------------------------------------- what was matched

    def started(self) -> bool:
        return bool(self._read("SELECT 1 FROM meta WHERE key = 'started'"))

    def unseen(self, article_ids: Iterable[str]) -> set[str]:
        """The articles not matched yet (all of them before the first catch-up: none)."""
        seen = {str(row[0]) for row in self._read("SELECT article_id FROM seen")}
        return {a for a in article_ids if a not in seen}

    def record(self, article_ids: Iterable[str], matches: Sequence[FollowMatch], copies: Sequence[Copy]) -> None:
        """In one transaction: the matches, their posts (new, or more outlets for a posted story), and the
        articles marked seen. `copies`: every new article's, so a later copy of a story a follow has posted
        updates that post even when its own words would not match."""
        by_id = {c.article_id: c for c in copies}
        with self._write() as db:
            db.execute("INSERT OR IGNORE INTO meta VALUES ('started', ?)", (utc_now(),))
            db.executemany("INSERT OR IGNORE INTO seen VALUES (?)", [(a,) for a in article_ids])
            for match in matches:
                db.execute(
                    "INSERT OR IGNORE INTO matches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (match.follow_id, match.article_id, match.story_id, match.title, match.source, match.url,
                     match.published_at, match.sentence, match.score, match.matched_at),
                )  # fmt: skip
                self._post(db, match, by_id.get(match.article_id) or Copy(match.article_id, match.story_id,
                                                                          match.source, _named(match.source)))
            matched = {(m.follow_id, m.article_id) for m in matches}
            for copy in copies:
                posted = db.execute("SELECT follow_id FROM posts WHERE story_id = ?", (copy.story_id,)).fetchall()
                for (follow_id,) in posted:
                    if (follow_id, copy.article_id) not in matched:
                        self._more_outlets(db, str(follow_id), copy)

    @staticmethod
    def _post(db: sqlite3.Connection, match: FollowMatch, copy: Copy) -> None:
        row = db.execute(
            "SELECT p.state, p.outlets, f.kind, f.channel_id FROM follows f LEFT JOIN posts p "
            "ON p.follow_id = f.id AND p.story_id = ? WHERE f.id = ?",
            (match.story_id, match.follow_id),
        ).fetchone()
        if row is None or row[2] != "discord":
            return
        if row[0] is None:
            db.execute(
                f"INSERT INTO posts ({_POST_FIELDS}, publishers, updated_at) "
                "VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
                (match.follow_id, match.story_id, row[3], match.title, match.sentence, copy.shown, match.url,
                 match.published_at, json.dumps([copy.shown]), json.dumps([copy.publisher]), utc_now()),
            )  # fmt: skip
        else:
            FollowTables._more_outlets(db, match.follow_id, copy)

    @staticmethod
    def _more_outlets(db: sqlite3.Connection, follow_id: str, copy: Copy) -> None:
        """Another outlet for a post, unless its publisher is one the post counts already (whatever it is named)."""
        story_id = copy.story_id
        state, outlets, publishers = db.execute(
            "SELECT state, outlets, publishers FROM posts WHERE follow_id = ? AND story_id = ?", (follow_id, story_id)
        ).fetchone()
        names = list(json.loads(outlets))
        vouched = list(json.loads(publishers)) or [_named(n) for n in names]  # a post made before publishers
        name = copy.shown
        if copy.publisher in vouched or name.lower() in {n.lower() for n in names}:
            return
        names.append(name)
        vouched.append(copy.publisher)
        db.execute(
            "UPDATE posts SET outlets = ?, publishers = ?, state = ?, updated_at = ? "
            "WHERE follow_id = ? AND story_id = ?",
            (json.dumps(names), json.dumps(vouched), "stale" if state != "pending" else "pending", utc_now(),
             follow_id, story_id),
        )  # fmt: skip

    def matches(self, follow_id: str, since: str | None = None, limit: int = 100) -> list[FollowMatch]:
        rows = self._read(
            "SELECT follow_id, article_id, story_id, title, source, url, published_at, sentence, score, matched_at "
            "FROM matches WHERE follow_id = ? AND matched_at >= ? ORDER BY matched_at, article_id LIMIT ?",
            (follow_id, since or "", limit),
        )
        keys = ("follow_id", "article_id", "story_id", "title", "source", "url", "published_at", "sentence",
                "score", "matched_at")  # fmt: skip
        return [FollowMatch.model_validate(dict(zip(keys, row, strict=True))) for row in rows]

    # ------------------------------------------------------------- posts

    def posts_to_send(self) -> list[FollowPost]:
        rows = self._read(
            f"SELECT {', '.join('p.' + k.strip() for k in _POST_FIELDS.split(','))}, f.topic "
            "FROM posts p JOIN follows f ON f.id = p.follow_id "
            "WHERE state != 'posted' ORDER BY updated_at, follow_id, story_id"
        )
        keys = [*(k.strip() for k in _POST_FIELDS.split(",")), "topic"]
        out = []
        for row in rows:
            fields = dict(zip(keys, row, strict=True))
            fields["outlets"] = json.loads(str(fields["outlets"]))
            out.append(FollowPost.model_validate(fields))
        return out

    def mark_posted(self, follow_id: str, story_id: str, message_id: int | None, outlets: int) -> None:
        """A post sent (or edited) with this many outlets: posted, unless more came meanwhile."""
        with self._write() as db:
            row = db.execute(
                "SELECT outlets FROM posts WHERE follow_id = ? AND story_id = ?", (follow_id, story_id)
            ).fetchone()
            if row is None:
                return
            state = "posted" if len(json.loads(row[0])) <= outlets else "stale"
            db.execute(
                "UPDATE posts SET state = ?, message_id = COALESCE(?, message_id), updated_at = ? "
                "WHERE follow_id = ? AND story_id = ?",
                (state, message_id, utc_now(), follow_id, story_id),
            )


class NewsState(FollowTables):
    """Follows and daily brief schedules with their outbox."""

    def set_schedule(self, schedule: BriefSchedule) -> None:
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO brief_schedules VALUES (?, ?, ?, ?, ?, ?)",
                (schedule.channel_id, schedule.guild_id, schedule.hour, schedule.timezone, schedule.topic,
                 schedule.last_day),
            )  # fmt: skip

    def remove_schedule(self, channel_id: int) -> bool:
        with self._write() as db:
            return db.execute("DELETE FROM brief_schedules WHERE channel_id = ?", (channel_id,)).rowcount > 0

    def schedules(self) -> list[BriefSchedule]:
        rows = self._read("SELECT channel_id, guild_id, hour, timezone, topic, last_day FROM brief_schedules")
        keys = ("channel_id", "guild_id", "hour", "timezone", "topic", "last_day")
        return [BriefSchedule.model_validate(dict(zip(keys, row, strict=True))) for row in rows]

    def queue_brief(self, channel_id: int, day: str, brief_json: str) -> None:
        """A daily brief due for a channel, and the schedule's day moved on, in one transaction."""
        with self._write() as db:
            db.execute("INSERT OR IGNORE INTO brief_outbox VALUES (?, ?, ?, 0)", (channel_id, day, brief_json))
            db.execute("UPDATE brief_schedules SET last_day = ? WHERE channel_id = ?", (day, channel_id))

    def briefs_to_send(self) -> list[tuple[int, str, str]]:
        return [
            (int(str(c)), str(d), str(b))
            for c, d, b in self._read("SELECT channel_id, day, brief FROM brief_outbox WHERE posted = 0 ORDER BY day")
        ]

    def mark_brief_sent(self, channel_id: int, day: str) -> None:
        with self._write() as db:
            db.execute("UPDATE brief_outbox SET posted = 1 WHERE channel_id = ? AND day = ?", (channel_id, day))
