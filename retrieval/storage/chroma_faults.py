"""Chroma's failures turned into the engine's errors, and the disk-fault policy: a full or read-only disk is
StorageError (HTTP 507) on either side, a lost server IndexUnavailable (503), a damaged file IndexDamaged; writes
are refused before Chroma sees them when the disk has no room, and a write that hangs the process ends it."""

from __future__ import annotations

import faulthandler
import logging
import os
import shutil
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from retrieval.core.errors import EmbedderMismatch, IndexDamaged, IndexUnavailable, StorageError
from retrieval.storage.chroma_check import damage_in, damaged

log = logging.getLogger(__name__)

MIN_FREE_BYTES = 16 * 1024 * 1024
BYTES_PER_CHUNK = 32 * 1024  # room kept per chunk written (Chroma used about 13 kB per chunk, 16x its text)
WEDGED_WRITE_SECONDS = 600.0  # one embedded Chroma write longer than this has hung the process: exit
# what storage failures look like when they come back as text (sqlite, the Rust backend, the server)
_STORAGE_WORDS = ("disk is full", "no space left", "disk full", "read-only", "readonly", "quota exceeded")


def describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def is_storage_failure(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, OSError) or any(word in text for word in _STORAGE_WORDS)


def storage_trouble(folder: Path, need_bytes: int = MIN_FREE_BYTES) -> str | None:
    """Why `folder` cannot take more writes (full, read-only), or None when it can.

    Embedded Chroma reports a full disk as a vague "Error in compaction"; this is how we tell."""
    try:
        free = shutil.disk_usage(folder).free
        if free < need_bytes:
            return f"only {free // 1024:,} KiB free where {need_bytes // 1024:,} KiB are kept for a write"
        probe = folder / f".space-probe-{uuid.uuid4().hex[:8]}"  # one per call: writers may check at once
        try:
            with probe.open("wb") as handle:
                handle.write(b"\0" * 65536)
                handle.flush()
                os.fsync(handle.fileno())
        finally:
            probe.unlink(missing_ok=True)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


@contextmanager
def chroma_errors(action: str, where: str = "the Chroma index", folder: Path | None = None) -> Iterator[None]:
    """Turn whatever chromadb raises into the engine's errors, each saying what to do next.

    `folder` is the embedded store's directory: a failure there is checked against the disk."""
    try:
        yield
    except (IndexUnavailable, IndexDamaged, StorageError, EmbedderMismatch):
        raise
    except httpx.TimeoutException as exc:
        raise IndexUnavailable(
            f"{where} did not answer in time while trying to {action} ({describe(exc)}); "
            "check that the Chroma server is running and not overloaded, then retry"
        ) from exc
    except httpx.TransportError as exc:
        raise IndexUnavailable(
            f"{where} is unreachable while trying to {action} ({describe(exc)}); start the Chroma server "
            "again (Newsdesk reconnects by itself) and retry"
        ) from exc
    except Exception as exc:  # chromadb raises many types (InternalError, plain Exception for HTTP 5xx, ...)
        damaged_file = damage_in(str(exc), folder, None) if folder is not None else None
        if damaged_file is not None and folder is not None:
            raise damaged(damaged_file, describe(exc), folder.parent, None) from exc
        trouble = storage_trouble(folder) if folder is not None else None
        if trouble or is_storage_failure(exc):
            raise StorageError(
                f"Chroma could not {action}: the disk under {where} is full or read-only "
                f"({trouble or describe(exc)}); free some space or make the data directory writable, "
                "then run the ingest again (it completes what this run left half-done)"
            ) from exc
        name = type(exc).__name__
        if "Connect" in name or "Timeout" in name:
            raise IndexUnavailable(f"{where} is unreachable while trying to {action}: {describe(exc)}") from exc
        raise


_watch_lock = threading.Lock()
_watching = 0


@contextmanager
def hang_watchdog() -> Iterator[None]:
    """Embedded Chroma keeps the GIL while it waits inside a write. When that wait never ends (after storage
    failures its writer can be left waiting for ever), nothing else in the process runs again: no request, no
    health check, not even the SIGTERM handler. faulthandler's timer is a C thread that needs no GIL: past
    WEDGED_WRITE_SECONDS in writes it prints every thread's stack and exits with status 1, so a supervisor can
    restart the process; the next sync completes what was half-written, as after any crash."""
    global _watching
    stderr = _real_stderr()
    if stderr is None:  # no file to write the stacks to (an embedding host without one): no watchdog
        yield
        return
    with _watch_lock:
        _watching += 1
        if _watching == 1:
            faulthandler.dump_traceback_later(WEDGED_WRITE_SECONDS, exit=True, file=stderr)
    try:
        yield
    finally:
        with _watch_lock:
            _watching -= 1
            if _watching == 0:
                faulthandler.cancel_dump_traceback_later()


def _real_stderr() -> Any:
    """The process's own stderr (sys.stderr may be a test runner's buffer without a file descriptor)."""
    try:
        sys.__stderr__.fileno()  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return None
    return sys.__stderr__
