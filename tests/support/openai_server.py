"""A scripted OpenAI-compatible chat-completions server on loopback, for tests of the LLM path.

Standard library only: a ``ThreadingHTTPServer`` runs in a background thread on 127.0.0.1 and a free
port. Nothing here touches the internet.

Usage::

    with ScriptedOpenAIServer(default="Hello") as server:
        server.enqueue(Delay(5.0), HttpError(500), Reply(lambda req: req["messages"][-1]["content"]))
        llm = ChatOpenAI(base_url=server.base_url, api_key="test", model="test-model", max_retries=0)
        ...
        assert server.chat_requests[0].messages[-1]["role"] == "user"

Each ``POST /v1/chat/completions`` consumes the next queued behaviour (FIFO); once the queue is empty
the server's default behaviour answers. Behaviours:

* ``Reply(text)`` -- answer with a fixed text, or ``Reply(fn)`` with ``fn(request_json) -> str``.
  A plain ``str`` or callable passed where a behaviour is expected is wrapped in ``Reply``.
* ``Delay(seconds, then=None)`` -- wait (interruptibly: ``stop()`` cuts the wait short), then perform
  ``then`` (the server default when ``None``).
* ``HttpError(status=500, message=..., type=..., code=...)`` -- an OpenAI-style error JSON body.
* ``Disconnect(partial_text=None, reset=False)`` -- close the connection without (completing) a
  response; with ``partial_text`` on a streaming request, a few chunks are sent first.

Both ``stream: false`` (one ``chat.completion`` JSON) and ``stream: true`` (Server-Sent Events of
``chat.completion.chunk`` objects, a final chunk with ``finish_reason: "stop"``, an optional usage
chunk when ``stream_options.include_usage`` is set, then ``data: [DONE]``) are supported, as is
``GET /v1/models``.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

__all__ = [
    "Behaviour",
    "BehaviourLike",
    "Delay",
    "Disconnect",
    "HttpError",
    "RecordedRequest",
    "Reply",
    "ScriptedOpenAIServer",
    "openai_server",
    "split_into_chunks",
]

TextSource = str | Callable[[dict[str, Any]], str]


@dataclass(frozen=True)
class Reply:
    """Answer normally. ``text`` is fixed, or computed from the parsed request JSON.

    ``chunk_size``: when streaming, split the text into pieces of this many characters (default: one
    piece per word, trailing whitespace attached). ``chunk_delay``: seconds between streamed chunks.
    ``finish_reason`` is reported on the final choice / chunk.
    """

    text: TextSource
    chunk_size: int | None = None
    chunk_delay: float = 0.0
    finish_reason: str = "stop"

    def render(self, request: dict[str, Any]) -> str:
        return self.text(request) if callable(self.text) else self.text


@dataclass(frozen=True)
class Delay:
    """Wait ``seconds`` (cut short by ``stop()``), then perform ``then`` (server default if None)."""

    seconds: float
    then: BehaviourLike | None = None


@dataclass(frozen=True)
class HttpError:
    """Reply with an HTTP error status and an OpenAI-style ``{"error": {...}}`` body."""

    status: int = 500
    message: str = "The server had an error while processing your request."
    type: str = "server_error"
    code: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": None, "code": self.code}}


@dataclass(frozen=True)
class Disconnect:
    """Close the connection abruptly.

    Without ``partial_text`` nothing is sent at all. With ``partial_text`` and a streaming request, the
    SSE headers and the chunks of ``partial_text`` are sent, then the connection is cut before the
    final chunk and ``[DONE]``. ``reset=True`` sends a TCP RST instead of a FIN.
    """

    partial_text: str | None = None
    reset: bool = False


Behaviour = Reply | Delay | HttpError | Disconnect
BehaviourLike = Behaviour | str | Callable[[dict[str, Any]], str]


def _coerce(behaviour: BehaviourLike) -> Behaviour:
    if isinstance(behaviour, Reply | Delay | HttpError | Disconnect):
        return behaviour
    if isinstance(behaviour, str) or callable(behaviour):
        return Reply(behaviour)
    raise TypeError(f"not a behaviour: {behaviour!r}")


_WORD_PIECES = re.compile(r"\s*\S+\s*|\s+")


def split_into_chunks(text: str, chunk_size: int | None = None) -> list[str]:
    """Split ``text`` into streaming pieces that join back to exactly ``text``."""
    if not text:
        return []
    if chunk_size is not None:
        if chunk_size < 1:
            raise ValueError("chunk_size must be >= 1")
        return [text[i : i + chunk_size] for i in range(0, len(text), chunk_size)]
    pieces = _WORD_PIECES.findall(text)
    if len(pieces) == 1 and len(text) > 1:
        # A single word still streams in more than one chunk.
        half = len(text) // 2
        pieces = [text[:half], text[half:]]
    return pieces


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request the server received. ``headers`` keys are lower-cased."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any
    raw_body: bytes
    received_at: float

    @property
    def messages(self) -> list[dict[str, Any]]:
        if isinstance(self.json, dict):
            messages = self.json.get("messages")
            if isinstance(messages, list):
                return messages
        return []

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")

    @property
    def stream(self) -> bool:
        return isinstance(self.json, dict) and bool(self.json.get("stream"))

    @property
    def model(self) -> str | None:
        return self.json.get("model") if isinstance(self.json, dict) else None

    def text(self) -> str:
        """All message contents concatenated (string contents and text parts), one per line."""
        return _prompt_text(self.json)


def _prompt_text(request: Any) -> str:
    messages = request.get("messages") if isinstance(request, dict) else None
    out: list[str] = []
    for message in messages if isinstance(messages, list) else []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            out.append(content)
        elif isinstance(content, list):
            out.extend(
                str(part.get("text", "")) for part in content if isinstance(part, dict) and part.get("type") == "text"
            )
    return "\n".join(out)


class _Abort(Exception):
    """Raised inside a handler to drop the connection without a response."""


def _count_tokens(text: str) -> int:
    return len(text.split())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ScriptedOpenAI/1.0"
    server: _Server
    timeout = 30.0  # idle keep-alive connections give up eventually

    # -- plumbing -------------------------------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        self.server.owner._track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.owner._untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except _Abort:
            self.close_connection = True
        except (ConnectionError, TimeoutError, OSError):
            # The client went away (e.g. it timed out during a Delay) or stop() shut the socket.
            self.close_connection = True

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _record(self, body: bytes) -> RecordedRequest:
        parsed: Any = None
        if body:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        recorded = RecordedRequest(
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            json=parsed,
            raw_body=body,
            received_at=time.monotonic(),
        )
        self.server.owner._record(recorded)
        return recorded

    def _send_json(self, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:16]}")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _send_error_json(self, error: HttpError) -> None:
        headers = dict(error.headers)
        # Tell the openai client not to retry on its own; tests control retries explicitly.
        headers.setdefault("x-should-retry", "false")
        self._send_json(error.status, error.body(), headers)

    def _abort(self, reset: bool) -> None:
        if reset:
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        else:
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        raise _Abort

    # -- routes ---------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._record(b"")
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/v1/models":
            owner = self.server.owner
            self._send_json(
                200,
                {
                    "object": "list",
                    "data": [
                        {"id": m, "object": "model", "created": owner.created, "owned_by": "newsdesk-tests"}
                        for m in owner.models
                    ],
                },
            )
        else:
            self._not_found()

    def do_POST(self) -> None:
        body = self._read_body()
        recorded = self._record(body)
        path = self.path.split("?", 1)[0].rstrip("/")
        if path != "/v1/chat/completions":
            self._not_found()
            return
        if not isinstance(recorded.json, dict):
            self._send_error_json(
                HttpError(400, "Request body is not a JSON object.", "invalid_request_error", "invalid_json")
            )
            return
        owner = self.server.owner
        self._perform(owner._next_behaviour(), recorded.json)

    def _not_found(self) -> None:
        self._send_error_json(HttpError(404, f"Unknown path {self.path!r}.", "invalid_request_error", "unknown_url"))

    # -- behaviours -----------------------------------------------------------------------------

    def _perform(self, behaviour: Behaviour, request: dict[str, Any]) -> None:
        owner = self.server.owner
        if isinstance(behaviour, Delay):
            if owner._stopping.wait(behaviour.seconds):
                self._abort(reset=False)
            self._perform(_coerce(behaviour.then) if behaviour.then is not None else owner._default, request)
        elif isinstance(behaviour, HttpError):
            self._send_error_json(behaviour)
        elif isinstance(behaviour, Disconnect):
            if behaviour.partial_text is not None and request.get("stream"):
                self._stream(Reply(behaviour.partial_text), behaviour.partial_text, request, cut=behaviour)
            self._abort(behaviour.reset)
        else:
            try:
                text = behaviour.render(request)
            except Exception as exc:  # a test's callable failed: surface it, don't hang the client
                owner._record_error(exc)
                self._send_error_json(HttpError(500, f"scripted reply raised {exc!r}"))
                return
            if request.get("stream"):
                self._stream(behaviour, text, request)
            else:
                self._complete(behaviour, text, request)

    def _usage(self, request: dict[str, Any], text: str) -> dict[str, int]:
        prompt_tokens, completion_tokens = _count_tokens(_prompt_text(request)), _count_tokens(text)
        return {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }

    def _complete(self, reply: Reply, text: str, request: dict[str, Any]) -> None:
        owner = self.server.owner
        payload = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model") or owner.models[0],
            "system_fingerprint": "fp_scripted",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": reply.finish_reason,
                }
            ],
            "usage": self._usage(request, text),
        }
        self._send_json(200, payload)

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%X\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _stream(self, reply: Reply, text: str, request: dict[str, Any], cut: Disconnect | None = None) -> None:
        owner = self.server.owner
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())
        model = request.get("model") or owner.models[0]
        stream_options = request.get("stream_options")
        include_usage = isinstance(stream_options, dict) and bool(stream_options.get("include_usage"))

        def event(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
            chunk: dict[str, Any] = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_scripted",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
            }
            if include_usage:
                chunk["usage"] = None
            return f"data: {json.dumps(chunk)}\n\n".encode()

        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:16]}")
        self.end_headers()
        self.wfile.flush()

        self._write_chunk(event({"role": "assistant", "content": "", "refusal": None}))
        for piece in split_into_chunks(text, reply.chunk_size):
            if reply.chunk_delay > 0 and owner._stopping.wait(reply.chunk_delay):
                self._abort(reset=False)
            self._write_chunk(event({"content": piece}))
        if cut is not None:
            return
        self._write_chunk(event({}, reply.finish_reason))
        if include_usage:
            usage_chunk: dict[str, Any] = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_scripted",
                "choices": [],
                "usage": self._usage(request, text),
            }
            self._write_chunk(f"data: {json.dumps(usage_chunk)}\n\n".encode())
        self._write_chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, address: tuple[str, int], owner: ScriptedOpenAIServer) -> None:
        self.owner = owner
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Connection-level errors are expected (timeouts, aborts); anything else is kept for tests.
        exc = sys.exc_info()[1]
        if exc is not None and not isinstance(exc, OSError | _Abort):
            self.owner._record_error(exc)


class ScriptedOpenAIServer:
    """An OpenAI-compatible chat server on 127.0.0.1 whose answers are scripted by the test.

    ``default`` answers every chat completion once the ``enqueue``-d behaviours are used up.
    ``models`` are listed by ``GET /v1/models`` (the first one is echoed when a request has no model).
    """

    def __init__(
        self,
        default: BehaviourLike = "OK",
        *,
        models: Iterable[str] = ("test-model",),
        host: str = "127.0.0.1",
    ) -> None:
        self._default: Behaviour = _coerce(default)
        self.models: tuple[str, ...] = tuple(models) or ("test-model",)
        self.host = host
        self.created = int(time.time())
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._queue: deque[Behaviour] = deque()
        self._requests: list[RecordedRequest] = []
        self._errors: list[BaseException] = []
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> ScriptedOpenAIServer:
        if self._server is not None:
            raise RuntimeError("server already started")
        self._stopping.clear()
        self._server = _Server((self.host, 0), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"scripted-openai-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; in-flight delays are cut short and open connections are closed (~immediate)."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if thread is not None:
            thread.join(timeout=1.0)
        self._server = None
        self._thread = None

    def __enter__(self) -> ScriptedOpenAIServer:
        return self.start() if self._server is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("server not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """OpenAI ``base_url``, e.g. ``http://127.0.0.1:PORT/v1``."""
        return f"{self.url}/v1"

    # -- scripting ------------------------------------------------------------------------------

    @property
    def default(self) -> Behaviour:
        return self._default

    def set_default(self, behaviour: BehaviourLike) -> None:
        """Behaviour used for chat completions when the queue is empty."""
        with self._lock:
            self._default = _coerce(behaviour)

    def enqueue(self, *behaviours: BehaviourLike) -> None:
        """Append behaviours consumed one per chat completion request, in order."""
        coerced = [_coerce(b) for b in behaviours]
        with self._lock:
            self._queue.extend(coerced)

    @property
    def pending(self) -> int:
        """How many queued behaviours have not been used yet."""
        with self._lock:
            return len(self._queue)

    def reset(self) -> None:
        """Forget queued behaviours, recorded requests and errors (the default is kept)."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self._errors.clear()

    # -- inspection -----------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Snapshot of every request received, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """Snapshot of the ``POST .../chat/completions`` requests only."""
        return [r for r in self.requests if r.method == "POST" and "/chat/completions" in r.path]

    @property
    def last_request(self) -> RecordedRequest:
        with self._lock:
            if not self._requests:
                raise AssertionError("the scripted OpenAI server received no request")
            return self._requests[-1]

    @property
    def errors(self) -> list[BaseException]:
        """Unexpected exceptions raised while serving (e.g. a scripted callable that failed)."""
        with self._lock:
            return list(self._errors)

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until at least ``count`` requests arrived; raise ``TimeoutError`` otherwise."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._requests) >= count, timeout=timeout):
                raise TimeoutError(f"expected {count} requests, got {len(self._requests)}")
            return list(self._requests)

    # -- handler callbacks ----------------------------------------------------------------------

    def _next_behaviour(self) -> Behaviour:
        with self._lock:
            return self._queue.popleft() if self._queue else self._default

    def _record(self, request: RecordedRequest) -> None:
        with self._changed:
            self._requests.append(request)
            self._changed.notify_all()

    def _record_error(self, exc: BaseException) -> None:
        with self._lock:
            self._errors.append(exc)

    def _track(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.add(conn)

    def _untrack(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.discard(conn)


def openai_server(default: BehaviourLike = "OK", **kwargs: Any) -> ScriptedOpenAIServer:
    """Return a started ``ScriptedOpenAIServer`` (the caller, usually a fixture, must ``stop()`` it)."""
    return ScriptedOpenAIServer(default, **kwargs).start()
