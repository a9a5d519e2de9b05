"""The OpenAPI document: error responses described once, and the limits that come from settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from bot.api.schemas.common import LIMIT, ErrorResponse
from retrieval.core.config import Settings

_DESCRIPTIONS = {
    401: "No API key was sent (`Authorization: Bearer KEY`)",
    403: "The API key is wrong, none is configured on the server, or the URL is not allowed",
    404: "Not found",
    409: "A re-index is already running; `job_id` names it",
    413: "The request body is over NEWSDESK_MAX_BODY_BYTES",
    422: "The request is not valid; `message` says which field and why",
    429: "Too many requests from this client; wait `Retry-After` seconds",
    503: "The index cannot be reached",
    507: "The data directory cannot be written",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for routes and routers: each code with the one error shape."""
    return {code: {"model": ErrorResponse, "description": _DESCRIPTIONS[code]} for code in codes}


def read_errors(settings: Settings) -> dict[int | str, dict[str, Any]]:
    return errors(*((401, 403) if settings.require_key_for_reads else ()), 413, 422, 429, 503)


def write_errors() -> dict[int | str, dict[str, Any]]:
    return errors(401, 403, 413, 422, 429, 503, 507)


def openapi_with_limits(app: FastAPI, settings: Settings) -> Callable[[], dict[str, Any]]:
    """The generated document, where every schema a route or model marked with {LIMIT: "a_setting"} gets that
    setting's value as maxLength (the settings are not known when the routes are declared)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes, tags=None
        )
        _fill_limits(schema, settings)
        app.openapi_schema = schema
        return schema

    return openapi


def _fill_limits(node: Any, settings: Settings) -> None:
    if isinstance(node, dict):
        if isinstance(node.get(LIMIT), str):
            node["maxLength"] = getattr(settings, node.pop(LIMIT))
        for value in node.values():
            _fill_limits(value, settings)
    elif isinstance(node, list):
        for value in node:
            _fill_limits(value, settings)
