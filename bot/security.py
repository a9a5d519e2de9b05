"""Guards of the HTTP API: API keys, a per-client rate limit, the request body limit (URL checks against SSRF
are the facade's, on every face: `Newsdesk.add_url`)."""

from __future__ import annotations

import hmac
import math
import threading
import time
from collections import OrderedDict

from pydantic import SecretStr
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from retrieval.core.errors import Forbidden, NewsdeskError


class Unauthorized(NewsdeskError):
    status_code = 401
    code = "unauthorized"
    headers = {"WWW-Authenticate": "Bearer"}


class RateLimited(NewsdeskError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


class BodyTooLarge(HTTPException):
    """Raised from `receive` while the body is read; FastAPI re-raises HTTPExceptions to the error handler."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            status_code=413,
            detail=f"the request body is over the {limit:,}-byte limit (NEWSDESK_MAX_BODY_BYTES); "
            "send fewer articles per request",
        )


# ---------------------------------------------------------------- API keys


class KeyChecker:
    """Bearer keys compared in constant time. No key configured means writes are refused, not open."""

    def __init__(self, keys: list[SecretStr]) -> None:
        self._keys = [k.get_secret_value().encode() for k in keys if k.get_secret_value()]

    def check(self, authorization: str | None, action: str) -> None:
        if not self._keys:
            raise Forbidden(
                f"{action} needs an API key, and this server has none configured: "
                "set NEWSDESK_API_KEYS (comma-separated) and send 'Authorization: Bearer KEY'"
            )
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized(f"{action} needs an API key: send 'Authorization: Bearer KEY'")
        given = token.strip().encode()
        # compare against every key (no early exit), so timing does not tell which key nearly matched
        matched = False
        for key in self._keys:
            matched |= hmac.compare_digest(given, key)
        if not matched:
            raise Forbidden("the API key is not valid: check NEWSDESK_API_KEYS on the server")


# ---------------------------------------------------------------- rate limit


class RateLimiter:
    """A token bucket per client: `per_minute` requests, refilled continuously. 0 turns it off."""

    def __init__(self, per_minute: int, max_clients: int = 10_000) -> None:
        self.per_minute = per_minute
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (tokens, stamp)
        self._lock = threading.Lock()

    def hit(self, client: str, now: float | None = None) -> None:
        if self.per_minute <= 0:
            return
        now = time.monotonic() if now is None else now
        rate = self.per_minute / 60.0
        with self._lock:
            tokens, stamp = self._buckets.pop(client, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - stamp) * rate)
            if tokens < 1.0:
                self._buckets[client] = (tokens, now)
                retry_after = max(1, math.ceil((1.0 - tokens) / rate))
                raise RateLimited(
                    f"too many requests: the limit is {self.per_minute} a minute per client "
                    f"(NEWSDESK_RATE_LIMIT_PER_MINUTE); retry in {retry_after} s",
                    retry_after,
                )
            self._buckets[client] = (tokens - 1.0, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)


# ---------------------------------------------------------------- body size


class BodySizeLimit:
    """ASGI middleware: a declared Content-Length over the limit, or a body that grows past it, gets 413."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        received = 0

        async def limited() -> Message:
            nonlocal received
            if declared is not None and declared > self.max_bytes:
                raise BodyTooLarge(self.max_bytes)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, limited, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
