"""Vectors of the answer sentences, computed ahead of the questions.

The extractive answerer scores a shortlist of passage sentences by meaning, and embedding them was most of
an answer's CPU (about 50 of 90 ms on one core). Those sentences all come from indexed chunks, so they can
be embedded before anyone asks: after each sync a background thread (lowest CPU priority, its own model
session) embeds the sentence openings of the new chunks into this store, and the answerer looks here before
it embeds anything. A vector is keyed on the exact text the answerer would embed, so an answer is the same
whether its vectors come from here, from memory, or from the model; only its cost differs.

On disk, beside the index: segments of sorted 64-bit text hashes (read into memory, 8 bytes a sentence)
and float32 vectors (memory-mapped, so only the rows a question touches are read). The store is a cache: a
missing or unreadable segment is dropped and its sentences are embedded again; compaction drops the
sentences of chunks no longer indexed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)

CHUNKS_PER_SEGMENT = 500  # chunks whose sentences are embedded and written together (~3,300 sentences)
LOOK_EVERY_SECONDS = 60.0
MAX_SEGMENTS = 256  # more than this and the next fill compacts them into one (and drops removed chunks')


def text_key(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


@dataclass(frozen=True)
class _Segment:
    name: str
    keys: np.ndarray  # uint64, sorted
    vectors: np.ndarray  # float32 [len(keys), dim], memory-mapped


@dataclass(frozen=True)
class _Lookup:
    """Every segment's keys in one sorted array, with where each key's vector is: one search per lookup."""

    segments: tuple[_Segment, ...]
    keys: np.ndarray  # uint64, sorted, distinct
    segment: np.ndarray  # index into segments
    row: np.ndarray  # row in that segment's vectors

    @classmethod
    def of(cls, segments: tuple[_Segment, ...]) -> _Lookup:
        if not segments:
            empty = np.zeros(0, dtype=np.int64)
            return cls(segments, np.zeros(0, dtype=np.uint64), empty, empty)
        keys = np.concatenate([s.keys for s in segments])
        segment = np.concatenate([np.full(len(s.keys), n, dtype=np.int32) for n, s in enumerate(segments)])
        row = np.concatenate([np.arange(len(s.keys), dtype=np.int64) for s in segments])
        keys, first = np.unique(keys, return_index=True)  # a text stored twice: its oldest vector
        return cls(segments, keys, segment[first], row[first])


class SentenceVectors:
    """Sentence vectors on disk, looked up by exact text. Thread-safe: one writer (the filler), many readers."""

    def __init__(self, directory: Path, model: str, dim: int) -> None:
        self.directory, self.model, self.dim = directory, model, dim
        self._lookup = _Lookup.of(())  # replaced whole (copy-on-write), never changed in place
        self._write_lock = threading.Lock()
        self._open()

    def __len__(self) -> int:
        return len(self._lookup.keys)

    def _open(self) -> None:
        meta = self.directory / "meta.json"
        wanted = {"model": self.model, "dim": self.dim}
        try:
            if meta.exists() and json.loads(meta.read_text()) != wanted:
                log.info("sentence vectors in %s are for another model: starting again", self.directory)
                shutil.rmtree(self.directory)
        except (OSError, ValueError):
            shutil.rmtree(self.directory, ignore_errors=True)
        self.directory.mkdir(parents=True, exist_ok=True)
        meta.write_text(json.dumps(wanted))
        for leftover in self.directory.iterdir():  # half-written files of a write that was cut short
            complete = (self.directory / leftover.name.replace(".vectors.npy", ".keys.npy")).exists()
            if leftover.name.startswith(".") or (leftover.name.endswith(".vectors.npy") and not complete):
                leftover.unlink(missing_ok=True)
        segments = []
        for keys_path in sorted(self.directory.glob("[!.]*.keys.npy")):
            name = keys_path.name.removesuffix(".keys.npy")
            try:
                segments.append(self._open_segment(name))
            except (OSError, ValueError) as exc:
                log.warning("dropping unreadable sentence-vector segment %s (%s); it will be re-embedded", name, exc)
                self._delete(name)
        self._swap(tuple(segments))

    def _swap(self, segments: tuple[_Segment, ...]) -> None:
        self._lookup = _Lookup.of(segments)  # readers take _lookup once: it holds its segments

    def get(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of those texts that have one."""
        lookup = self._lookup
        if not len(lookup.keys) or not texts:
            return {}
        keys = np.array([text_key(t) for t in texts], dtype=np.uint64)
        at = np.minimum(np.searchsorted(lookup.keys, keys), len(lookup.keys) - 1)
        found: dict[str, np.ndarray] = {}
        for i in np.flatnonzero(lookup.keys[at] == keys).tolist():
            segment = lookup.segments[lookup.segment[at[i]]]
            found[texts[i]] = np.array(segment.vectors[lookup.row[at[i]]], dtype=np.float32)
        return found

    def missing(self, texts: Iterable[str]) -> list[str]:
        """Those texts (distinct, in order) that have no stored vector."""
        unique = list(dict.fromkeys(texts))
        if not unique:
            return []
        keys = np.array([text_key(t) for t in unique], dtype=np.uint64)
        stored = np.isin(keys, self._lookup.keys)
        return [t for t, have in zip(unique, stored, strict=True) if not have]

    def add(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Store one new segment (written to a temporary name, then renamed: a crash leaves no half segment)."""
        if not len(texts):
            return
        keys = np.array([text_key(t) for t in texts], dtype=np.uint64)
        keys, first = np.unique(keys, return_index=True)
        rows = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32)[first])
        with self._write_lock:
            segment = self._write(self._new_name(), keys, rows)
            self._swap((*self._lookup.segments, segment))

    def compact(self, keep: Iterable[str] | None = None) -> None:
        """Merge every segment into one; with `keep`, only the vectors of those texts stay."""
        with self._write_lock:
            lookup = self._lookup
            if not lookup.segments:
                return
            chosen = np.ones(len(lookup.keys), dtype=bool)
            if keep is not None:
                chosen = np.isin(lookup.keys, np.array([text_key(t) for t in keep], dtype=np.uint64))
            name = self._new_name()
            if chosen.any():
                tmp = self.directory / f".{name}.vectors.npy"
                rows = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(int(chosen.sum()), self.dim))
                positions = np.flatnonzero(chosen)
                for n, segment in enumerate(lookup.segments):  # segment by segment: sequential reads
                    mine = lookup.segment[positions] == n
                    rows[np.flatnonzero(mine)] = segment.vectors[lookup.row[positions[mine]]]
                rows.flush()
                del rows
                os.replace(tmp, self.directory / f"{name}.vectors.npy")
                self._save(f"{name}.keys.npy", lookup.keys[chosen])
                self._swap((self._open_segment(name),))
            else:
                self._swap(())
            for segment in lookup.segments:  # readers still holding the old lookup keep their mappings (POSIX)
                self._delete(segment.name)

    @staticmethod
    def _new_name() -> str:
        return f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"  # sorts by age; unique across processes

    def _write(self, name: str, keys: np.ndarray, rows: np.ndarray) -> _Segment:
        self._save(f"{name}.vectors.npy", rows)
        self._save(f"{name}.keys.npy", keys)  # last: a segment without keys does not exist
        return self._open_segment(name)

    def _save(self, filename: str, array: np.ndarray) -> None:
        """Written under a temporary name, then renamed into place: a crash leaves no half file."""
        tmp = self.directory / f".{filename}"
        with tmp.open("wb") as f:
            np.save(f, array)
        os.replace(tmp, self.directory / filename)

    def _open_segment(self, name: str) -> _Segment:
        keys = np.load(self.directory / f"{name}.keys.npy")
        vectors = np.load(self.directory / f"{name}.vectors.npy", mmap_mode="r")
        if keys.dtype != np.uint64 or vectors.shape != (len(keys), self.dim):
            raise ValueError(f"keys {keys.shape} and vectors {vectors.shape} do not match")
        return _Segment(name, keys, vectors)

    def _delete(self, name: str) -> None:
        for suffix in (".keys.npy", ".vectors.npy"):
            (self.directory / f"{name}{suffix}").unlink(missing_ok=True)

    @property
    def segments(self) -> int:
        return len(self._lookup.segments)


class Prepared(Protocol):
    """What a SentenceFiller fills: SentenceVectors, or the sentences' facts (retrieval/answer/facts.py: FactStore)."""

    @property
    def segments(self) -> int: ...

    def __len__(self) -> int: ...

    def missing(self, texts: Iterable[str]) -> list[str]: ...

    def add(self, texts: Sequence[str], values: Any) -> None: ...

    def compact(self, keep: Iterable[str] | None = None) -> None: ...


class SentenceFiller:
    """The background thread that keeps SentenceVectors (or another Prepared store) in step with the index.

    `wake()` after a sync (it also looks by itself every minute); it then embeds, at the lowest CPU priority,
    the sentence openings of chunks it has not seen yet, writing a segment every CHUNKS_PER_SEGMENT chunks.
    """

    def __init__(
        self,
        store: Prepared,
        chunk_texts: Callable[[], Mapping[str, str]],
        sentences_of: Callable[[str], list[str]],
        embed: Callable[[list[str]], Any],
        work: str = "embedded",  # what `embed` does, for the logs and the thread's name
    ) -> None:
        self.store, self.chunk_texts, self.sentences_of, self.embed = store, chunk_texts, sentences_of, embed
        self.work = work
        self.done: set[str] = set()  # chunk ids whose sentences are all stored
        self.pending = 0  # sentences still to embed in the current pass
        self._wake, self._stop, self._idle = threading.Event(), threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"sentences-{work}", daemon=True)

    def start(self) -> None:
        self._wake.set()
        self._thread.start()

    def wake(self) -> None:
        self._idle.clear()
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def filling(self) -> bool:
        return self._thread.is_alive() and not self._idle.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every indexed chunk's sentences are stored (True), or the timeout passes (False)."""
        return self._idle.wait(timeout)

    def _loop(self) -> None:
        _lowest_priority()
        while not self._stop.is_set():
            # a sync wakes it; the periodic look also catches chunks another replica added to a shared Chroma
            self._wake.wait(timeout=LOOK_EVERY_SECONDS)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self.fill_once()
            except Exception:  # a cache: never take the service down; the next wake tries again
                log.exception("preparing the answer sentences (%s) failed; answers do it meanwhile", self.work)
            if not self._wake.is_set():
                self._idle.set()

    def fill_once(self) -> int:
        """Embed and store the sentences of chunks not seen yet; returns how many vectors were added."""
        texts = self.chunk_texts()
        new = [chunk_id for chunk_id in texts if chunk_id not in self.done]
        if not new:
            return 0
        self._idle.clear()
        started, added = time.perf_counter(), 0
        log.info("answer sentences of %d new chunks to be %s in the background", len(new), self.work)
        # a slice of chunks at a time: little memory held, and a restart loses at most one slice's work
        for at in range(0, len(new), CHUNKS_PER_SEGMENT):
            if self._stop.is_set():
                return added
            part = new[at : at + CHUNKS_PER_SEGMENT]
            todo = self.store.missing(s for chunk_id in part for s in self.sentences_of(texts[chunk_id]))
            self.pending = (len(new) - at) * max(len(todo), 1) // len(part)  # an estimate, for /v1/stats
            if todo:
                self.store.add(todo, self.embed(todo))
                added += len(todo)
            self.done.update(part)
        self.pending = 0
        self.done.intersection_update(texts)
        if self.store.segments > MAX_SEGMENTS:
            self.store.compact(keep=(s for text in self.chunk_texts().values() for s in self.sentences_of(text)))
        log.info("%d answer sentences %s in %.0f s (%d stored)", added, self.work, time.perf_counter() - started,
                 len(self.store))  # fmt: skip
        return added


def _lowest_priority() -> None:
    """Serving comes first: on Linux, niceness is per thread, and the model runs on this thread."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):  # not Linux, or not allowed: run at normal priority
        pass


__all__ = ["Prepared", "SentenceFiller", "SentenceVectors", "text_key"]
