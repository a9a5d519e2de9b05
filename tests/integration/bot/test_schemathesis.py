"""schemathesis against the app's own OpenAPI document: generated requests, no 5xx, every response matches.

The app is the real one (real model, real Chroma, the shipped corpus) reached in-process over ASGI.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from starlette.types import Receive, Scope, Send

from bot.api import create_app
from retrieval.core.config import Settings
from retrieval.embed.embedder import Embedder
from retrieval.service import Newsdesk
from tests.conftest import CORPUS

pytestmark = pytest.mark.integration

KEY = "schemathesis-key-0123456789"
REFUSED_URL = "http://127.0.0.1:9/never-fetched"  # loopback: refused by the SSRF guard, nothing is sent
MIN_REQUESTS = 1_000
CASES = settings(max_examples=110, deadline=None, suppress_health_check=list(HealthCheck))


def _settings(data_dir: Path, model_cache: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        model_cache_dir=model_cache,
        corpus_dir=CORPUS,
        api_keys=KEY,  # type: ignore[arg-type]
        rate_limit_per_minute=0,
    )


class _RealApp:
    """The ASGI app the cases are sent to: it forwards to the real app, which the fixture builds later."""

    app: FastAPI | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None, "the api_app fixture builds the app before any request"
        await self.app(scope, receive, send)


# The document comes from an app built with the same settings but never started (no model, no index), so
# collecting this module costs nothing; the requests go to the real app built by the fixture below.
REAL_APP = _RealApp()
schema = schemathesis.openapi.from_dict(create_app(_settings(Path("unused"), Path("unused"))).openapi())
schema.app = REAL_APP


@pytest.fixture(scope="module")
def api_app(tmp_path_factory: pytest.TempPathFactory, model_cache: Path, embedder: Embedder) -> FastAPI:
    app_settings = _settings(tmp_path_factory.mktemp("schemathesis-data"), model_cache)
    service = Newsdesk(app_settings, embedder=embedder)
    assert not service.ingest([str(CORPUS)], prune=True).failed
    app = create_app(app_settings, service)
    assert app.openapi() == schema.raw_schema, "the tested app must publish the document the cases come from"
    REAL_APP.app = app
    return app


@schema.parametrize()
@CASES
def test_every_response_matches_the_schema(case: schemathesis.Case, api_app: FastAPI) -> None:
    if isinstance(case.body, dict) and set(case.body) == {"url"}:
        # a generated URL could name any host: the test must never make the server fetch one
        case.body["url"] = REFUSED_URL
    # limits JSON Schema cannot state (README): such a request is refused with 422 by design, so the check that a
    # schema-valid request is accepted does not apply to it
    skip: list[Any] = [positive_data_acceptance] if _beyond_documented_limits(case) else []
    case.call_and_validate(headers={"Authorization": f"Bearer {KEY}"}, excluded_checks=skip)  # no 5xx either


def _beyond_documented_limits(case: schemathesis.Case) -> bool:
    """since after until; an as_of outside the years 1000-8999; a question or topic without a letter or digit; a
    brief's since that reads as no time."""
    body: dict[str, Any] = case.body if isinstance(case.body, dict) else {}
    query: dict[str, Any] = case.query if isinstance(case.query, dict) else {}
    filters: dict[str, Any] = body["filters"] if isinstance(body.get("filters"), dict) else {}
    since = filters.get("since") or query.get("since")
    until = filters.get("until") or query.get("until")
    if isinstance(since, str) and isinstance(until, str) and since[:10] > until[:10]:
        return True
    as_of = body.get("as_of") or query.get("as_of")
    if isinstance(as_of, str) and as_of[:4].isdigit() and not 1000 <= int(as_of[:4]) <= 8999:
        return True
    question = body.get("question") or query.get("q") or body.get("topic") or query.get("topic")  # a topic too
    if isinstance(question, str) and not any(c.isalnum() for c in question):
        return True
    if case.path == "/v1/brief" and isinstance(since, str) and not _readable_since(since):
        return True  # a brief's since in words the service cannot read as a time
    articles: list[Any] = case.body if isinstance(case.body, list) else body.get("articles") or [body]
    return any(isinstance(a, dict) and not _readable_past_date(a.get("published_at")) for a in articles)


def _readable_since(text: str) -> bool:
    try:
        Newsdesk.read_since(text, datetime.now(UTC))
    except ValueError:
        return False
    return True


def _readable_past_date(value: object) -> bool:
    """A published_at the app takes: none, or an ISO date at least in the year 1000 and not in the future."""
    if value in (None, ""):
        return True
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.year >= 1000 and when <= datetime.now(UTC)


def test_the_cases_are_at_least_a_thousand_requests() -> None:
    """The generated test above sends one request per case its strategies give with these settings: counted
    here without sending them, so this test stands alone (it no longer reads what another test left behind)."""
    total = 0
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # the document is the app's own: every one is valid
        seen = 0

        @given(operation.as_strategy())
        @CASES
        def count(case: schemathesis.Case) -> None:
            nonlocal seen
            seen += 1

        count()
        total += seen + len(operation.get_strategies_from_examples())  # the document's own examples are sent too
    assert total >= MIN_REQUESTS, total
