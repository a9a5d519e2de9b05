"""What routes reach through `Annotated` dependencies: the service, the settings, the metrics, and the guards
(rate limit, API key) the app factory puts on the read and write routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bot.metrics import Metrics
from bot.security import KeyChecker, RateLimiter
from retrieval.core.config import Settings
from retrieval.core.errors import IndexUnavailable
from retrieval.service import Newsdesk

API = "/v1"  # the prefix of every versioned route (on each router: the metrics label routes by their full path)
_bearer = HTTPBearer(auto_error=False, description="an API key from NEWSDESK_API_KEYS")


def get_service(request: Request) -> Newsdesk:
    service: Newsdesk | None = getattr(request.app.state, "service", None)
    if service is None:
        raise IndexUnavailable("the service is still starting; retry in a few seconds")
    return service


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


ServiceDep = Annotated[Newsdesk, Depends(get_service)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
Bearer = Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]


def rate_limit(request: Request) -> None:
    limiter: RateLimiter = request.app.state.limiter
    limiter.hit(request.client.host if request.client else "unknown")


def read_access(request: Request, _: Bearer) -> None:
    """Put on the read routes only when NEWSDESK_REQUIRE_KEY_FOR_READS is set (so the OpenAPI document shows
    the bearer scheme on them only then)."""
    keys: KeyChecker = request.app.state.keys
    keys.check(request.headers.get("authorization"), "reading (NEWSDESK_REQUIRE_KEY_FOR_READS is set)")


def write_access(request: Request, _: Bearer) -> None:
    keys: KeyChecker = request.app.state.keys
    keys.check(request.headers.get("authorization"), "changing the index")
