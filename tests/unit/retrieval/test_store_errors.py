"""How Chroma failures reach the user: each becomes IndexUnavailable (503) or StorageError (507) with a
message that says what to do; the Chroma URL is checked before anything is sent."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
from chromadb.errors import InternalError

from retrieval.core.errors import IndexUnavailable, StorageError
from retrieval.storage.chroma_client import make_client
from retrieval.storage.chroma_faults import chroma_errors as _chroma_errors
from retrieval.storage.chroma_faults import storage_trouble

WHERE = "the Chroma server at http://127.0.0.1:9"


def test_a_timeout_says_the_server_did_not_answer() -> None:
    with pytest.raises(IndexUnavailable, match="did not answer in time while trying to search") as caught:
        with _chroma_errors("search", WHERE):
            raise httpx.ReadTimeout("timed out")
    assert WHERE in caught.value.message and caught.value.status_code == 503


@pytest.mark.parametrize(
    "error", [httpx.ConnectError("refused"), httpx.RemoteProtocolError("Server disconnected"), httpx.ReadError("")]
)
def test_a_lost_connection_says_start_the_server_again(error: Exception) -> None:
    with pytest.raises(IndexUnavailable, match="unreachable while trying to write chunks") as caught:
        with _chroma_errors("write chunks", WHERE):
            raise error
    assert "reconnects by itself" in caught.value.message


def test_os_errors_and_disk_words_become_storage_errors() -> None:
    with pytest.raises(StorageError, match="free some space"):
        with _chroma_errors("write chunks"):
            raise OSError(28, "No space left on device")
    with pytest.raises(StorageError, match="full or read-only") as caught:
        with _chroma_errors("write chunks"):
            raise InternalError("database or disk is full")
    assert caught.value.status_code == 507


def test_a_vague_embedded_error_is_checked_against_the_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Embedded Chroma reports a full disk as "Error in compaction"; the folder tells us what happened."""
    with pytest.raises(InternalError):  # the disk is fine: the error passes through unchanged
        with _chroma_errors("write chunks", "the Chroma index", tmp_path):
            raise InternalError("Error in compaction: Failed to apply logs to the metadata segment")

    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage._replace(free=4096))
    assert (storage_trouble(tmp_path) or "").startswith("only 4 KiB free where")
    with pytest.raises(StorageError, match="only 4 KiB free"):
        with _chroma_errors("write chunks", "the Chroma index", tmp_path):
            raise InternalError("Error in compaction: Failed to apply logs to the metadata segment")


def test_other_errors_pass_through() -> None:
    with pytest.raises(ValueError, match="bad where"):
        with _chroma_errors("search", WHERE):
            raise ValueError("bad where")


@pytest.mark.parametrize("url", ["localhost:8000", "ftp://host:8000", "http://"])
def test_a_malformed_chroma_url_is_refused_before_any_request(tmp_path: Path, url: str) -> None:
    with pytest.raises(ValueError, match="must look like http://host:8000"):
        make_client(tmp_path, url)


def test_an_unwritable_data_dir_is_refused_at_start(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data directory should be")
    with pytest.raises(StorageError, match="not writable") as caught:
        make_client(blocker)
    assert "NEWSDESK_DATA_DIR" in caught.value.message
