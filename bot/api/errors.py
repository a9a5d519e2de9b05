"""The one error handler: every failure leaves as {"error": code, "message": text}, never a stack trace; a
validation error says, in words, which field of the shape the client meant is wrong and why."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from bot.api.schemas.common import NOT_BLANK
from retrieval.core.errors import NewsdeskError
from retrieval.core.types import IngestReport

log = logging.getLogger(__name__)

HANDLED = (NewsdeskError, RequestValidationError, StarletteHTTPException, Exception)
_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
}

async def handle_error(request: Request, exc: Exception) -> JSONResponse:
    """The one error handler: every failure becomes {"error": code, "message": text}, never a stack trace."""
    headers: dict[str, str] | None = None
    extra: dict[str, Any] = {}
    if isinstance(exc, NewsdeskError):
        status, code, message = exc.status_code, exc.code, exc.message
        headers = getattr(exc, "headers", None)
        if getattr(exc, "job_id", None):
            extra["job_id"] = exc.job_id  # type: ignore[attr-defined]
        if isinstance(getattr(exc, "report", None), IngestReport):
            extra["report"] = exc.report.model_dump(mode="json")  # type: ignore[attr-defined]  # what was saved
    elif isinstance(exc, sqlite3.Error):  # the lexical file locked or damaged under a running server
        log.warning("lexical index error on %s %s: %s", request.method, request.url.path, exc)
        status, code = 503, "index_unavailable"
        message = (
            f"the lexical index cannot be read now ({exc}); POST /v1/reindex or a restart rebuilds it from the "
            "chunks"
        )
    elif isinstance(exc, RequestValidationError):
        status, code, message = 422, "invalid_input", _validation_message(exc)
    elif isinstance(exc, StarletteHTTPException):
        status, code = exc.status_code, _STATUS_CODES.get(exc.status_code, "http_error")
        headers = dict(exc.headers) if exc.headers else None
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            # FastAPI's answer to a body json.loads could not take (not UTF-8, nested too deep): a 422 that says why
            status, code = 422, "invalid_input"
            message = _unparsable_body_message(exc.__cause__)
        elif exc.status_code == 404 and exc.detail == "Not Found":
            message = f"no such route: {request.method} {request.url.path} (the API is described at /docs)"
        elif exc.status_code == 405:
            allowed = _allowed_methods(request, headers or {})
            headers = {"Allow": allowed}
            message = f"{request.method} is not allowed on {request.url.path}; it takes {allowed}"
        else:
            message = str(exc.detail)
    else:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        status, code = 500, "internal_error"
        message = "something went wrong on the server; it has been logged, try again or report it"
    return JSONResponse({"error": code, "message": message, **extra}, status_code=status, headers=headers)


_METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request, raised: dict[str, str]) -> str:
    """Every method some route serves at this path: Starlette names only the first partly matching route's
    (GET and POST /v1/articles are two routes), and routers included in FastAPI's way carry no `methods`.
    Each method is tried against the routes; a mount (the static files) says for itself what it takes."""
    methods = {m.strip() for m in raised.get("Allow", "").split(",") if m.strip()}
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(not isinstance(route, Mount) and route.matches(scope)[0] is Match.FULL for route in request.app.routes):
            methods.add(method)
    return ", ".join(sorted(methods))


def _unparsable_body_message(cause: BaseException | None) -> str:
    if isinstance(cause, RecursionError):
        return "the request body is nested too deeply to read; send articles as flat JSON objects"
    if isinstance(cause, UnicodeDecodeError):
        return "the request body is not UTF-8: send UTF-8 encoded JSON"
    return "the request body could not be read as JSON: send UTF-8 encoded JSON"


_ARTICLE_BODIES = {"ArticleIn", "list[ArticleIn]", "UrlIn"}  # the shapes POST /v1/articles takes
_PATTERN_HINTS = {  # what a field's pattern asks for, in words
    "url": "must be an http(s) URL such as https://example.com/news/story.html",
    "id": "may hold only letters, digits and . _ : - (1 to 128 of them)",
}


def _validation_message(exc: RequestValidationError) -> str:
    errors = list(exc.errors())
    if errors and errors[0].get("type") == "json_invalid":
        why = str(errors[0].get("ctx", {}).get("error", "syntax error"))
        return (
            f"the request body is not valid JSON ({why[:1].lower()}{why[1:]} at character {errors[0]['loc'][-1]}); "
            "check its quotes, commas and brackets"
        )
    chosen = _errors_of_the_shape_sent(errors, exc.body)
    if chosen is None:
        return 'the body must be an article object, a list of them, or {"url": ...}'
    parts = list(dict.fromkeys(_error_text(error) for error in chosen))  # once each, in order
    more = len(parts) - 5
    return "; ".join(parts[:5]) + (f" (and {more} more)" if more > 0 else "")


def _errors_of_the_shape_sent(errors: list[dict[str, Any]], body: Any) -> list[dict[str, Any]] | None:
    """A body that matches none of a union's shapes fails each of them; report only the errors of the shape
    the client evidently meant (a list, {"url"} alone, or an article). None: the body has none of the shapes."""
    shapes = {e["loc"][1] for e in errors if len(e["loc"]) > 1 and e["loc"][0] == "body"} & _ARTICLE_BODIES
    if len(shapes) < 2:
        return errors
    if isinstance(body, list):
        meant = "list[ArticleIn]"
    elif isinstance(body, dict):
        meant = "UrlIn" if "url" in body and "body" not in body else "ArticleIn"
    else:
        return None
    return [{**e, "loc": ("body", *e["loc"][2:])} for e in errors if e["loc"][1:2] == (meant,)]


def _error_text(error: dict[str, Any]) -> str:
    loc = tuple(error.get("loc", ()))
    path = ""
    for part in loc[1:] if loc[:1] == ("body",) else loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    where = path or "the body"
    kind = error.get("type")
    if kind == "missing":
        return f"{where} is required"
    if kind == "extra_forbidden":
        return f"{where} is not a field here"
    if kind == "string_pattern_mismatch":
        if error.get("ctx", {}).get("pattern") == NOT_BLANK:
            return f"{where} must not be blank"
        if loc and loc[-1] in _PATTERN_HINTS:
            return f"{where} {_PATTERN_HINTS[str(loc[-1])]}"
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return f"{where} must be a JSON object"
    return f"{where}: {error.get('msg', 'invalid')}"
