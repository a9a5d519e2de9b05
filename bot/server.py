"""How uvicorn serves the API: whose word is taken for the client's address, and how long a client may take to
send a request. `newsdesk serve` (so `make run` and the Docker image too) starts uvicorn with these options.

Two of uvicorn's defaults do not suit a public server:
- it believes X-Forwarded-For from 127.0.0.1, so any local client could name its own address (and get a fresh
  rate-limit quota per name); here forwarded headers count only from NEWSDESK_TRUSTED_PROXIES;
- it times out only idle connections between requests: a connection that never sends a whole request (no
  bytes, half the headers, a byte every few seconds, a body shorter than announced) stays open for ever.
  RequestDeadline closes it after NEWSDESK_REQUEST_READ_TIMEOUT seconds, and a request head over
  MAX_HEAD_BYTES gets 431.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol

from retrieval.core.config import Settings

KEEP_ALIVE_SECONDS = 5  # an idle connection between two requests
MAX_HEAD_BYTES = 64 * 1024  # request line and headers
_REQUEST_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
_HEAD_TOO_LARGE_BODY = (
    b'{"error": "request_header_fields_too_large", "message": "the request line and headers are over '
    + str(MAX_HEAD_BYTES).encode()
    + b' bytes; send less in them (put data in the body)"}'
)
_HEAD_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Type: application/json\r\n"
    + b"Content-Length: "
    + str(len(_HEAD_TOO_LARGE_BODY)).encode()
    + b"\r\n\r\n"
    + _HEAD_TOO_LARGE_BODY
)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for uvicorn.run / uvicorn.Config."""
    return {
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": settings.trusted_proxies or [],
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
        "http": request_deadline_protocol(settings.request_read_timeout),
    }


def request_deadline_protocol(seconds: float) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol (httptools, or h11 without it) with a deadline for receiving each request."""
    base: Any = AutoHTTPProtocol
    return type("NewsdeskHTTPProtocol", (RequestDeadline, base), {"read_timeout": seconds})


class RequestDeadline:
    """A mix-in for uvicorn's HTTP protocols (they share the names used here). The clock starts when a
    connection opens, and on a kept-alive one when the next request's first bytes arrive (uvicorn's own
    keep-alive timeout covers the idle time before them). When it runs out, the connection is closed if the
    request's head or body is still incomplete; a request that arrived whole is left to finish."""

    read_timeout: float = 30.0
    # set by the protocol it is mixed into
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    cycle: Any

    _timer: asyncio.TimerHandle | None = None
    _armed_for: Any = None  # the cycle current when the clock started: a new one means a head arrived
    _between_requests = False
    _head_bytes = 0
    _discarding = False  # a refused head: the rest of what the client sends is read and dropped, then it closes

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._start_clock()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_clock()
        super().connection_lost(exc)  # type: ignore[misc]

    def data_received(self, data: bytes) -> None:
        if self._discarding:
            return
        if self._between_requests:
            self._between_requests = False
            self._start_clock()
        if self._waiting_for_head():
            # counted before the parser sees the bytes: a head that arrives whole in one read would otherwise be
            # parsed and answered before it is counted
            end = data.find(b"\r\n\r\n")
            self._head_bytes += len(data) if end < 0 else end + 4
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse_head()
                return
        super().data_received(data)  # type: ignore[misc]

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        if self.cycle is not None and not self.cycle.response_complete:
            self._start_clock()  # a pipelined request has started: its body must arrive in time too
        else:
            self._stop_clock()
            self._between_requests = True

    def _start_clock(self) -> None:
        self._stop_clock()
        self._armed_for, self._head_bytes = self.cycle, 0
        self._timer = self.loop.call_later(self.read_timeout, self._time_is_up)

    def _stop_clock(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _waiting_for_head(self) -> bool:
        return self._timer is not None and self.cycle is self._armed_for

    def _time_is_up(self) -> None:
        self._timer = None
        cycle = self.cycle
        if cycle is self._armed_for and (cycle is None or cycle.response_complete):
            self._close(_REQUEST_TIMEOUT)  # the head never completed
        elif cycle is not None and cycle.more_body and not cycle.response_complete:
            self._close(None)  # the body is still arriving; the app sees a disconnect

    def _refuse_head(self) -> None:
        """431, then the connection closes a moment later: closing at once with the client's bytes still unread
        would reset the connection, and the client would never read the reply."""
        self._stop_clock()
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(_HEAD_TOO_LARGE)
        self._discarding = True
        self.loop.call_later(0.5, self.transport.close)

    def _close(self, reply: bytes | None) -> None:
        self._stop_clock()
        if self.transport.is_closing():
            return
        idle = self.cycle is None or self.cycle.response_complete
        if reply is not None and idle:  # never in the middle of another response
            self.transport.write(reply)
        self.transport.close()
