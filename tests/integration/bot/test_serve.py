"""`newsdesk serve` as deployed: which client address the rate limit counts (X-Forwarded-For is believed only
from NEWSDESK_TRUSTED_PROXIES), and connections that send half a request are closed, not kept forever."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from retrieval.embed.embedder import Embedder
from tests.conftest import ROOT, subprocess_env
from tests.support.chroma_server import newsdesk_executable

pytestmark = pytest.mark.integration

READ_TIMEOUT = 1.0  # NEWSDESK_REQUEST_READ_TIMEOUT for these servers


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(data_dir: Path, **env: str) -> Iterator[tuple[str, int]]:
    port = _free_port()
    log = (data_dir.parent / f"serve-{port}.log").open("w")
    process = subprocess.Popen(
        [newsdesk_executable(), "serve", "--port", str(port)],
        cwd=ROOT,
        env=subprocess_env(
            data_dir, NEWSDESK_SENTENCE_VECTORS="false", NEWSDESK_REQUEST_READ_TIMEOUT=str(READ_TIMEOUT), **env
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, (data_dir.parent / f"serve-{port}.log").read_text()[-3000:]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield "127.0.0.1", port
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[tuple[str, int]]:
    with serve(tmp_path_factory.mktemp("serve") / "data", NEWSDESK_RATE_LIMIT_PER_MINUTE="3") as address:
        yield address


def _stats(address: tuple[str, int], forwarded_for: str) -> int:
    url = f"http://{address[0]}:{address[1]}/v1/stats"
    return httpx.get(url, headers={"X-Forwarded-For": forwarded_for}, timeout=10).status_code


# ------------------------------------------------------------------ whose address is counted


def test_forwarded_for_does_not_buy_a_fresh_quota(server: tuple[str, int]) -> None:
    statuses = [_stats(server, f"203.0.113.{i}") for i in range(1, 5)]
    assert statuses == [200, 200, 200, 429]


def test_a_trusted_proxy_has_its_clients_counted_apart(tmp_path: Path, embedder: Embedder) -> None:
    with serve(tmp_path / "data", NEWSDESK_RATE_LIMIT_PER_MINUTE="3", NEWSDESK_TRUSTED_PROXIES="127.0.0.1") as address:
        assert [_stats(address, f"203.0.113.{i}") for i in range(1, 6)] == [200] * 5
        assert [_stats(address, "198.51.100.7") for _ in range(4)] == [200, 200, 200, 429]


def test_a_malformed_trusted_proxy_setting_stops_the_start(tmp_path: Path, embedder: Embedder) -> None:
    result = subprocess.run(
        [newsdesk_executable(), "serve", "--port", str(_free_port())],
        cwd=ROOT,
        env=subprocess_env(tmp_path / "data", NEWSDESK_TRUSTED_PROXIES="10.0.0.1,not-an-address"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "NEWSDESK_TRUSTED_PROXIES" in result.stderr and "not-an-address" in result.stderr


# ------------------------------------------------------------------ half-sent requests


def _closed_within(sock: socket.socket, seconds: float) -> tuple[bytes, float]:
    """Read until the server closes the connection; what it sent, and when it closed."""
    start = time.monotonic()
    sock.settimeout(seconds)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except TimeoutError:
        pytest.fail(f"the connection was still open after {seconds} s (received {received[:200]!r})")
    except ConnectionResetError:
        pass
    return received, time.monotonic() - start


@pytest.mark.parametrize(
    "sent",
    [
        b"",  # connected, then nothing
        b"GET /healthz HTTP/1.1\r\nHost: newsdesk\r\n",  # the headers never end
    ],
)
def test_a_request_head_that_never_completes_is_closed(server: tuple[str, int], sent: bytes) -> None:
    with socket.create_connection(server) as sock:
        sock.sendall(sent)
        received, _ = _closed_within(sock, READ_TIMEOUT + 3)
    assert received == b"" or received.startswith(b"HTTP/1.1 408 "), received


def test_a_head_sent_a_byte_at_a_time_is_closed_at_the_deadline(server: tuple[str, int]) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: newsdesk\r\n" + b"X-Slow: " + b"a" * 200
    with socket.create_connection(server) as sock:
        start = time.monotonic()
        try:
            for byte in request:
                sock.sendall(bytes([byte]))
                time.sleep(0.05)
        except OSError:
            pass  # closed while we were still sending: what should happen
        elapsed = time.monotonic() - start
        assert elapsed < READ_TIMEOUT + 3, "the server kept reading a dripping request head"
        _closed_within(sock, READ_TIMEOUT + 3)


def test_a_body_that_never_arrives_is_closed(server: tuple[str, int]) -> None:
    head = b"POST /v1/ask HTTP/1.1\r\nHost: newsdesk\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"
    with socket.create_connection(server) as sock:
        sock.sendall(head + b'{"question": "wh')
        _closed_within(sock, READ_TIMEOUT + 3)


def test_an_endless_request_head_is_refused(server: tuple[str, int]) -> None:
    with socket.create_connection(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: newsdesk\r\n")
        try:
            for _ in range(64):
                sock.sendall(b"X-Filler: " + b"f" * 4_000 + b"\r\n")
        except OSError:
            pass
        received, elapsed = _closed_within(sock, READ_TIMEOUT + 3)
    assert received.startswith(b"HTTP/1.1 431 ") or received == b"", received[:100]


def test_whole_requests_on_a_kept_alive_connection_still_work(server: tuple[str, int]) -> None:
    with httpx.Client(base_url=f"http://{server[0]}:{server[1]}") as client:
        for _ in range(2):
            assert client.get("/healthz").status_code == 200
            time.sleep(READ_TIMEOUT * 1.5)  # longer than the read timeout, shorter than keep-alive
        assert client.get("/healthz").status_code == 200


def test_a_request_head_over_the_limit_sent_at_once_gets_431_with_a_json_body(server: tuple[str, int]) -> None:
    """Issue 25, item 20: a 100 kB head that arrives whole is refused too, with the JSON error shape."""
    head = b"GET /healthz HTTP/1.1\r\nHost: newsdesk\r\nX-Big: " + b"b" * 100_000 + b"\r\n\r\n"
    with socket.create_connection(server) as sock:
        try:
            sock.sendall(head)
        except OSError:
            pass
        received, _ = _closed_within(sock, READ_TIMEOUT + 3)
    assert received.startswith(b"HTTP/1.1 431 "), received[:200]
    status, _, body = received.partition(b"\r\n\r\n")
    assert b"application/json" in status and b'"error": "request_header_fields_too_large"' in body
