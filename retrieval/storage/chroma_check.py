"""Damaged embedded-Chroma files are found before Chroma reads them, because some of them crash the process.

Chroma's HNSW reader trusts its files: a garbled `data_level0.bin` ends the process with a segmentation
fault on the first search, which no `except` can catch. Two checks run before the store is opened, and only
when the HNSW files changed since the last check that passed (their sizes and times are noted in
DATA_DIR/.chroma-verified.json), so an unchanged index costs a few `stat` calls:

1. the HNSW files are read as the arrays they are (numpy, no Chroma): the header's sizes agree with each other
   and with the files, every neighbour id points at a vector that exists, every link count is within bounds.
   This names the damaged file. About 10 ms per 10,000 vectors;
2. a child process opens the store and runs one query, as the real process will; if it dies (a signal) or
   fails, the store is reported damaged instead of crashing the caller. This catches what (1) does not know
   about (another HNSW format after a Chroma upgrade, damage elsewhere); it costs about 1.5 s, most of it
   importing chromadb, and runs while the caller loads the embedding model.

`python -m retrieval.storage.chroma_check CHROMA_DIR COLLECTION` is that child.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np

from retrieval.core.errors import IndexDamaged

log = logging.getLogger(__name__)

MARKER = ".chroma-verified.json"
CHECK_VERSION = 1
CHILD_TIMEOUT = 300.0
# Chroma's persisted hnswlib header (version 1): version, offsetLevel0, max_elements, cur_element_count,
# size_data_per_element, label_offset, offsetData, maxlevel, enterpoint_node, maxM, maxM0, M, mult, ef_construction
_HEADER = struct.Struct("<IQQQQQQiIQQQdQ")
_SQLITE_DAMAGE = ("malformed", "not a database", "file is encrypted", "disk image")
_HNSW_DAMAGE = ("hnsw", "pickle", "error getting embedding", "segment reader")


def rebuild_advice(data_dir: Path, corpus_dir: Path | None) -> str:
    corpus = str(corpus_dir) if corpus_dir is not None else "CORPUS_FOLDER"
    return (
        f"The corpus is the source of truth: delete {data_dir} (or move it aside) and rebuild the index with "
        f"`newsdesk ingest {corpus} --prune`"
    )


def damaged(path: Path, why: str, data_dir: Path, corpus_dir: Path | None) -> IndexDamaged:
    what = f"the Chroma index files in {path} are" if path.is_dir() else f"the Chroma index file {path} is"
    return IndexDamaged(f"{what} damaged ({why}). {rebuild_advice(data_dir, corpus_dir)}")


def damage_in(text: str, chroma_dir: Path, folder: Path | None) -> Path | None:
    """Which file an error text from Chroma points at, when it is one of damage."""
    lowered = text.lower()
    if any(word in lowered for word in _SQLITE_DAMAGE):
        return chroma_dir / "chroma.sqlite3"
    if any(word in lowered for word in _HNSW_DAMAGE):
        return folder or chroma_dir
    return None


# ------------------------------------------------------------------ the HNSW files, read as arrays


def hnsw_trouble(folder: Path) -> tuple[str, str] | None:
    """(file name, what is wrong) for the first damaged HNSW file in a segment folder, or None. A header of a
    format this does not know is not judged (the child process still is)."""
    header_file = folder / "header.bin"
    raw = header_file.read_bytes()
    if len(raw) != _HEADER.size:
        return ("header.bin", f"{len(raw)} bytes where {_HEADER.size} were written")
    fields = _HEADER.unpack(raw)
    version, offset0, max_elements, count, size, label_offset, offset_data, max_level, entry = fields[:9]
    max_m, max_m0, m = fields[9:12]
    if version != 1:
        log.info("HNSW header version %d in %s: not checked here", version, folder)
        return None
    links0 = 4 + 4 * max_m0
    sane = (
        offset0 == 0 and 0 < m <= max_m <= 4096 and max_m0 <= 8192 and count <= max_elements
        and offset_data == links0 and label_offset == size - 8 and (size - links0 - 8) % 4 == 0
        and size > links0 + 8 and -1 <= max_level < 64 and (count == 0 or (entry < count and max_level >= 0))
    )  # fmt: skip
    if not sane:
        return ("header.bin", "its sizes do not agree with each other")
    level0 = folder / "data_level0.bin"
    if level0.stat().st_size < count * size:
        return ("data_level0.bin", f"{level0.stat().st_size:,} bytes for {count:,} vectors of {size:,}")
    if count:
        rows = np.memmap(level0, dtype=np.uint8, mode="r", shape=(count, size))
        trouble = _links_trouble(rows[:, :links0], max_m0, count)
        if trouble:
            return ("data_level0.bin", trouble)
    return _upper_levels_trouble(folder, count, max_m, max_level)


def _links_trouble(blocks: np.ndarray, limit: int, count: int) -> str | None:
    """blocks: one row of bytes per link list (a count, then `limit` neighbour ids), all little-endian uint32."""
    words = np.ascontiguousarray(blocks).view("<u4")
    sizes = words[:, 0] & 0xFFFF  # hnswlib keeps the count in the low 16 bits (a deleted flag above them)
    if np.any(sizes > limit):
        return f"a link count over {limit}"
    used = np.arange(limit) < sizes[:, None]
    if np.any(words[:, 1:][used] >= count):
        return f"a neighbour id past the {count:,} vectors"
    return None


def _upper_levels_trouble(folder: Path, count: int, max_m: int, max_level: int) -> tuple[str, str] | None:
    """length.bin: one float per vector (its norm); link_lists.bin: per vector, a byte size, then that many bytes
    of link lists for the levels above 0 (a count and `max_m` neighbour ids each)."""
    norms_file, lists_file = folder / "length.bin", folder / "link_lists.bin"
    if norms_file.exists():
        norms = np.fromfile(norms_file, dtype="<f4")
        if len(norms) < count or not np.all(np.isfinite(norms[:count])) or np.any(norms[:count] < 0):
            return ("length.bin", "a vector length that is not a number")
    if not lists_file.exists():
        return None
    block = 4 + 4 * max_m
    data = lists_file.read_bytes()
    starts: list[int] = []
    position = 0
    for _ in range(count):
        if position + 4 > len(data):
            return ("link_lists.bin", "shorter than the link lists it lists")
        (size,) = struct.unpack_from("<I", data, position)
        if size % block or size // block > max_level or position + 4 + size > len(data):
            return ("link_lists.bin", "a link list size that no level gives")
        starts.extend(range(position + 4, position + 4 + size, block))
        position += 4 + size
    if starts:
        raw = np.frombuffer(data, dtype=np.uint8)
        trouble = _links_trouble(raw[np.asarray(starts)[:, None] + np.arange(block)], max_m, count)
        if trouble:
            return ("link_lists.bin", trouble)
    return None


# ------------------------------------------------------------------ the check before opening


class StoreCheck:
    """start() before the embedding model loads, finish() before the store is opened; either raises IndexDamaged."""

    def __init__(self, data_dir: Path, collection: str, corpus_dir: Path | None = None) -> None:
        self.data_dir = data_dir
        self.chroma_dir = data_dir / "chroma"
        self.collection = collection
        self.corpus_dir = corpus_dir
        self.child: subprocess.Popen[str] | None = None
        self.key: list[list[object]] = []
        self.verified = False  # the files this process opened passed the check (now or at an earlier one)

    def start(self) -> StoreCheck:
        try:
            return self._start()
        except OSError as exc:  # unreadable files: opening the store reports them
            log.warning("could not check the Chroma files in %s (%s)", self.chroma_dir, exc)
            return self

    def _start(self) -> StoreCheck:
        if not (self.chroma_dir / "chroma.sqlite3").exists():
            return self  # nothing indexed yet
        self.key = self._files_key()
        if self._verified() == self.key:
            self.verified = True
            return self
        folder = self._folder()
        for segment in [folder] if folder is not None else self._hnsw_folders():
            found = hnsw_trouble(segment) if (segment / "header.bin").exists() else None
            if found is not None:
                raise damaged(segment / found[0], found[1], self.data_dir, self.corpus_dir)
        if _open_here(self.chroma_dir):
            return self  # this process reads these files already; a second process must not open them beside it
        self.child = subprocess.Popen(
            [sys.executable, "-m", "retrieval.storage.chroma_check", str(self.chroma_dir), self.collection],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
        return self

    def finish(self) -> None:
        if self.child is None:
            return
        try:
            out, _ = self.child.communicate(timeout=CHILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.child.kill()
            self.child.wait()
            log.warning("checking the Chroma index in a child process took over %.0fs; not checked", CHILD_TIMEOUT)
            return
        lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        last = lines[-1] if lines else {}
        folder = Path(last["folder"]) if last.get("folder") else None
        code = self.child.returncode
        if code < 0:
            name = signal.Signals(-code).name
            where = folder or self.chroma_dir
            raise damaged(where, f"reading it crashed a test process with {name}", self.data_dir, self.corpus_dir)
        if code != 0:
            error = str(last.get("error", f"exit status {code}"))
            path = damage_in(error, self.chroma_dir, folder)
            if path is not None:
                raise damaged(path, error, self.data_dir, self.corpus_dir)
            if "readonly" in error.lower() or "read-only" in error.lower():
                log.info("the Chroma index was not opened in a child process: its folder is read-only")
                return
            log.warning("could not check the Chroma index in a child process (%s); opening it anyway", error)
            return
        self._write_verified()

    # ------------------------------------------------------------- which files, and when they were last good

    def _hnsw_folders(self) -> list[Path]:
        return sorted(p for p in self.chroma_dir.iterdir() if p.is_dir() and (p / "header.bin").exists())

    def _folder(self) -> Path | None:
        """The collection's HNSW folder, from Chroma's own catalogue (None when it cannot be read here)."""
        try:
            return vector_folder(self.chroma_dir, self.collection)
        except sqlite3.Error as exc:
            path = damage_in(str(exc), self.chroma_dir, None)
            if path is not None:
                raise damaged(path, str(exc), self.data_dir, self.corpus_dir) from exc
            return None

    def _files_key(self) -> list[list[object]]:
        """Size and modification time of every HNSW file (chroma.sqlite3 changes at every open: not in it)."""
        key: list[list[object]] = []
        for folder in self._hnsw_folders():
            for path in sorted(folder.iterdir()):
                stat = path.stat()
                key.append([f"{folder.name}/{path.name}", stat.st_size, stat.st_mtime_ns])
        return key

    def note_written(self) -> None:
        """After this process changed the files through Chroma (a committed sync): files it opened checked and
        Chroma itself then wrote are noted as good, so the next process does not open them in a child again
        (that child reads the whole HNSW index: about a second at 10x). Damage after this changes their size
        or time, which the next start notices."""
        if self.verified:
            self._write_verified()

    def _verified(self) -> list[list[object]] | None:
        try:
            data = json.loads((self.data_dir / MARKER).read_text())
            return data["files"] if data.get("version") == CHECK_VERSION else None
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write_verified(self) -> None:
        try:
            key = self._files_key()  # the child's open may have compacted the log into the files
            (self.data_dir / MARKER).write_text(json.dumps({"version": CHECK_VERSION, "files": key}))
            self.verified = True
        except OSError as exc:  # a read-only data directory: the check runs again next time
            log.info("could not note the Chroma check in %s (%s)", self.data_dir, exc)


def _open_here(chroma_dir: Path) -> bool:
    """Whether this process has the embedded store open (a second service on the same folder, as tests build)."""
    from chromadb.api.shared_system_client import SharedSystemClient

    return str(chroma_dir) in SharedSystemClient._identifier_to_system


def vector_folder(chroma_dir: Path, collection: str) -> Path | None:
    """The HNSW segment folder of a collection, read from chroma.sqlite3 without Chroma (read-only)."""
    uri = f"file:{chroma_dir / 'chroma.sqlite3'}?mode=ro"
    with sqlite3.connect(uri, uri=True, timeout=5) as db:
        row = db.execute(
            "SELECT s.id FROM segments s JOIN collections c ON s.collection = c.id "
            "WHERE c.name = ? AND s.scope = 'VECTOR'",
            (collection,),
        ).fetchone()
    return chroma_dir / str(row[0]) if row else None


# ------------------------------------------------------------------ the child


def _probe(chroma_dir: Path, collection: str) -> None:
    """Open the store and run one query over the collection's vectors, as a search will."""
    folder = None
    try:
        folder = vector_folder(chroma_dir, collection)
        with sqlite3.connect(f"file:{chroma_dir / 'chroma.sqlite3'}?mode=ro", uri=True, timeout=5) as db:
            row = db.execute("SELECT dimension FROM collections WHERE name = ?", (collection,)).fetchone()
        print(json.dumps({"folder": str(folder) if folder else None}), flush=True)  # what a crash is about
        import chromadb
        from chromadb.config import Settings

        client = chromadb.PersistentClient(path=str(chroma_dir), settings=Settings(anonymized_telemetry=False))
        names = {c.name for c in client.list_collections()}
        if collection not in names or not row or not row[0]:
            return
        store = client.get_collection(collection)
        count = store.count()
        if count:
            dim = int(row[0])
            probe = np.full((1, dim), dim**-0.5, dtype=np.float32)
            store.query(query_embeddings=probe, n_results=min(count, 10), include=["distances"])
    except Exception as exc:  # noqa: BLE001 - the parent judges the text
        print(json.dumps({"folder": str(folder) if folder else None, "error": f"{type(exc).__name__}: {exc}"}))
        sys.exit(3)
    print(json.dumps({"ok": True}), flush=True)


if __name__ == "__main__":
    _probe(Path(sys.argv[1]), sys.argv[2])
